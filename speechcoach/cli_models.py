"""`speechcoach models`: the Whisper models this tool can use; convert one for openai-whisper."""

from __future__ import annotations

import json
import sys

import click

from .cli_common import State, main


@main.group(invoke_without_command=True)
@click.pass_context
def models(ctx: click.Context) -> None:
    """List the Whisper models this tool can use (same as `models list`), or convert one.

    Bundled models (tiny.en, base) run on faster-whisper as shipped; for
    `--engine openai-whisper` they are converted once into SPEECHCOACH_HOME/models/openai-whisper.
    Put your own models in SPEECHCOACH_HOME/models/local (NAME.pt, or a faster-whisper
    folder NAME/).
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

    found = list_models()
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
                for i, (cell, w) in enumerate(zip(row[:4], widths, strict=True))
            )
            + "  "
            + row[4]
        )
    converted = {m.name for m in found if m.kind == "converted"}
    pending = [n for n in BUNDLED_MODELS if n not in converted]
    if pending and find_spec("whisper") is not None:
        click.echo(
            f"{' and '.join(pending)} can also run on --engine openai-whisper: converted on "
            "first use, or now with `speechcoach models convert NAME`",
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
    finally:  # the bar ends its line before any error (ModelError carries the fix)
        bar.close()
    if existed:
        click.echo(
            f"{name} was already converted and is intact (use --force to convert again)", err=True
        )
    else:
        click.echo(
            f"converted {name} in {time.perf_counter() - started:.1f} s "
            f"({_megabytes(result.size_bytes)})",
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
