"""Analyse files and report each as it comes (analyze, record): the report or a JSON line on
stdout, progress and errors on stderr, the attempt saved, and an `Outcome` for the exit code."""

from __future__ import annotations

import json
import sys
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import click

from .cli_common import State, fail_line
from .errors import SpeechcoachError
from .outcome import Outcome, Terminated
from .result import AnalysisResult


class terminate_as_interrupt:
    """SIGTERM raises `Terminated` (a KeyboardInterrupt) while a batch runs."""

    def __enter__(self):
        import signal

        def stop(signum, frame):
            raise Terminated()

        self.previous = signal.signal(signal.SIGTERM, stop)
        return self

    def __exit__(self, *exc):
        import signal

        signal.signal(signal.SIGTERM, self.previous)


class Batch:
    """One run of `analyze` (or `record`'s analysis): what to do with each result."""

    def __init__(
        self,
        state: State,
        files: list[Path],
        *,
        as_json: bool,
        save: bool,
        label: str | None,
        new_attempt: bool = False,
        summary=None,
        html_dir: Path | None = None,
        failures: list | None = None,
    ):
        self.state, self.files, self.as_json = state, files, as_json
        self.save, self.label, self.new_attempt = save, label, new_attempt
        self.summary, self.html_dir, self.failures = summary, html_dir, failures
        self.records = summary.records if summary is not None else []
        self.outcome = Outcome(total=len(files))


def analyze_and_report(batch: Batch, analyzer, *, jobs: int = 1, cluster=None) -> Outcome:
    """Analyse the files (in order), print each report or JSON line, and return the outcome.
    `batch.failures` (a list) collects the FileResult of each file that could not be analysed."""
    from .batch import analyze_files

    if cluster is None:
        _report_all(batch, analyze_files(batch.files, analyzer, jobs=jobs))
    else:
        _analyze_on_cluster(batch, cluster, analyzer.options)
    if batch.summary is not None and not write_summary(batch.state, batch.summary):
        batch.outcome.unsaved += 1
    return batch.outcome


def _analyze_on_cluster(batch: Batch, cluster, options) -> None:
    """The same batch, its files analysed by the workers of a Dask cluster (see cluster.py)."""
    from .cluster import open_cluster

    try:
        with open_cluster(cluster, options) as running:
            click.echo(running.describe(), err=True)
            _report_all(batch, running.analyze(batch.files))
    except KeyboardInterrupt as exc:  # while the cluster starts or closes
        batch.outcome.interrupted = exc
        click.echo("interrupted", err=True)
    except SpeechcoachError as exc:  # no cluster to run on: no file was analysed
        message = _batch_stopped(batch, exc, batch.files)
        if batch.summary is not None:
            batch.summary.records[:] = [{"file": str(p), "error": message} for p in batch.files]


def _report_all(batch: Batch, results) -> None:
    """Report each file as its result comes; an interruption anywhere (Ctrl-C, SIGTERM) is
    one accurate line about what was finished."""
    try:
        _report_each(batch, results)
    except KeyboardInterrupt as exc:
        left = batch.files[batch.outcome.analysed + batch.outcome.failed :]
        batch.records += [{"file": str(p), "error": "not analysed: interrupted"} for p in left]
        batch.outcome.analysed += batch.outcome.failed  # "reported above", failures included
        click.echo(batch.outcome.interrupt(exc), err=True)


def _report_each(batch: Batch, results) -> None:
    files, outcome = batch.files, batch.outcome
    color = sys.stdout.isatty()
    for n, path in enumerate(files, 1):
        if len(files) > 1:
            click.echo(f"[{n}/{len(files)}] {path}", err=True)
        elif sys.stderr.isatty():  # a person waiting: say something is happening
            click.echo(f"analysing {path} (transcribing with Whisper on the CPU)...", err=True)
        try:
            item = next(results)
        except (SpeechcoachError, BrokenProcessPool) as exc:  # the model, or a worker, is gone
            message = _batch_stopped(batch, exc, files[n - 1 :])
            batch.records += [{"file": str(p), "error": message} for p in files[n - 1 :]]
            return
        if not item.ok:
            _report_failure(batch, path, item)
            continue
        _report_result(batch, path, item.result, color)
        outcome.analysed += 1
        if not batch.as_json and n < len(files):
            click.echo("")
    if len(files) > 1:
        click.echo(outcome.summary(), err=True)


