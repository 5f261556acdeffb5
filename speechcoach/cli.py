"""The command line: parse, call the core, render. Data on stdout, status on stderr.

A command parses its options, calls one core function and renders what it returns. The group
(cli_common.Boundary) is the one error boundary: a domain error is one line and exit 1. An
`Outcome` (outcome.py) counts analysed, failed and unsaved files and owns the exit code.
Here: analyze, summary, serve; record and devices in cli_record.py; the history commands in
cli_history.py; models in cli_models.py.
"""

from __future__ import annotations

from pathlib import Path

import click

from . import cli_history, cli_models, cli_record  # noqa: F401 - they add their commands
from .cli_batch import (
    Batch,
    analyze_and_report,
    class_summary,
    terminate_as_interrupt,
    write_summary,
)
from .cli_common import (
    State,
    all_option,
    attempt_options,
    build_analyzer,
    cluster_flag,
    main,
    summary_options,
    whisper_options,
)
from .errors import SpeechcoachError
from .outcome import EXIT_FAILED

__all__ = ["main"]


@main.command()
# readable=False: an unreadable file is a per-file error (load_audio), not a usage error that
# stops the whole batch.
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, readable=False))
@whisper_options()
@attempt_options("Print JSON Lines (one object per file) instead of the report.")
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
    help="Store a new attempt even if this audio was analysed before "
    "(default: update that attempt).",
)
@click.option(
    "--cluster",
    default=None,
    callback=cluster_flag,
    metavar="tcp://HOST:8786|local:N",
    help="Run the batch on a Dask cluster: a scheduler's address, or N local worker processes "
    "(pip install 'speechcoach[cluster]').",
)
@summary_options(links=True)
@click.option(
    "--html-dir",
    "html_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also write one self-contained HTML report per file (audio embedded) into this folder.",
)
@all_option
@click.pass_context
def analyze(ctx, paths, language, model, engine, device, target, as_json, no_save, label, **more):
    """Analyse recordings (files or folders, searched recursively) and print feedback.

    Exit code: 0 if every file was analysed, 1 if any failed, 2 for usage errors.
    """
    jobs, cluster = more["jobs"], more["cluster"]
    if cluster is not None and jobs > 1:
        raise click.UsageError(
            "--jobs and --cluster exclude each other: the cluster's workers are the jobs"
        )
    summary = class_summary(more["csv_path"], more["html_path"])
    files = _audio_files(paths)
    analyzer = build_analyzer(language, model, engine, device, target, more["fast"])
    batch = Batch(
        ctx.obj,
        files,
        as_json=as_json,
        save=not no_save,
        label=label,
        new_attempt=more["new_attempt"],
        summary=summary,
        html_dir=more["html_dir"],
    )
    with terminate_as_interrupt():
        outcome = analyze_and_report(batch, analyzer, jobs=jobs, cluster=cluster)
    ctx.exit(outcome.exit_code)


def _audio_files(paths) -> list[Path]:
    """The recordings under `paths`, each once (a note for each repeat), or a SpeechcoachError."""
    from .audio import find_audio_files

    duplicates: list[tuple[Path, Path]] = []
    files = find_audio_files(list(paths), duplicates=duplicates)
    for again, first in duplicates:  # one note each: no input is dropped without a word
        same = "given twice" if again == first else f"the same file as {first}"
        click.echo(f"note: {again} is {same}; analysed once", err=True)
    if not files:
        raise SpeechcoachError("no audio files found in: " + ", ".join(map(str, paths)))
    return files


@main.command()
@click.argument("results", type=click.Path(dir_okay=False, path_type=Path))
@summary_options(links=False)
@click.pass_context
def summary(ctx, results: Path, csv_path: Path | None, html_path: Path | None):
    """Write the class summary (CSV and/or HTML) of a results file from `analyze --json`."""
    from .summary import read_records

    if csv_path is None and html_path is None:
        raise click.UsageError("give --csv FILE and/or --html FILE")
    table = class_summary(csv_path, html_path)
    for record in read_records(results):
        table.add(record)
    ctx.exit(0 if write_summary(ctx.obj, table) else EXIT_FAILED)


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
@whisper_options(
    "--whisper-device", target_help="Default target length (default: config.toml's, else 3m)."
)
@click.pass_obj
def serve(
    state: State, port, host, no_browser, max_upload, language, model, fast, engine, device, target
):
    """Open speechcoach in the browser: record, upload, reports with playback, history.

    Everything stays on this computer; the models load once, on the first analysis.
    """
    from .web.server import serve as run_server

    run_server(
        build_analyzer(language, model, engine, device, target, fast),
        host=host,
        port=port,
        open_browser=not no_browser,
        max_upload_bytes=max_upload * 1000 * 1000,
        debug=state.debug,
        echo=lambda text: click.echo(text, err=True),
    )
