"""The command line: parse, call the core, render. Data on stdout, status on stderr."""

from __future__ import annotations

import json
import logging
import sys
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import click

from . import __version__
from .config import format_duration, load_targets, parse_duration
from .errors import SpeechcoachError
from .transcribe import DEFAULT_ENGINE, ENGINES, TranscribeOptions

EXIT_FAILED = 1  # some input could not be analysed
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report it


@dataclass
class State:
    debug: bool = False
    config: Path | None = None  # --config; None: SPEECHCOACH_HOME/config.toml if it exists


def _fail(state: State, exc: BaseException, context: str = "") -> str:
    """One line for the user; the traceback only with --debug."""
    if state.debug:
        raise exc
    if isinstance(exc, SpeechcoachError):
        return str(exc)
    prefix = f"{context}: " if context else ""
    return f"{prefix}unexpected error ({type(exc).__name__}: {exc}); rerun with --debug for details and report it"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="speechcoach")
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.option(
    "-v", "--verbose", count=True, help="More status on stderr (-v: steps, -vv: everything)."
)
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Reference bands and target from this TOML file (default: SPEECHCOACH_HOME/config.toml if present).",
)
@click.pass_context
def main(ctx: click.Context, debug: bool, verbose: int, config: Path | None) -> None:
    """Coach for the spoken self-introduction of a job interview, offline.

    Analyse a recording with `speechcoach analyze FILE`, record one with
    `speechcoach record`, and follow your attempts with `speechcoach history`.
    """
    from .terminal import install

    install()  # before logging takes sys.stderr: nothing printed carries terminal controls
    level = logging.DEBUG if verbose > 1 or debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True
    )
    ctx.obj = State(debug=debug, config=config)


def _duration(ctx, param, value):
    """A duration flag: malformed, or out of the range it can mean, is a usage error (exit 2)."""
    if value is None:
        return None
    from .config import check_target_s

    try:
        seconds = parse_duration(value)
        if param.name == "target":
            check_target_s(seconds, "the target")
        elif seconds <= 0:
            raise ValueError(f"must be longer than 0 s, e.g. 3m30s (got {value!r})")
        return seconds
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def _language(ctx, param, value):
    """A Whisper language code, checked before any model loads ("EN" is taken as "en")."""
    if value is None:
        return None
    from faster_whisper.tokenizer import _LANGUAGE_CODES  # Whisper's own list, no model needed

    code = value.strip().lower()
    if code not in _LANGUAGE_CODES:
        raise click.BadParameter(
            f"{value!r} is not a Whisper language code; use a two-letter code such as en, ja, zh, ko, es, de, fr"
        )
    return code


