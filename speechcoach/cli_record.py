"""`speechcoach record` and `devices`: record from the microphone (record.py, with the terminal
side in record_ui.py), then analyse the take as `analyze` does."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .cli_batch import Batch, analyze_and_report
from .cli_common import (
    State,
    all_option,
    attempt_options,
    build_analyzer,
    duration_flag,
    fail_line,
    main,
    whisper_options,
)
from .config import load_targets
from .errors import RecordingError
from .outcome import EXIT_INTERRUPTED, Outcome
from .record_ui import record_session


@main.command()
@click.pass_obj
def devices(state: State) -> None:
    """List the microphones (input devices) that `record --device` accepts."""
    from .record import list_input_devices

    found = list_input_devices()
    if not found:
        from .record import NO_DEVICE

        raise RecordingError(NO_DEVICE)
    for device in found:
        mark = "*" if device.is_default else " "
        click.echo(
            f"{mark} {device.index:>3}  {device.name}  "
            f"({device.hostapi}, {device.channels} ch, {device.default_sample_rate:g} Hz)"
        )


@main.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the WAV here (never overwritten). "
    "Default: a timestamped file under SPEECHCOACH_HOME/recordings/.",
)
@click.option(
    "--device",
    "input_device",
    default=None,
    metavar="N|NAME",
    help="Microphone: its number or part of its name in `speechcoach devices` "
    "(default: the system's input).",
)
@click.option(
    "--max-duration",
    default=None,
    callback=duration_flag,
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
@whisper_options(
    "--whisper-device",
    target_help="Target length (default: config.toml's, else 3m): the live line counts towards "
    "it and cues you at it and 30 s after.",
)
@attempt_options("Print the analysis as JSON instead of the report.")
@all_option
@click.pass_context
def record(ctx, out, input_device, max_duration, countdown, no_countdown, **analysis):
    """Record your self-introduction from the microphone, then analyse it like `analyze`.

    Stop with Enter or Ctrl-C, or let --max-duration stop it. The WAV is written while you
    speak, so a crash or a kill keeps everything said until then.

    Exit code: 0 if recorded and analysed, 1 on any error (the recording is kept), 130 if
    Ctrl-C is pressed a second time, during the analysis.
    """
    from .record import new_recording_path

    state: State = ctx.obj
    analysis["target"] = load_targets(state.config, target_s=analysis["target"]).duration_s
    path = out
    try:
        path = path if path is not None else new_recording_path()
        seconds = 0 if no_countdown else countdown
        recording = record_session(
            state, path, input_device, max_duration, seconds, analysis["target"]
        )
        outcome = _analyze_recording(state, recording, **analysis)
    except KeyboardInterrupt:  # during the countdown, or a second Ctrl-C before the analysis
        if path is not None and path.exists():
            click.echo(
                f"\ninterrupted: the recording is kept in {path}; "
                f"analyse it again with: speechcoach analyze {path}",
                err=True,
            )
        else:
            click.echo("\ncancelled before recording started", err=True)
        ctx.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - with --json, a script still gets its one object
        if analysis["as_json"]:
            _json_failure(state, exc, path)
        raise
    ctx.exit(outcome.exit_code)


def _json_failure(state: State, exc: Exception, path: Path | None) -> None:
    """Like `analyze --json`: a script always gets one object per file. "file" names only a
    recording that exists: a script must not go looking for one never created."""
    message = fail_line(state, exc, "record")
    recorded = str(path) if path and path.exists() else None
    click.echo(json.dumps({"file": recorded, "error": message}, ensure_ascii=False))


def _analyze_recording(
    state: State,
    recording,
    language,
    model,
    engine,
    device,
    target,
    as_json,
    no_save,
    label,
    fast=False,
) -> Outcome:
    from .audio import MIN_SPEECH_S

    path = recording.path
    again = f"the recording is kept in {path}; analyse it again with: speechcoach analyze {path}"
    outcome = Outcome(total=1)
    if recording.duration_s < MIN_SPEECH_S:
        message = (
            f"only {recording.duration_s:.1f} s recorded, too short to analyse "
            f"(at least {MIN_SPEECH_S:.0f} s); the file is kept in {path}"
        )
        click.echo(f"error: {message}", err=True)
        if as_json:
            click.echo(json.dumps({"file": str(path), "error": message}, ensure_ascii=False))
        outcome.fail()
        return outcome
    failures: list = []
    batch = Batch(state, [path], as_json=as_json, save=not no_save, label=label, failures=failures)
    try:
        outcome = analyze_and_report(
            batch, build_analyzer(language, model, engine, device, target, fast)
        )
    except KeyboardInterrupt as exc:
        click.echo(outcome.interrupt(exc), err=True)
    except Exception as exc:  # noqa: BLE001 - e.g. a model that cannot load: say so, keep the file
        click.echo(f"error: {fail_line(state, exc, 'analysis')}", err=True)
        outcome.fail()
    if outcome.exit_code != 0:
        from .errors import AudioError

        # A silent or speechless take gives the same answer every time: the error already says
        # to record again, so do not also suggest analysing this file again.
        about_the_take = any(isinstance(f.exception, AudioError) for f in failures)
        click.echo(f"the recording is kept in {path}" if about_the_take else again, err=True)
    return outcome