def _report_failure(batch: Batch, path: Path, item) -> None:
    if batch.state.debug and item.exception is not None:
        raise item.exception
    click.echo(f"error: {item.error}", err=True)
    batch.outcome.fail()
    if batch.failures is not None:
        batch.failures.append(item)
    batch.records.append({"file": str(path), "error": item.error})
    if batch.as_json:
        click.echo(json.dumps({"file": str(path), "error": item.error}, ensure_ascii=False))


def _report_result(batch: Batch, path: Path, result: AnalysisResult, color: bool) -> None:
    attempt_id = _save(batch, result, path) if batch.save else None
    if batch.save and attempt_id is None:
        batch.outcome.unsaved += 1
    # The JSON line (--json, the class summary, the HTML report): the record, and the attempt
    # it was saved as.
    line = result.to_json() | ({} if attempt_id is None else {"attempt_id": attempt_id})
    if batch.html_dir is not None:
        written = write_html(batch.state, {**line, "label": batch.label}, batch.html_dir)
        if not written:
            batch.outcome.unsaved += 1
        elif batch.summary is not None:  # the class page links each row to its report
            batch.summary.reports[str(path)] = written
    batch.records.append(line)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if batch.as_json:
        click.echo(json.dumps(line, ensure_ascii=False))
    else:
        click.echo(render(result, color, batch.state.show_all))
    if attempt_id is not None:  # after the report, where the eye ends up
        click.echo(f"saved as attempt #{attempt_id}; see: speechcoach history", err=True)


def _batch_stopped(batch: Batch, exc: BaseException, left: list[Path]) -> str:
    """Every remaining file fails for the same reason: say it once, list them as not analysed."""
    batch.outcome.stopped = True
    if isinstance(exc, BrokenProcessPool):
        message = (
            f"a worker process died (out of memory? try fewer --jobs); "
            f"{len(left)} file(s) not analysed"
        )
    else:
        message = fail_line(batch.state, exc)
    click.echo(f"error: {message}", err=True)
    if batch.as_json:
        for path in left:
            click.echo(json.dumps({"file": str(path), "error": message}, ensure_ascii=False))
    return message


# -- class summary (issue #14) ------------------------------------------------------------------


def class_summary(csv_path: Path | None, html_path: Path | None):
    """The summary to fill, checked writable before any file is analysed (or None)."""
    if csv_path is None and html_path is None:
        return None
    from .summary import ClassSummary

    return ClassSummary(csv_path, html_path)


def write_summary(state: State, summary) -> bool:
    try:
        written = summary.write()
    except SpeechcoachError as exc:
        click.echo(f"error: {fail_line(state, exc)}", err=True)
        return False
    click.echo(
        f"class summary of {len(summary.records)} recordings: {', '.join(map(str, written))}",
        err=True,
    )
    return True


def write_html(state: State, record: dict, folder: Path, path: Path | None = None) -> Path | None:
    """One self-contained HTML report (speechcoach.web.render); a failure is one line (None)."""
    from .web.render import write_report_html

    try:
        if path is None:
            folder.mkdir(parents=True, exist_ok=True)
            stem, n = Path(record["file"]).stem, 1
            path = folder / f"{stem}.html"
            while path.exists():  # two recordings with one name in different folders
                n += 1
                path = folder / f"{stem}-{n}.html"
        written = write_report_html(record, path)
        click.echo(f"HTML report: {written}", err=True)
        return written
    except (OSError, SpeechcoachError) as exc:
        click.echo(f"error: HTML report not written: {fail_line(state, exc)}", err=True)
        return None


def render(result: AnalysisResult, color: bool, show_all: bool = False) -> str:
    from .report import render_report

    return render_report(result, color=color, show_all=show_all)


def _save(batch: Batch, result: AnalysisResult, path: Path) -> int | None:
    """Store the attempt; its id, or None when it could not be saved. A failure is reported
    (and makes the exit code 1) but never loses the report, which is printed all the same."""
    try:
        from .store import History

        with History.open() as history:
            saved = history.save(result, path, label=batch.label, new_attempt=batch.new_attempt)
        return saved.id
    except Exception as exc:  # noqa: BLE001 - the analysis itself succeeded
        click.echo(
            "error: attempt not saved (the report below is complete; --no-save skips saving): "
            + fail_line(batch.state, exc),
            err=True,
        )
        return None
