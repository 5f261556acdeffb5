"""The terminal side of `speechcoach record`: countdown, Enter or Ctrl-C to stop, and the
live line (elapsed time against the target, a level meter, the cues at the target and after).
The recorder itself is record.py; this module only talks to the person at the terminal."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .cli_common import State, fail_line
from .config import format_duration
from .errors import RecordingError

PLAIN_STATUS_EVERY_S = 10.0  # without a terminal, one plain status line this often
METER_CELLS = 20
METER_FLOOR_DBFS = -60.0  # the meter's left end; speech usually sits around -30 to -10 dBFS


def record_session(
    state: State, path: Path, input_device, max_duration, countdown: int, target: float
):
    """Record until stopped, showing the live line; return the Recording, or raise
    RecordingError (the file kept, with what was recorded until then)."""
    from .audio import MIN_SPEECH_S
    from .record import Recorder, find_device

    device = find_device(input_device)
    if path.exists():
        raise RecordingError(f"{path} already exists; choose another name with --out, or delete it")
    count_down(countdown)
    recorder = Recorder(path, device, target_s=target, max_duration_s=max_duration)
    failure: BaseException | None = None
    with stop_on_sigint(recorder):
        recorder.start()
        how = "press Enter or Ctrl-C to stop" if sys.stdin.isatty() else "Ctrl-C to stop"
        limit = f", stops by itself at {format_duration(max_duration)}" if max_duration else ""
        click.echo(f"Recording to {path} from {device.label}; {how}{limit}", err=True)
        stop_on_enter(recorder)
        live = LiveLine(device.label)
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
        raise RecordingError(f"{fail_line(state, failure, 'recording')}; the {kept}") from failure
    click.echo(f"Saved {recording.duration_s:.1f} s to {path}", err=True)
    return recording


def count_down(seconds: int) -> None:
    import time

    for left in range(seconds, 0, -1):
        click.echo(f"Recording in {left}...", err=True)
        time.sleep(1)


class stop_on_sigint:
    """While recording, Ctrl-C stops the recording (the file is closed properly) instead of
    killing the process."""

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


def stop_on_enter(recorder) -> None:
    """Stop on Enter; only from a terminal, so that a script's stdin is never consumed."""
    import threading

    if not sys.stdin.isatty():
        return

    def wait_for_enter():
        sys.stdin.readline()
        recorder.stop()

    threading.Thread(target=wait_for_enter, name="stop-on-enter", daemon=True).start()


class LiveLine:
    """Elapsed time against the target and a level meter on stderr: redrawn in place on a
    terminal, an occasional plain line otherwise (logs, CI). Cues and warnings get their own
    line."""

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
            return (
                f"{bell}{format_duration(status.target_s)}: target reached, "
                "time to conclude with your plan"
            )
        if event == EVENT_OVERTIME:
            return (
                f"{bell}{format_duration(status.elapsed_s)}: 30 s over the target; "
                "finish your sentence and stop"
            )
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