def transcribe_options(func):
    """Options shared by every command that transcribes (analyze, record)."""
    decorators = [
        click.option(
            "--language",
            default=None,
            callback=_language,
            metavar="CODE",
            help="Language spoken, e.g. en or ja (default: detect).",
        ),
        click.option(
            "--model",
            default=None,
            metavar="NAME|PATH",
            help="Whisper model: tiny.en or base (bundled), another size (downloaded when online), or a local model folder / .pt file. Default: base.",
        ),
        click.option(
            "--fast",
            is_flag=True,
            help="English with tiny.en: about 1.7x faster, less accurate on accents and noise "
            "(no language detection: English unless --language).",
        ),
        click.option(
            "--engine",
            type=click.Choice(ENGINES),
            default=DEFAULT_ENGINE,
            show_default=True,
            help="Whisper implementation.",
        ),
        click.option(
            "--device",
            type=click.Choice(["auto", "cpu", "cuda"]),
            default="auto",
            show_default=True,
            help="Where Whisper runs (cuda if available with auto).",
        ),
        click.option(
            "--target",
            default=None,
            callback=_duration,
            metavar="DURATION",
            help="Target length, e.g. 3m, 90s, 1m30s (default: config.toml's, else 3m, the article's advice).",
        ),
        click.option(
            "--json",
            "as_json",
            is_flag=True,
            help="Print JSON Lines (one object per file) instead of the report.",
        ),
        click.option("--no-save", is_flag=True, help="Do not store this attempt in the history."),
        click.option(
            "--label", default=None, help='A note stored with the attempt, e.g. "v3, slower".'
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def build_analyzer(language, model, engine, device, target, fast=False):
    from .analyze import AnalyzeOptions, Analyzer

    options = AnalyzeOptions(
        transcribe=TranscribeOptions(
            engine=engine, model=model, language=language, device=device, fast=fast
        ),
        targets=load_targets(click.get_current_context().obj.config, target_s=target),
    )
    return Analyzer(options)


def _cluster(ctx, param, value):
    if value is None:
        return None
    from .cluster import ClusterSpec

    try:
        return ClusterSpec.parse(value)
    except SpeechcoachError as exc:
        raise click.BadParameter(str(exc)) from exc


def summary_options(func):
    """--csv / --html: the class table, for `analyze` and `summary`."""
    func = click.option(
        "--html",
        "html_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Write the class summary as one self-contained, sortable HTML page (with --html-dir, "
        "each row links to its recording's report).",
    )(func)
    return click.option(
        "--csv",
        "csv_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Write the class summary (one row per recording) as CSV for a spreadsheet.",
    )(func)


@main.command()
# readable=False: an unreadable file is a per-file error (load_audio), not a usage error that
# stops the whole batch.
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, readable=False))
@transcribe_options
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes for a batch (each loads its own model; worth it with 4+ cores).",
)
@click.option(
    "--new-attempt",
    is_flag=True,
    help="Store a new attempt even if this audio was analysed before (default: update that attempt).",
)
@click.option(
    "--cluster",
    default=None,
    callback=_cluster,
    metavar="tcp://HOST:8786|local:N",
    help="Run the batch on a Dask cluster: a scheduler's address, or N local worker processes "
    "(pip install 'speechcoach[cluster]').",
)
@summary_options
@click.option(
    "--html-dir",
    "html_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also write one self-contained HTML report per file (audio embedded) into this folder.",
)
@click.pass_obj
def analyze(
    state: State,
    paths,
    language,
    model,
    fast,
    engine,
    device,
    target,
    as_json,
    no_save,
    label,
    jobs,
    new_attempt,
    csv_path,
    html_path,
    html_dir,
    cluster,
):
    """Analyse recordings (files or folders, searched recursively) and print feedback.

    Exit code: 0 if every file was analysed, 1 if any failed, 2 for usage errors.
    """
    from .audio import find_audio_files

    if cluster is not None and jobs > 1:
        raise click.UsageError(
            "--jobs and --cluster exclude each other: the cluster's workers are the jobs"
        )
    class_summary = _class_summary(state, csv_path, html_path)
    files = find_audio_files(list(paths))
    if not files:
        click.echo("no audio files found in: " + ", ".join(map(str, paths)), err=True)
        sys.exit(EXIT_FAILED)
    try:
        analyzer = build_analyzer(language, model, engine, device, target, fast)
    except SpeechcoachError as exc:
        click.echo(f"error: {_fail(state, exc)}", err=True)
        sys.exit(EXIT_FAILED)
    code = analyze_and_report(
        state,
        analyzer,
        files,
        as_json=as_json,
        save=not no_save,
        label=label,
        jobs=jobs,
        new_attempt=new_attempt,
        summary=class_summary,
        html_dir=html_dir,
        cluster=cluster,
    )
    sys.exit(code)


def analyze_and_report(
    state: State,
    analyzer,
    files: list[Path],
    *,
    as_json: bool,
    save: bool,
    label: str | None,
    jobs: int = 1,
    new_attempt: bool = False,
    summary=None,
    html_dir: Path | None = None,
    cluster=None,
) -> int:
    """Analyse the files (in order), print each report or JSON line, and return the exit code."""
    from .batch import analyze_files

    report = (state, files, as_json, save, label, new_attempt, summary, html_dir)
    if cluster is None:
        code = _analyze_files(analyze_files(files, analyzer, jobs=jobs), *report)
    else:
        code = _analyze_on_cluster(cluster, analyzer.options, report)
    if summary is not None and not _write_summary(state, summary):
        return code or EXIT_FAILED
    return code


def _analyze_on_cluster(cluster, options, report: tuple) -> int:
    """The same batch, its files analysed by the workers of a Dask cluster (see cluster.py)."""
    from .cluster import open_cluster

    (state, files, as_json), summary = report[:3], report[6]
    try:
        with open_cluster(cluster, options) as batch:
            click.echo(batch.describe(), err=True)
            return _analyze_files(batch.analyze(files), *report)
    except KeyboardInterrupt:  # while the cluster starts or closes
        click.echo("interrupted", err=True)
        return EXIT_INTERRUPTED
    except SpeechcoachError as exc:  # no cluster to run on: no file was analysed
        message = _batch_stopped(state, exc, files, as_json)
        if summary is not None:
            summary.records[:] = [{"file": str(p), "error": message} for p in files]
        return EXIT_FAILED


