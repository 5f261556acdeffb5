"""The command line: parse, call the core, render. Data on stdout, status on stderr."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import click

from . import __version__
from .config import Targets, parse_duration
from .errors import SpeechcoachError
from .transcribe import DEFAULT_ENGINE, ENGINES, TranscribeOptions

EXIT_FAILED = 1  # some input could not be analysed
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report it


@dataclass
class State:
    debug: bool = False


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
@click.option("-v", "--verbose", count=True, help="More status on stderr (-v: steps, -vv: everything).")
@click.pass_context
def main(ctx: click.Context, debug: bool, verbose: int) -> None:
    """Coach for the spoken self-introduction of a job interview, offline.

    Analyse a recording with `speechcoach analyze FILE`, record one with
    `speechcoach record`, and follow your attempts with `speechcoach history`.
    """
    level = logging.DEBUG if verbose > 1 or debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    ctx.obj = State(debug=debug)


def _duration(ctx, param, value):
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def transcribe_options(func):
    """Options shared by every command that transcribes (analyze, record)."""
    decorators = [
        click.option("--language", default=None, metavar="CODE", help="Language spoken, e.g. en or ja (default: detect)."),
        click.option("--model", default=None, metavar="NAME|PATH", help="Whisper model: tiny.en or base (bundled), another size (downloaded when online), or a local model folder / .pt file. Default: tiny.en for English, base otherwise."),
        click.option("--engine", type=click.Choice(ENGINES), default=DEFAULT_ENGINE, show_default=True, help="Whisper implementation."),
        click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True, help="Where Whisper runs (cuda if available with auto)."),
        click.option("--target", default="3m", show_default=True, callback=_duration, metavar="DURATION", help="Target length, e.g. 3m, 90s, 1m30s (the article's advice: 3 minutes)."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON Lines (one object per file) instead of the report."),
        click.option("--no-save", is_flag=True, help="Do not store this attempt in the history."),
        click.option("--label", default=None, help='A note stored with the attempt, e.g. "v3, slower".'),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def build_analyzer(language, model, engine, device, target):
    from .analyze import AnalyzeOptions, Analyzer

    options = AnalyzeOptions(
        transcribe=TranscribeOptions(engine=engine, model=model, language=language, device=device),
        targets=replace(Targets(), duration_s=target),
    )
    return Analyzer(options)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@transcribe_options
@click.pass_obj
def analyze(state: State, paths, language, model, engine, device, target, as_json, no_save, label):
    """Analyse recordings (files or folders, searched recursively) and print feedback.

    Exit code: 0 if every file was analysed, 1 if any failed, 2 for usage errors.
    """
    from .audio import find_audio_files

    files = find_audio_files(list(paths))
    if not files:
        click.echo("no audio files found in: " + ", ".join(map(str, paths)), err=True)
        sys.exit(EXIT_FAILED)
    analyzer = build_analyzer(language, model, engine, device, target)
    code = analyze_and_report(state, analyzer, files, as_json=as_json, save=not no_save, label=label)
    sys.exit(code)


def analyze_and_report(state: State, analyzer, files: list[Path], *, as_json: bool, save: bool, label: str | None) -> int:
    """Analyse each file in order, print its report (or JSON line), and return the exit code."""
    failed = 0
    color = sys.stdout.isatty()
    for n, path in enumerate(files, 1):
        if len(files) > 1:
            click.echo(f"[{n}/{len(files)}] {path}", err=True)
        try:
            result = analyzer.analyze_file(path).to_dict()
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            return EXIT_INTERRUPTED
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
            message = _fail(state, exc, str(path))
            click.echo(f"error: {message}", err=True)
            failed += 1
            if as_json:
                click.echo(json.dumps({"file": str(path), "error": message}, ensure_ascii=False))
            continue
        if save:
            _save(state, result, path, label)
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False))
        else:
            click.echo(render(result, color))
            if n < len(files):
                click.echo("")
    if len(files) > 1:
        click.echo(f"analysed {len(files) - failed} of {len(files)} files" + (f", {failed} failed" if failed else ""), err=True)
    return EXIT_FAILED if failed else 0


def render(result: dict, color: bool) -> str:
    from .report import render_report

    return render_report(result, color=color)


def _save(state: State, result: dict, path: Path, label: str | None) -> None:
    """Store the attempt; a failure to save is reported but never loses the printed report."""
    try:
        from .store import History

        with History.open() as history:
            attempt_id = history.save(result, path, label=label)
        result["attempt_id"] = attempt_id
    except Exception as exc:  # noqa: BLE001 - the analysis itself succeeded
        click.echo(f"warning: attempt not saved: {_fail(state, exc)}", err=True)
