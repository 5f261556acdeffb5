"""The history commands: history, show, compare, progress, forget, export, import.

Each opens the store (store.py) for the command's life, calls one function of the core
(store.py, progress.py) and renders; errors go to the group's boundary (cli_common.Boundary).
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from .cli_batch import render, write_html
from .cli_common import State, all_option, main
from .config import load_targets
from .errors import StoreError
from .outcome import EXIT_FAILED


def _report_damaged(history) -> None:
    """Once per command: the attempts left out because their stored analysis is unreadable."""
    for attempt_id, reason in sorted(history.damaged.items()):
        click.echo(
            f"warning: attempt #{attempt_id} is damaged ({reason}) and was skipped; the others are "
            f"intact (`speechcoach forget {attempt_id}` removes it)",
            err=True,
        )


def _history_command(func=None, *, read_only: bool = False):
    """Run a history command with the store open (and closed after, damaged attempts named).
    `read_only` commands still work where the history's folder cannot be written."""
    if func is None:
        return functools.partial(_history_command, read_only=read_only)

    @functools.wraps(func)
    def wrapper(state: State, *args, **kwargs):
        from .store import History

        history = History.open(read_only_ok=read_only)
        try:
            return func(state, history, *args, **kwargs)
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
@all_option
@click.pass_obj
@_history_command(read_only=True)
def show(state: State, store, attempt_id, as_json, html_file):
    """Show the full report of a past attempt (default: the newest), without re-transcribing."""
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
        if not write_html(state, record, html_file.parent, html_file):
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
        from .progress import format_when

        # Local time, and the same event as `history` (when the attempt was saved); a later
        # re-analysis of the same audio is said apart.
        label = f' "{attempt.label}"' if attempt.label else ""
        when = f"saved {format_when(attempt.created_at)}"
        if attempt.updated_at and attempt.updated_at != attempt.created_at:
            when += f", re-analysed {format_when(attempt.updated_at)}"
        click.echo(f"attempt #{attempt.id}{label}, {when}", err=True)
        click.echo(render(attempt.result, sys.stdout.isatty(), state.show_all))


@main.command()
@click.argument("ids", metavar="[A] [B]", type=int, nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@click.pass_obj
@_history_command(read_only=True)
def compare(state: State, store, ids, as_json):
    """Compare two attempts side by side (default: the last two; with one ID: that one and the
    newest)."""
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
    help="Also write the chart to this file, in the format its suffix names (png, pdf, svg...), "
    "e.g. progress.png.",
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
    if plot is not None and not result.attempts:
        click.echo(f"no attempts yet, so no chart was written to {plot}", err=True)
    elif plot is not None:
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
            f"delete {len(set(ids))} attempt(s) "
            f"({', '.join(f'#{i}' for i in dict.fromkeys(ids))})?",
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
    raise StoreError(refusal)


@main.command("import")
@click.argument("source", metavar="FILE", type=click.File("r", encoding="utf-8-sig"))
@click.pass_obj
@_history_command
def import_history(state: State, store, source):
    """Merge a JSON export (from `speechcoach export`) into the history; FILE may be - for stdin."""
    try:
        data = json.load(source)
    except UnicodeDecodeError as exc:
        raise StoreError(
            f"{source.name} is not UTF-8 text ({exc.reason}); "
            "give a file made by `speechcoach export`"
        ) from exc
    except (ValueError, RecursionError) as exc:  # bad JSON, a number too long, nesting too deep
        raise StoreError(
            f"{source.name} is not valid JSON ({exc}); give a file made by `speechcoach export`"
        ) from exc
    result = store.import_(data)
    click.echo(
        f"imported {result.added} new, {result.updated} updated, {result.skipped} already there",
        err=True,
    )