def _analyze_files(
    results, state: State, files, as_json, save, label, new_attempt, summary, html_dir=None
) -> int:
    records = summary.records if summary is not None else []
    failed = failed_saves = 0
    color = sys.stdout.isatty()
    for n, path in enumerate(files, 1):
        if len(files) > 1:
            click.echo(f"[{n}/{len(files)}] {path}", err=True)
        elif sys.stderr.isatty():  # a person waiting: say something is happening
            click.echo(f"analysing {path} (transcribing with Whisper on the CPU)...", err=True)
        try:
            item = next(results)
        except KeyboardInterrupt:
            click.echo("interrupted: the files analysed so far are reported above", err=True)
            records += [
                {"file": str(p), "error": "not analysed: interrupted"} for p in files[n - 1 :]
            ]
            return EXIT_INTERRUPTED
        except (
            SpeechcoachError,
            BrokenProcessPool,
        ) as exc:  # the model, or a worker process, is gone
            message = _batch_stopped(state, exc, files[n - 1 :], as_json)
            records += [{"file": str(p), "error": message} for p in files[n - 1 :]]
            return EXIT_FAILED
        if not item.ok:
            if state.debug and item.exception is not None:
                raise item.exception
            click.echo(f"error: {item.error}", err=True)
            failed += 1
            records.append({"file": str(path), "error": item.error})
            if as_json:
                click.echo(json.dumps({"file": str(path), "error": item.error}, ensure_ascii=False))
            continue
        result = item.result
        if save and not _save(state, result, path, label, new_attempt):
            failed_saves += 1
        if html_dir is not None:
            written = _write_html(state, {**result, "label": label}, html_dir)
            if not written:
                failed_saves += 1
            elif summary is not None:  # the class page links each row to its report
                summary.reports[str(path)] = written
        records.append(result)
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False))
        else:
            click.echo(render(result, color))
            if n < len(files):
                click.echo("")
    if len(files) > 1:
        click.echo(
            f"analysed {len(files) - failed} of {len(files)} files"
            + (f", {failed} failed" if failed else ""),
            err=True,
        )
    return EXIT_FAILED if failed or failed_saves else 0


def _batch_stopped(state: State, exc: BaseException, left: list[Path], as_json: bool) -> str:
    """Every remaining file fails for the same reason: say it once, list them as not analysed."""
    if isinstance(exc, BrokenProcessPool):
        message = f"a worker process died (out of memory? try fewer --jobs); {len(left)} file(s) not analysed"
    else:
        message = _fail(state, exc)
    click.echo(f"error: {message}", err=True)
    if as_json:
        for path in left:
            click.echo(json.dumps({"file": str(path), "error": message}, ensure_ascii=False))
    return message


# -- class summary (issue #14) ------------------------------------------------------------------


def _class_summary(state: State, csv_path: Path | None, html_path: Path | None):
    """The summary to fill, checked writable before any file is analysed (or None)."""
    if csv_path is None and html_path is None:
        return None
    from .summary import ClassSummary

    try:
        return ClassSummary(csv_path, html_path)
    except SpeechcoachError as exc:
        click.echo(f"error: {_fail(state, exc)}", err=True)
        sys.exit(EXIT_FAILED)


def _write_summary(state: State, summary) -> bool:
    try:
        written = summary.write()
    except SpeechcoachError as exc:
        click.echo(f"error: {_fail(state, exc)}", err=True)
        return False
    click.echo(
        f"class summary of {len(summary.records)} recordings: {', '.join(map(str, written))}",
        err=True,
    )
    return True


@main.command()
@click.argument("results", type=click.Path(dir_okay=False, path_type=Path))
@summary_options
@click.pass_obj
def summary(state: State, results: Path, csv_path: Path | None, html_path: Path | None):
    """Write the class summary (CSV and/or HTML) of a results file from `analyze --json`."""
    from .summary import read_records

    if csv_path is None and html_path is None:
        raise click.UsageError("give --csv FILE and/or --html FILE")
    class_summary = _class_summary(state, csv_path, html_path)
    try:
        for record in read_records(results):
            class_summary.add(record)
    except SpeechcoachError as exc:
        click.echo(f"error: {_fail(state, exc)}", err=True)
        sys.exit(EXIT_FAILED)
    sys.exit(0 if _write_summary(state, class_summary) else EXIT_FAILED)


def _write_html(state: State, record: dict, folder: Path, path: Path | None = None) -> Path | None:
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
        click.echo(f"error: HTML report not written: {_fail(state, exc)}", err=True)
        return None


def render(result: dict, color: bool) -> str:
    from .report import render_report

    return render_report(result, color=color)


def _save(
    state: State, result: dict, path: Path, label: str | None, new_attempt: bool = False
) -> bool:
    """Store the attempt. A failure is reported (and makes the exit code 1) but never loses
    the report, which is printed all the same."""
    try:
        from .store import History

        with History.open() as history:
            attempt_id = history.save(result, path, label=label, new_attempt=new_attempt).id
        result["attempt_id"] = attempt_id
        return True
    except Exception as exc:  # noqa: BLE001 - the analysis itself succeeded
        click.echo(
            f"error: attempt not saved (the report below is complete; --no-save skips saving): {_fail(state, exc)}",
            err=True,
        )
        return False


# -- record / devices (issue #4) ----------------------------------------------------------------

PLAIN_STATUS_EVERY_S = 10.0  # without a terminal, one plain status line this often
METER_CELLS = 20
METER_FLOOR_DBFS = -60.0  # the meter's left end; speech usually sits around -30 to -10 dBFS


@main.command()
@click.pass_obj
def devices(state: State) -> None:
    """List the microphones (input devices) that `record --device` accepts."""
    from .record import list_input_devices

    try:
        found = list_input_devices()
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback (unless --debug)
        click.echo(f"error: {_fail(state, exc, 'devices')}", err=True)
        sys.exit(EXIT_FAILED)
    if not found:
        from .record import NO_DEVICE

        click.echo(f"error: {NO_DEVICE}", err=True)
        sys.exit(EXIT_FAILED)
    for device in found:
        mark = "*" if device.is_default else " "
        click.echo(
            f"{mark} {device.index:>3}  {device.name}  ({device.hostapi}, {device.channels} ch, {device.default_sample_rate:g} Hz)"
        )


