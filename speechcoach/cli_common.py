"""What every command shares: the group with its one error boundary, the state, and the
options of the commands that transcribe. The commands themselves: cli.py (analyze, summary,
serve), cli_record.py (record, devices), cli_history.py, cli_models.py.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from . import __version__
from .config import load_targets, parse_duration
from .engines import DEFAULT_ENGINE, ENGINES
from .errors import SpeechcoachError
from .outcome import EXIT_FAILED, EXIT_INTERRUPTED
from .transcribe import TranscribeOptions

TARGET_HELP = (
    "Target length, e.g. 3m, 90s, 1m30s (default: config.toml's, else 3m, the article's advice)."
)


@dataclass
class State:
    debug: bool = False
    show_all: bool = False  # --all: every tip in full, not three then one line each
    config: Path | None = None  # --config; None: SPEECHCOACH_HOME/config.toml if it exists


def fail_line(state: State, exc: BaseException, context: str = "") -> str:
    """One line for the user; with --debug, the exception itself (its traceback)."""
    if state.debug:
        raise exc
    if isinstance(exc, SpeechcoachError):
        return str(exc)
    prefix = f"{context}: " if context else ""
    return (
        f"{prefix}unexpected error ({type(exc).__name__}: {exc}); "
        "rerun with --debug for details and report it"
    )


class Boundary(click.Group):
    """The one error boundary of the command line: a SpeechcoachError (what happened, what to
    do) becomes one line on stderr and exit 1; any other exception the "unexpected error" line
    (its traceback with --debug); Ctrl-C exit 130. Commands just raise."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("\ninterrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except Exception as exc:  # noqa: BLE001 - the boundary: one line, never a traceback
            state = ctx.obj if isinstance(ctx.obj, State) else State(debug="--debug" in sys.argv)
            context = "" if isinstance(exc, SpeechcoachError) else ctx.invoked_subcommand or ""
            click.echo(f"error: {fail_line(state, exc, context)}", err=True)
            ctx.exit(EXIT_FAILED)


@click.group(cls=Boundary, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="speechcoach")
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.option(
    "-v", "--verbose", count=True, help="More status on stderr (-v: steps, -vv: everything)."
)
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Reference bands and target from this TOML file "
    "(default: SPEECHCOACH_HOME/config.toml if present).",
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


def duration_flag(ctx, param, value):
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


def language_flag(ctx, param, value):
    """A Whisper language code, checked before any model loads ("EN" is taken as "en")."""
    if value is None:
        return None
    from faster_whisper.tokenizer import _LANGUAGE_CODES  # Whisper's own list, no model needed

    code = value.strip().lower()
    if code not in _LANGUAGE_CODES:
        raise click.BadParameter(
            f"{value!r} is not a Whisper language code; "
            "use a two-letter code such as en, ja, zh, ko, es, de, fr"
        )
    return code


def whisper_options(device_flag: str = "--device", target_help: str = TARGET_HELP):
    """Options of every command that transcribes (analyze, record, serve): --language,
    --model, --engine, the device Whisper runs on, --target. `record` names its device flag
    --whisper-device (its --device is the microphone); the parameter is `device` either way."""

    def apply(func):
        decorators = [
            click.option(
                "--language",
                default=None,
                callback=language_flag,
                metavar="CODE",
                help="Language spoken, e.g. en or ja (default: detect).",
            ),
            click.option(
                "--model",
                default=None,
                metavar="NAME|PATH",
                help="Whisper model: tiny.en or base (bundled), another size (downloaded when "
                "online), or a local model folder / .pt file. Default: base (it also detects "
                "the language: one model in memory).",
            ),
            click.option(
                "--fast",
                is_flag=True,
                help="English with tiny.en: about 1.7x faster, less accurate on accents and "
                "noise (no language detection: English unless --language).",
            ),
            click.option(
                "--engine",
                type=click.Choice(ENGINES),
                default=DEFAULT_ENGINE,
                show_default=True,
                help="Whisper implementation.",
            ),
            click.option(
                device_flag,
                "device",
                type=click.Choice(["auto", "cpu", "cuda"]),
                default="auto",
                show_default=True,
                help="Where Whisper runs (cuda if available with auto).",
            ),
            click.option(
                "--target",
                default=None,
                callback=duration_flag,
                metavar="DURATION",
                help=target_help,
            ),
        ]
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


def attempt_options(json_help: str):
    """--json, --no-save, --label: what becomes of an analysed attempt (analyze, record)."""

    def apply(func):
        func = click.option(
            "--label", default=None, help='A note stored with the attempt, e.g. "v3, slower".'
        )(func)
        func = click.option(
            "--no-save", is_flag=True, help="Do not store this attempt in the history."
        )(func)
        return click.option("--json", "as_json", is_flag=True, help=json_help)(func)

    return apply


def build_analyzer(language, model, engine, device, target, fast=False):
    from .analyze import AnalyzeOptions, Analyzer

    options = AnalyzeOptions(
        transcribe=TranscribeOptions(
            engine=engine, model=model, language=language, device=device, fast=fast
        ),
        targets=load_targets(click.get_current_context().obj.config, target_s=target),
    )
    return Analyzer(options)


def all_option(func):
    """--all (analyze, record, show): print every tip in full."""

    def remember(ctx, _param, value):
        if value and ctx.obj is not None:
            ctx.obj.show_all = True
        return value

    return click.option(
        "--all",
        "show_all",
        is_flag=True,
        expose_value=False,
        callback=remember,
        help="Print every tip in full (by default: three in full, then one line each).",
    )(func)


def cluster_flag(ctx, param, value):
    if value is None:
        return None
    from .cluster import ClusterSpec

    try:
        return ClusterSpec.parse(value)
    except SpeechcoachError as exc:
        raise click.BadParameter(str(exc)) from exc


def summary_options(*, links: bool):
    """--csv / --html: the class table, for `analyze` (links=True: --html-dir makes each row link
    to its recording's report) and `summary` (a results file carries no report to link to)."""
    html_help = "Write the class summary as one self-contained, sortable HTML page" + (
        " (with --html-dir, each row links to its recording's report)." if links else "."
    )
    return lambda func: _summary_options(func, html_help)


def _summary_options(func, html_help: str):
    func = click.option(
        "--html",
        "html_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=html_help,
    )(func)
    return click.option(
        "--csv",
        "csv_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Write the class summary (one row per recording) as CSV for a spreadsheet.",
    )(func)