@main.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the WAV here (never overwritten). Default: a timestamped file under SPEECHCOACH_HOME/recordings/.",
)
@click.option(
    "--device",
    "input_device",
    default=None,
    metavar="N|NAME",
    help="Microphone: its number or part of its name in `speechcoach devices` (default: the system's input).",
)
@click.option(
    "--max-duration",
    default=None,
    callback=_duration,
    metavar="DURATION",
    help="Stop by itself after this long, e.g. 3m30s (for scripts).",
)
@click.option(
    "--countdown",
    type=click.IntRange(0, 60),
    default=3,
    show_default=True,
    help="Seconds of countdown before recording starts.",
)
@click.option(
    "--no-countdown", is_flag=True, help="Start recording at once (same as --countdown 0)."
)
@click.option(
    "--language",
    default=None,
    callback=_language,
    metavar="CODE",
    help="Language spoken, e.g. en or ja (default: detect).",
)
@click.option("--model", default=None, metavar="NAME|PATH", help="Whisper model, as for `analyze`.")
@click.option("--fast", is_flag=True, help="English with tiny.en, as for `analyze`.")
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default=DEFAULT_ENGINE,
    show_default=True,
    help="Whisper implementation.",
)
@click.option(
    "--whisper-device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    default="auto",
    show_default=True,
    help="Where Whisper runs (what `analyze --device` sets).",
)
@click.option(
    "--target",
    default=None,
    callback=_duration,
    metavar="DURATION",
    help="Target length (default: config.toml's, else 3m): the live line counts towards it and cues you at it and 30 s after.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the analysis as JSON instead of the report."
)
@click.option("--no-save", is_flag=True, help="Do not store this attempt in the history.")
@click.option("--label", default=None, help='A note stored with the attempt, e.g. "v3, slower".')
@click.pass_obj
def record(
    state: State,
    out,
    input_device,
    max_duration,
    countdown,
    no_countdown,
    language,
    model,
    fast,
    engine,
    whisper_device,
    target,
    as_json,
    no_save,
    label,
):
    """Record your self-introduction from the microphone, then analyse it like `analyze`.

    Stop with Enter or Ctrl-C, or let --max-duration stop it. The WAV is written while you
    speak, so a crash or a kill keeps everything said until then.

    Exit code: 0 if recorded and analysed, 1 on any error (the recording is kept), 130 if
    Ctrl-C is pressed a second time, during the analysis.
    """
    from .record import new_recording_path

    try:
        target = load_targets(state.config, target_s=target).duration_s
    except SpeechcoachError as exc:
        click.echo(f"error: {_fail(state, exc)}", err=True)
        sys.exit(EXIT_FAILED)
    path = out
    try:
        path = path if path is not None else new_recording_path()
        recording = _record(
            state, path, input_device, max_duration, 0 if no_countdown else countdown, target
        )
        code = _analyze_recording(
            state,
            recording,
            language,
            model,
            fast,
            engine,
            whisper_device,
            target,
            as_json,
            no_save,
            label,
        )
    except (
        KeyboardInterrupt
    ):  # during the countdown, or a second Ctrl-C between recording and analysis
        if path is not None and path.exists():
            click.echo(
                f"\ninterrupted: the recording is kept in {path}; analyse it again with: speechcoach analyze {path}",
                err=True,
            )
        else:
            click.echo("\ncancelled before recording started", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback (unless --debug)
        _record_failed(state, exc, path, as_json)
    sys.exit(code)


def _record_failed(state: State, exc: Exception, path: Path | None, as_json: bool) -> None:
    message = _fail(state, exc, "record")
    click.echo(f"error: {message}", err=True)
    if as_json:  # like `analyze --json`: a script always gets one object per file
        # "file" names only a recording that exists: a script must not go looking for one never created.
        click.echo(
            json.dumps(
                {"file": str(path) if path and path.exists() else None, "error": message},
                ensure_ascii=False,
            )
        )
    sys.exit(EXIT_FAILED)


def _record(state: State, path: Path, input_device, max_duration, countdown: int, target: float):
    """Record until stopped; return the Recording, or raise RecordingError (file kept)."""
    from .audio import MIN_SPEECH_S
    from .errors import RecordingError
    from .record import Recorder, find_device

    device = find_device(input_device)
    if path.exists():
        raise RecordingError(f"{path} already exists; choose another name with --out, or delete it")
    _countdown(countdown)
    recorder = Recorder(path, device, target_s=target, max_duration_s=max_duration)
    failure: BaseException | None = None
    with _stop_on_sigint(recorder):
        recorder.start()
        how = "press Enter or Ctrl-C to stop" if sys.stdin.isatty() else "Ctrl-C to stop"
        limit = f", stops by itself at {format_duration(max_duration)}" if max_duration else ""
        click.echo(f"Recording to {path} from {device.label}; {how}{limit}", err=True)
        _stop_on_enter(recorder)
        live = _LiveLine(device.label)
        try:
            for status in recorder.statuses():
                live.show(status)
        except Exception as exc:  # noqa: BLE001 - whatever happens, close the file first
            failure = exc
        finally:
            live.finish()
            recording = recorder.close()
    kept = f"{recording.duration_s:.1f} s recorded until then are kept in {path}"
    if recording.duration_s >= MIN_SPEECH_S:
        kept += f" (analyse them with: speechcoach analyze {path})"
    if failure is not None:
        if state.debug:
            raise failure
        raise RecordingError(f"{_fail(state, failure, 'recording')}; the {kept}") from failure
    click.echo(f"Saved {recording.duration_s:.1f} s to {path}", err=True)
    return recording


def _analyze_recording(
    state: State,
    recording,
    language,
    model,
    fast,
    engine,
    whisper_device,
    target,
    as_json,
    no_save,
    label,
) -> int:
    from .audio import MIN_SPEECH_S

    path = recording.path
    again = f"the recording is kept in {path}; analyse it again with: speechcoach analyze {path}"
    if recording.duration_s < MIN_SPEECH_S:
        message = (
            f"only {recording.duration_s:.1f} s recorded, too short to analyse (at least {MIN_SPEECH_S:.0f} s); "
            f"the file is kept in {path}"
        )
        click.echo(f"error: {message}", err=True)
        if as_json:
            click.echo(json.dumps({"file": str(path), "error": message}, ensure_ascii=False))
        return EXIT_FAILED
    try:
        analyzer = build_analyzer(language, model, engine, whisper_device, target, fast)
        code = analyze_and_report(
            state, analyzer, [path], as_json=as_json, save=not no_save, label=label
        )
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - e.g. a model that cannot load: say so, keep the file
        click.echo(f"error: {_fail(state, exc, 'analysis')}", err=True)
        code = EXIT_FAILED
    if code != 0:
        click.echo(again, err=True)
    return code


def _countdown(seconds: int) -> None:
    import time

    for left in range(seconds, 0, -1):
        click.echo(f"Recording in {left}...", err=True)
        time.sleep(1)


class _stop_on_sigint:
    """While recording, Ctrl-C stops the recording (the file is closed properly) instead of killing."""

    def __init__(self, recorder):
        self.recorder = recorder
        self.previous = None

    def __enter__(self):
        import signal

        self.previous = signal.signal(signal.SIGINT, lambda signum, frame: self.recorder.stop())
        return self

    def __exit__(self, *exc):
        import signal

        signal.signal(signal.SIGINT, self.previous)  # a second Ctrl-C now interrupts the analysis


def _stop_on_enter(recorder) -> None:
    """Stop on Enter; only from a terminal, so that a script's stdin is never consumed."""
    import threading

    if not sys.stdin.isatty():
        return

    def wait_for_enter():
        sys.stdin.readline()
        recorder.stop()

    threading.Thread(target=wait_for_enter, name="stop-on-enter", daemon=True).start()


class _LiveLine:
    """Elapsed time against the target and a level meter on stderr: redrawn in place on a
    terminal, an occasional plain line otherwise (logs, CI). Cues and warnings get their own line."""

    def __init__(self, device_label: str):
        self.tty = sys.stderr.isatty()
        self.device_label = device_label
        self.next_plain_s = PLAIN_STATUS_EVERY_S
        self.drawn = False

    def show(self, status) -> None:
        for event in status.events:
            self._say(self._event_text(event, status))
        if self.tty:
            click.echo("\r" + self._line(status) + "\x1b[K", err=True, nl=False)
            self.drawn = True
        elif status.elapsed_s >= self.next_plain_s:
            self.next_plain_s += PLAIN_STATUS_EVERY_S
            click.echo(self._line(status), err=True)

    def finish(self) -> None:
        if self.drawn:
            click.echo("", err=True)
            self.drawn = False

    def _say(self, text: str) -> None:
        if self.drawn:
            click.echo("\r\x1b[K", err=True, nl=False)
        click.echo(text, err=True)

    def _line(self, status) -> str:
        level = max(METER_FLOOR_DBFS, status.level_dbfs)
        filled = int(round(METER_CELLS * (1 - level / METER_FLOOR_DBFS)))
        meter = "#" * filled + "." * (METER_CELLS - filled)
        over = status.elapsed_s - status.target_s
        extra = f"  (+{_clock(over)} over)" if over >= 1 else ""
        return (
            f"REC {_clock(status.elapsed_s)} / {format_duration(status.target_s)}{extra}  "
            f"[{meter}] {status.level_dbfs:4.0f} dBFS"
        )

    def _event_text(self, event: str, status) -> str:
        from .record import EVENT_OVERTIME, EVENT_SILENT, EVENT_SOUND, EVENT_TARGET

        bell = "\a" if self.tty else ""
        if event == EVENT_TARGET:
            return f"{bell}{format_duration(status.target_s)}: target reached, time to conclude with your plan"
        if event == EVENT_OVERTIME:
            return f"{bell}{format_duration(status.elapsed_s)}: 30 s over the target; finish your sentence and stop"
        if event == EVENT_SILENT:
            return (
                f"warning: no sound from {self.device_label} for {status.silent_for_s:.0f} s: "
                "is the microphone muted or turned down?"
            )
        if event == EVENT_SOUND:
            return "sound is coming in again"
        return event


def _clock(seconds: float) -> str:
    """Whole seconds elapsed, as a clock shows them (2.9 s is still 0:02)."""
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


# ---------------------------------------------------------------- history: store.py + progress.py
def _open_history(state: State, read_only: bool = False):
    """The history, or one line on stderr and exit 1 (damaged, locked, unreadable...)."""
    from .store import History

    try:
        return History.open(read_only_ok=read_only)
    except SpeechcoachError as exc:
        _history_exit(state, exc)


def _report_damaged(history) -> None:
    """Once per command: the attempts left out because their stored analysis is unreadable."""
    for attempt_id, reason in sorted(history.damaged.items()):
        click.echo(
            f"warning: attempt #{attempt_id} is damaged ({reason}) and was skipped; the others are "
            f"intact (`speechcoach forget {attempt_id}` removes it)",
            err=True,
        )


def _history_exit(state: State, exc: BaseException):
    click.echo(f"error: {_fail(state, exc)}", err=True)
    sys.exit(EXIT_FAILED)


def _history_command(func=None, *, read_only: bool = False):
    """Run a history command with the store open; a SpeechcoachError becomes one line and exit 1.
    `read_only` commands still work where the history's folder cannot be written."""
    import functools

    if func is None:
        return functools.partial(_history_command, read_only=read_only)

    @functools.wraps(func)
    def wrapper(state: State, *args, **kwargs):
        history = _open_history(state, read_only)
        try:
            return func(state, history, *args, **kwargs)
        except SpeechcoachError as exc:
            _history_exit(state, exc)
        finally:
            _report_damaged(history)
            history.close()

    return wrapper


@main.command()
@click.option(
    "-n",
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Show the newest N attempts (0: all).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object per attempt, one per line (newest first).",
)
@click.pass_obj
@_history_command(read_only=True)
def history(state: State, store, limit, as_json):
    """List your attempts, newest first."""
    from .progress import render_history

    attempts = store.list(limit=limit or None)
    if as_json:  # JSON Lines, like analyze/record/show
        for attempt in attempts:
            click.echo(json.dumps(attempt.summary(), ensure_ascii=False))
    else:
        click.echo(render_history(attempts))


@main.command()
@click.argument("attempt_id", metavar="[ID]", type=int, required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the stored analysis JSON.")
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the report as one self-contained HTML file (audio embedded) instead.",
)
@click.pass_obj
@_history_command(read_only=True)
def show(state: State, store, attempt_id, as_json, html_file):
    """Show the full report of a past attempt (default: the newest), without re-transcribing."""
    from .errors import StoreError

    if attempt_id is None:
        newest = store.latest(1)
        if not newest:
            raise StoreError(
                "no attempts yet: `speechcoach analyze FILE` or `speechcoach record` saves one"
            )
        attempt = newest[0]
    else:
        attempt = store.get(attempt_id)
    if html_file is not None:
        record = {
            **attempt.analysis,
            "file": attempt.audio_path or attempt.analysis.get("file", ""),
            "attempt_id": attempt.id,
            "label": attempt.label,
            "created_at": attempt.created_at,
        }
        if not _write_html(state, record, html_file.parent, html_file):
            sys.exit(EXIT_FAILED)
        return
    if as_json:
        click.echo(
            json.dumps(
                {**attempt.analysis, "attempt_id": attempt.id, "label": attempt.label},
                ensure_ascii=False,
            )
        )
    else:
        label = f' "{attempt.label}"' if attempt.label else ""
        click.echo(f"attempt #{attempt.id}{label}, analysed {attempt.updated_at}", err=True)
        click.echo(render(attempt.analysis, sys.stdout.isatty()))


@main.command()
@click.argument("ids", metavar="[A] [B]", type=int, nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@click.pass_obj
@_history_command(read_only=True)
def compare(state: State, store, ids, as_json):
    """Compare two attempts side by side (default: the last two; with one ID: that one and the newest)."""
    from .progress import compare as compare_attempts
    from .progress import pick_pair, render_comparison

    if len(ids) > 2:
        raise click.UsageError("give at most two attempt IDs")
    comparison = compare_attempts(*pick_pair(store, *ids), load_targets(state.config))
    click.echo(
        json.dumps(comparison.to_dict(), ensure_ascii=False)
        if as_json
        else render_comparison(comparison)
    )


@main.command()
@click.option(
    "--last", "last", type=click.IntRange(min=1), default=None, help="Only the newest N attempts."
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the chart to this file, in the format its suffix names (png, pdf, svg...), e.g. progress.png.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the series as JSON.")
@click.pass_obj
@_history_command(read_only=True)
def progress(state: State, store, last, plot, as_json):
    """Your trend over attempts: score, pace, fillers per minute, duration, parts covered."""
    from .progress import check_plot_path, plot_progress, render_progress
    from .progress import progress as progress_of

    if plot is not None:
        check_plot_path(plot)  # before any output: a bad --plot fails the command, not half of it
    result = progress_of(store.chronological(last=last), load_targets(state.config))
    click.echo(
        json.dumps(result.to_dict(), ensure_ascii=False) if as_json else render_progress(result)
    )
    if plot is not None:
        click.echo(f"chart written to {plot_progress(result, plot)}", err=True)


@main.command()
@click.argument("ids", metavar="ID...", type=int, nargs=-1, required=True)
@click.option("--yes", "-y", is_flag=True, help="Delete without asking (for scripts).")
@click.pass_obj
@_history_command
def forget(state: State, store, ids, yes):
    """Delete attempts from the history (`speechcoach export` first keeps a copy).

    On a terminal it asks first; --yes skips the question."""
    from .progress import format_when

    if not yes and sys.stdin.isatty():
        for attempt_id in dict.fromkeys(ids):  # unknown ids fail here, before the question
            store.get(attempt_id, damaged_too=True)
        if not click.confirm(
            f"delete {len(set(ids))} attempt(s) ({', '.join(f'#{i}' for i in dict.fromkeys(ids))})?",
            default=False,
            err=True,
        ):
            click.echo("nothing was deleted", err=True)
            sys.exit(EXIT_FAILED)
    for gone in store.forget_all(ids):  # all or none: an unknown id deletes nothing
        click.echo(
            f"forgot attempt #{gone.id} ({gone.name}, {format_when(gone.created_at)})", err=True
        )


@main.command()
@click.argument(
    "out", metavar="[FILE]", type=click.Path(dir_okay=False, allow_dash=True), default="-"
)
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists, without asking.")
@click.pass_obj
@_history_command(read_only=True)
def export(state: State, store, out, force):
    """Write the whole history as JSON (to FILE, or stdout). FILE is replaced only once the new
    export is complete: a full disk leaves the earlier one intact."""
    from .safefile import atomic_write_text
    from .store import check_export_target

    data = store.export()
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if out == "-":
        click.echo(text, nl=False)
    else:
        path = Path(out)
        check_export_target(path, store.path)
        if path.exists() and not force:
            _confirm_or_stop(
                f"{path} exists; overwrite it?", f"{path} exists; add --force to overwrite it"
            )
        atomic_write_text(path, text)
    skipped = f"; skipped {len(store.damaged)} damaged" if store.damaged else ""
    click.echo(f"exported {len(data['attempts'])} attempts{skipped}", err=True)


def _confirm_or_stop(question: str, refusal: str) -> None:
    """Ask on a terminal; without one (a script), refuse with `refusal` and exit 1."""
    if sys.stdin.isatty():
        if not click.confirm(question, default=False, err=True):
            click.echo("nothing was changed", err=True)
            sys.exit(EXIT_FAILED)
        return
    click.echo(f"error: {refusal}", err=True)
    sys.exit(EXIT_FAILED)


@main.command("import")
@click.argument("source", metavar="FILE", type=click.File("r", encoding="utf-8-sig"))
@click.pass_obj
@_history_command
def import_history(state: State, store, source):
    """Merge a JSON export (from `speechcoach export`) into the history; FILE may be - for stdin."""
    from .errors import StoreError

    try:
        data = json.load(source)
    except UnicodeDecodeError as exc:
        raise StoreError(
            f"{source.name} is not UTF-8 text ({exc.reason}); give a file made by `speechcoach export`"
        ) from exc
    except (
        ValueError,
        RecursionError,
    ) as exc:  # JSONDecodeError, a number too long, nesting too deep
        raise StoreError(
            f"{source.name} is not valid JSON ({exc}); give a file made by `speechcoach export`"
        ) from exc
    result = store.import_(data)
    click.echo(
        f"imported {result.added} new, {result.updated} updated, {result.skipped} already there",
        err=True,
    )


# -- models (issue #3) --------------------------------------------------------------------------


@main.group(invoke_without_command=True)
@click.pass_context
def models(ctx: click.Context) -> None:
    """List the Whisper models this tool can use (same as `models list`), or convert one.

    Bundled models (tiny.en, base) run on faster-whisper as shipped; for
    `--engine openai-whisper` they are converted once into SPEECHCOACH_HOME/models/openai-whisper.
    Put your own models in SPEECHCOACH_HOME/models/local (NAME.pt, or a faster-whisper folder NAME/).
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(models_list)


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per model.")
@click.pass_obj
def models_list(state: State, as_json: bool = False) -> None:
    """Name, engine, kind (bundled/converted/downloaded/local), size and location of each model."""
    from importlib.util import find_spec

    from .models import BUNDLED_MODELS, list_models

    try:
        found = list_models()
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        click.echo(f"error: {_fail(state, exc, 'listing models')}", err=True)
        sys.exit(EXIT_FAILED)
    if as_json:
        for m in found:
            click.echo(
                json.dumps(
                    {
                        "name": m.name,
                        "engine": m.engine,
                        "kind": m.kind,
                        "size_bytes": m.size_bytes,
                        "path": str(m.path),
                        "note": m.note,
                    },
                    ensure_ascii=False,
                )
            )
        return
    rows = [
        (
            m.name,
            m.engine,
            m.kind,
            _megabytes(m.size_bytes),
            str(m.path) + (f"  ({m.note})" if m.note else ""),
        )
        for m in found
    ]
    widths = [
        max(len(r[i]) for r in [("NAME", "ENGINE", "KIND", "SIZE", "PATH"), *rows])
        for i in range(4)
    ]
    for row in [("NAME", "ENGINE", "KIND", "SIZE", "PATH"), *rows]:
        click.echo(
            "  ".join(
                cell.ljust(w) if i != 3 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row[:4], widths))
            )
            + "  "
            + row[4]
        )
    converted = {m.name for m in found if m.kind == "converted"}
    pending = [n for n in BUNDLED_MODELS if n not in converted]
    if pending and find_spec("whisper") is not None:
        click.echo(
            f"{' and '.join(pending)} can also run on --engine openai-whisper: converted on first use, or now with `speechcoach models convert NAME`",
            err=True,
        )


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size < 1e9 else f"{size / 1e9:.2f} GB"


@models.command("convert")
@click.argument("name")
@click.option(
    "--force",
    is_flag=True,
    help="Convert again even if a converted file exists (repairs a damaged one).",
)
@click.pass_obj
def models_convert(state: State, name: str, force: bool) -> None:
    """Convert a bundled model (tiny.en, base) or a faster-whisper folder for openai-whisper.

    Prints the checkpoint's path on stdout; progress goes to stderr. Done once: later runs of
    `--engine openai-whisper` reuse (and verify) the file.
    """
    import time

    from .convert import checkpoint_path, convert_model

    started = time.perf_counter()
    existed = not force and checkpoint_path(name).exists()
    bar = _LazyBar(f"converting {name}")
    try:
        result = convert_model(name, force=force, progress=bar.report)
    except Exception as exc:  # noqa: BLE001 - ModelError carries the fix; anything else gets one line
        bar.close()
        click.echo(f"error: {_fail(state, exc, f'converting {name}')}", err=True)
        sys.exit(EXIT_FAILED)
    bar.close()
    if existed:
        click.echo(
            f"{name} was already converted and is intact (use --force to convert again)", err=True
        )
    else:
        click.echo(
            f"converted {name} in {time.perf_counter() - started:.1f} s ({_megabytes(result.size_bytes)})",
            err=True,
        )
    click.echo(str(result.path))


class _LazyBar:
    """A 0-100 click progress bar on stderr, drawn only once conversion really starts."""

    def __init__(self, label: str):
        self.label = label
        self.bar = None
        self.shown = 0

    def report(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=100, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        percent = int(100 * done / max(total, 1))
        if percent > self.shown:
            self.bar.update(percent - self.shown)
            self.shown = percent

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


# -- serve: the web app (speechcoach/web) ------------------------------------------------------
@main.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port (0: any free one).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but 127.0.0.1/localhost exposes your attempts.",
)
@click.option("--no-browser", is_flag=True, help="Do not open a browser window.")
@click.option(
    "--max-upload",
    type=click.IntRange(1, 2000),
    default=200,
    show_default=True,
    metavar="MB",
    help="Largest upload accepted, in MB.",
)
@click.option(
    "--language",
    default=None,
    callback=_language,
    metavar="CODE",
    help="Default language (default: detect).",
)
@click.option("--model", default=None, metavar="NAME|PATH", help="Whisper model, as for `analyze`.")
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default=DEFAULT_ENGINE,
    show_default=True,
    help="Whisper implementation.",
)
@click.option(
    "--whisper-device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    default="auto",
    show_default=True,
    help="Where Whisper runs.",
)
@click.option(
    "--target",
    default=None,
    callback=_duration,
    metavar="DURATION",
    help="Default target length (default: config.toml's, else 3m).",
)
@click.pass_obj
def serve(
    state: State,
    port,
    host,
    no_browser,
    max_upload,
    language,
    model,
    engine,
    whisper_device,
    target,
):
    """Open speechcoach in the browser: record, upload, reports with playback, history.

    Everything stays on this computer; the models load once, on the first analysis.
    """
    from .web.server import serve as run_server

    try:
        analyzer = build_analyzer(language, model, engine, whisper_device, target)
        run_server(
            analyzer,
            host=host,
            port=port,
            open_browser=not no_browser,
            max_upload_bytes=max_upload * 1000 * 1000,
            debug=state.debug,
            echo=lambda text: click.echo(text, err=True),
        )
    except SpeechcoachError as exc:
        click.echo(f"error: {_fail(state, exc)}", err=True)
        sys.exit(EXIT_FAILED)
