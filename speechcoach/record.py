"""Record the self-introduction from the microphone into a WAV file that is valid at every moment.

PortAudio's callback only queues each block (it runs on an audio thread that must not block);
the recording loop writes the blocks to a 16-bit WAV file as they arrive. libsndfile is told to
rewrite the WAV header after every write, so Ctrl-C, a crash, a full disk or even SIGKILL leaves
a complete, readable file of everything said until then.

`sounddevice` is imported only when a recording is made or devices are listed, so `analyze`
works on a machine without the PortAudio library.

    device = find_device(None)
    with Recorder(new_recording_path(), device, max_duration_s=200) as rec:
        for status in rec.statuses():
            ...  # draw status.elapsed_s, status.level_dbfs; rec.stop() from another thread
    print(rec.recording.path, rec.recording.duration_s)
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from .config import DEFAULT_TARGET_S, SAMPLE_RATE, format_duration, home_dir
from .errors import RecordingError

log = logging.getLogger(__name__)

__all__ = [
    "InputDevice",
    "Recorder",
    "Recording",
    "RecordStatus",
    "find_device",
    "list_input_devices",
    "new_recording_path",
    "RECORDINGS_DIR",
]

RECORDINGS_DIR = "recordings"  # under SPEECHCOACH_HOME
DTYPE = "int16"  # what the WAV stores: no conversion, the file holds exactly what PortAudio gave
FULL_SCALE = 32768.0  # int16 full scale, for dBFS
CHANNELS = 1
BLOCK_S = 0.1  # one block every 100 ms: the level meter updates ten times a second
POLL_S = 0.1  # how often the loop looks at the stop flag when no block came
FLOOR_DBFS = -120.0  # dBFS reported for digital silence (log of zero)
# A block whose peak is under -60 dBFS is silent (the same threshold as audio.SILENCE_PEAK).
SILENT_PEAK_DBFS = -60.0
SILENCE_WARN_S = 5.0  # this long without sound: the microphone is probably muted
OVERTIME_S = 30.0  # second cue, this long after the target
# No block for this long means the device is gone.
STALL_S = 3.0
# The first block can come late: through ALSA's pulse plugin, a process's first input stream
# delivered nothing for 0.8-1.9 s (that audio is never delivered). `start()` waits for it, so
# that "recording" is announced only when audio flows and elapsed time matches the file.
FIRST_BLOCK_S = 10.0
# libsndfile's SFC_SET_UPDATE_HEADER_AUTO (sndfile.h); soundfile does not name it.
SFC_SET_UPDATE_HEADER_AUTO = 0x1061

PORTAUDIO_MISSING = (
    "PortAudio library not found: install it with `sudo apt-get install libportaudio2` "
    "(Debian/Ubuntu), "
    "`brew install portaudio` (macOS)"
)
NO_DEVICE = (
    "no microphone found: connect one (or enable it in the system sound settings), "
    "then check with `speechcoach devices`"
)

# Events a RecordStatus can carry, each once when it happens.
EVENT_TARGET = "target"  # the target duration is reached: time to conclude
EVENT_OVERTIME = "overtime"  # target + 30 s: really stop now
EVENT_SILENT = "silent"  # no sound for SILENCE_WARN_S: muted microphone?
EVENT_SOUND = "sound"  # sound came back after EVENT_SILENT

STOP_USER = "user"  # Enter, Ctrl-C, or Recorder.stop()
STOP_MAX = "max-duration"
STOP_ERROR = "error"


def load_sounddevice():
    """Import sounddevice, or raise RecordingError saying which system package to install."""
    try:
        import sounddevice
    except OSError as exc:  # the Linux wheel does not bundle the PortAudio library
        raise RecordingError(PORTAUDIO_MISSING) from exc
    return sounddevice


@dataclass(frozen=True)
class InputDevice:
    """A device that can record, as PortAudio numbers it."""

    index: int
    name: str
    hostapi: str
    channels: int  # max input channels
    default_sample_rate: float
    is_default: bool = False

    @property
    def label(self) -> str:
        return f"#{self.index} {self.name} ({self.hostapi})"


def list_input_devices() -> list[InputDevice]:
    """Every device with at least one input channel; empty when there is none."""
    sd = load_sounddevice()
    hostapis = sd.query_hostapis()
    default_index = _default_input_index(sd)
    return [
        InputDevice(
            index=index,
            name=info["name"],
            hostapi=hostapis[info["hostapi"]]["name"],
            channels=info["max_input_channels"],
            default_sample_rate=float(info["default_samplerate"]),
            is_default=index == default_index,
        )
        for index, info in enumerate(sd.query_devices())
        if info["max_input_channels"] > 0
    ]


def _default_input_index(sd) -> int:
    default = sd.default.device[0]
    if isinstance(default, str):  # set by name by the caller: resolve through PortAudio
        try:
            return int(sd.query_devices(default, kind="input")["index"])
        except (sd.PortAudioError, ValueError):
            return -1
    return -1 if default is None else int(default)


def find_device(spec: str | int | None = None) -> InputDevice:
    """The device to record from: by index ("3"), by (part of) its name ("USB"), or the default.

    Raises RecordingError when there is no input device, or when `spec` matches none or several.
    """
    devices = list_input_devices()
    if not devices:
        raise RecordingError(NO_DEVICE)
    if spec is None or str(spec).strip() == "":
        return next((d for d in devices if d.is_default), devices[0])
    text = str(spec).strip()
    if text.isdigit():
        match = [d for d in devices if d.index == int(text)]
    else:
        match = [d for d in devices if d.name.lower() == text.lower()] or [
            d for d in devices if text.lower() in d.name.lower()
        ]
    if len(match) == 1:
        return match[0]
    known = ", ".join(d.label for d in devices)
    if not match:
        raise RecordingError(f"no input device matches {text!r}; choose one of: {known}")
    names = ", ".join(d.label for d in match)
    raise RecordingError(
        f"{text!r} matches several input devices ({names}); give its number instead"
    )


def new_recording_path(now: datetime | None = None) -> Path:
    """A fresh timestamped path under SPEECHCOACH_HOME/recordings/ (the folder is created)."""
    folder = home_dir() / RECORDINGS_DIR
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RecordingError(
            f"cannot create {folder}: {exc.strerror}; choose a file with --out"
        ) from exc
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    path = folder / f"intro-{stamp}.wav"
    suffix = 2
    while path.exists():  # two recordings in the same second
        path = folder / f"intro-{stamp}-{suffix}.wav"
        suffix += 1
    return path


@dataclass(frozen=True)
class RecordStatus:
    """What the recording loop reports after each block, for the CLI to draw."""

    elapsed_s: float
    level_dbfs: float  # RMS of the last block
    peak_dbfs: float
    silent_for_s: float  # how long the input has been silent (0 while there is sound)
    target_s: float
    events: tuple[str, ...] = ()  # EVENT_* that happened with this block


@dataclass(frozen=True)
class Recording:
    """A finished (or cut short) recording: the WAV at `path` holds `frames` frames."""

    path: Path
    frames: int
    sample_rate: int
    device: InputDevice
    stopped_by: str  # STOP_USER, STOP_MAX or STOP_ERROR

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


class _Levels:
    """Turns blocks into RecordStatus: level meter, silence timer, and the cues at the target."""

    def __init__(self, sample_rate: int, target_s: float, silence_warn_s: float):
        self._rate = sample_rate
        self._target_s = target_s
        self._silence_warn_s = silence_warn_s
        self._silent_frames = 0
        self._warned_silent = False

    def update(self, block: np.ndarray, frames_before: int) -> RecordStatus:
        samples = block.astype(np.float32) / FULL_SCALE
        rms = float(np.sqrt(np.mean(samples * samples))) if samples.size else 0.0
        peak = float(np.max(np.abs(samples))) if samples.size else 0.0
        peak_dbfs = _dbfs(peak)
        frames_after = frames_before + len(block)
        events = list(self._cues(frames_before / self._rate, frames_after / self._rate))
        if peak_dbfs < SILENT_PEAK_DBFS:
            self._silent_frames += len(block)
        else:
            self._silent_frames = 0
            if self._warned_silent:
                self._warned_silent = False
                events.append(EVENT_SOUND)
        silent_for = self._silent_frames / self._rate
        if silent_for >= self._silence_warn_s and not self._warned_silent:
            self._warned_silent = True
            events.append(EVENT_SILENT)
        return RecordStatus(
            elapsed_s=frames_after / self._rate,
            level_dbfs=_dbfs(rms),
            peak_dbfs=peak_dbfs,
            silent_for_s=silent_for,
            target_s=self._target_s,
            events=tuple(events),
        )

    def _cues(self, before_s: float, after_s: float) -> Iterator[str]:
        for at, event in (
            (self._target_s, EVENT_TARGET),
            (self._target_s + OVERTIME_S, EVENT_OVERTIME),
        ):
            if before_s < at <= after_s:
                yield event


def _dbfs(amplitude: float) -> float:
    return max(FLOOR_DBFS, 20.0 * float(np.log10(amplitude))) if amplitude > 0 else FLOOR_DBFS


class Recorder:
    """Records from `device` into a new 16-bit WAV at `path`, block by block.

    Use as a context manager and iterate `statuses()`; the loop ends on `stop()` (safe from
    any thread or a signal handler) or at `max_duration_s`. Leaving the `with` block stops the
    stream at once (abort: a stopped PulseAudio source can make a graceful stop hang), writes
    the blocks still queued, and closes the file; `recording` then says what was saved.
    """

    def __init__(
        self,
        path: Path,
        device: InputDevice,
        *,
        target_s: float = DEFAULT_TARGET_S,
        max_duration_s: float | None = None,
        silence_warn_s: float = SILENCE_WARN_S,
    ):
        self.path = Path(path)
        self.device = device
        self.target_s = target_s
        self.max_duration_s = max_duration_s
        self._silence_warn_s = silence_warn_s
        self._queue: queue.Queue[np.ndarray] = queue.Queue()
        self._stop = threading.Event()
        self._lost = threading.Event()  # PortAudio ended the stream by itself
        self._flowing = threading.Event()  # the first block arrived
        self._file = None
        self._stream = None
        self._quiet = contextlib.ExitStack()
        self._rate = SAMPLE_RATE
        self._frames = 0
        self._overflows = 0  # blocks PortAudio flagged: audio lost because the machine was too busy
        self._stopped_by = STOP_USER
        self.recording: Recording | None = None

    # -- life cycle ---------------------------------------------------------------------------

    def __enter__(self) -> Recorder:
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self._stopped_by = STOP_ERROR
        self.close()

    def start(self) -> None:
        """Open the file and the stream, and start recording. Raises RecordingError."""
        sd = load_sounddevice()
        self._rate = _supported_rate(sd, self.device)
        self._file = _create_wav(self.path, self._rate)
        if not log.isEnabledFor(logging.DEBUG):
            self._quiet.enter_context(_c_stderr_to_devnull())
        try:
            self._stream = sd.InputStream(
                device=self.device.index,
                channels=CHANNELS,
                dtype=DTYPE,
                samplerate=self._rate,
                blocksize=int(self._rate * BLOCK_S),
                callback=self._callback,
                finished_callback=self._lost.set,
            )
            self._stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            self._abandon()
            raise RecordingError(
                f"cannot open {self.device.label}: {_portaudio_reason(exc)}; close "
                "other programs that use "
                "the microphone, or pick another device with --device (see `speechcoach devices`)"
            ) from exc
        if not self._flowing.wait(FIRST_BLOCK_S):
            self._abandon()
            raise RecordingError(
                f"{self.device.label} sent no audio within {FIRST_BLOCK_S:.0f} s; check that it "
                "is connected and "
                "not used by another program, or pick another device with --device (see "
                "`speechcoach devices`)"
            )
        log.info("recording %s from %s at %d Hz", self.path, self.device.label, self._rate)

    def _abandon(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)  # nothing was recorded: leave no empty file behind

    def stop(self) -> None:
        """Ask the loop in `statuses()` to end after the current block."""
        self._stop.set()

    def close(self) -> Recording:
        """Stop the stream, write what is still queued, close the file. Safe to call twice."""
        if self._stream is not None:
            stream, self._stream = self._stream, None
            try:
                stream.abort()
                stream.close()
            except (
                Exception
            ) as exc:  # a device that vanished may fail to close; the file matters more
                log.warning("closing the input stream failed: %s", exc)
        if self._file is not None:
            try:
                self._drain()
            except RecordingError as exc:
                log.warning("%s", exc)
            finally:
                self._file.close()
                self._file = None
        self._quiet.close()
        if self.recording is None:
            self.recording = Recording(
                self.path, self._frames, self._rate, self.device, self._stopped_by
            )
        return self.recording

    # -- recording loop -----------------------------------------------------------------------

    def statuses(self) -> Iterator[RecordStatus]:
        """Write blocks as they come and yield a status after each one, until stopped.

        Raises RecordingError when the device stops delivering audio or the file cannot grow;
        the file then holds everything recorded until that moment.
        """
        levels = _Levels(self._rate, self.target_s, self._silence_warn_s)
        last_block = time.monotonic()
        overflows = 0
        while not self._stop.is_set():
            try:
                block = self._queue.get(timeout=POLL_S)
            except queue.Empty:
                self._check_alive(time.monotonic() - last_block)
                continue
            last_block = time.monotonic()
            if self._overflows != overflows:
                overflows = self._overflows
                log.warning(
                    "input overflow at %s: the computer was too busy and a moment of "
                    "audio was lost",
                    format_duration(self._frames / self._rate),
                )
            block = self._fit(block)
            frames_before = self._frames
            self._write(block)
            yield levels.update(block, frames_before)
            if self._reached_max():
                self._stopped_by = STOP_MAX
                return
        self._stopped_by = STOP_USER

    def _callback(self, indata, frames, time_info, status) -> None:
        # PortAudio's thread: no I/O here, only hand the block over.
        if status.input_overflow:
            self._overflows += 1
        self._queue.put(indata.copy())
        self._flowing.set()

    def _check_alive(self, waited_s: float) -> None:
        if self._lost.is_set() or waited_s > STALL_S:
            self._stopped_by = STOP_ERROR
            raise RecordingError(
                f"{self.device.label} stopped sending audio after "
                f"{format_duration(self._frames / self._rate)} "
                "(unplugged, or taken by another program?)"
            )

    def _fit(self, block: np.ndarray) -> np.ndarray:
        """Cut the block so the recording ends exactly at max_duration_s."""
        if self.max_duration_s is None:
            return block
        room = int(round(self.max_duration_s * self._rate)) - self._frames
        return block[: max(room, 0)]

    def _reached_max(self) -> bool:
        return self.max_duration_s is not None and self._frames >= int(
            round(self.max_duration_s * self._rate)
        )

    def _write(self, block: np.ndarray) -> None:
        if not len(block):
            return
        try:
            self._file.write(block)
        except (RuntimeError, OSError) as exc:  # soundfile.LibsndfileError is a RuntimeError
            self._stopped_by = STOP_ERROR
            raise RecordingError(
                f"cannot write to {self.path} after {format_duration(self._frames / self._rate)}: "
                f"{_write_reason(self._file, exc)}; free some disk space or record to another "
                "disk with --out"
            ) from exc
        self._frames += len(block)

    def _drain(self) -> None:
        while True:
            try:
                block = self._queue.get_nowait()
            except queue.Empty:
                return
            if self._stopped_by != STOP_ERROR:
                self._write(self._fit(block))


def _supported_rate(sd, device: InputDevice) -> int:
    """16 kHz when the device takes it (no resampling later), else the device's own rate."""
    rates = [SAMPLE_RATE] + (
        [int(device.default_sample_rate)] if device.default_sample_rate else []
    )
    reason = ""
    for rate in rates:
        try:
            sd.check_input_settings(
                device=device.index, channels=CHANNELS, dtype=DTYPE, samplerate=rate
            )
            return rate
        except (sd.PortAudioError, ValueError) as exc:
            reason = _portaudio_reason(exc)
    raise RecordingError(
        f"{device.label} cannot record 16-bit mono at {' or '.join(map(str, rates))} Hz "
        f"({reason}); "
        "pick another device with --device (see `speechcoach devices`)"
    )


def _create_wav(path: Path, rate: int):
    """Create the WAV (never overwrite) with libsndfile's header auto-update turned on."""
    import soundfile

    try:
        handle = soundfile.SoundFile(
            path, "x", samplerate=rate, channels=CHANNELS, format="WAV", subtype="PCM_16"
        )
    except FileExistsError as exc:
        raise RecordingError(
            f"{path} already exists; choose another name with --out, or delete it"
        ) from exc
    except OSError as exc:
        raise RecordingError(
            f"cannot create {path}: {exc.strerror or exc}; choose another place with --out"
        ) from exc
    except RuntimeError as exc:
        raise RecordingError(
            f"cannot create {path}: {_sndfile_reason(exc)}; choose another place with --out"
        ) from exc
    _update_header_after_every_write(handle)
    return handle


def _update_header_after_every_write(handle) -> None:
    # Without this the header says "0 data bytes" until close, and a killed process leaves a
    # file that Python's wave module and sox refuse. Costs one small seek+write per block.
    from soundfile import _ffi, _snd

    if not _snd.sf_command(handle._file, SFC_SET_UPDATE_HEADER_AUTO, _ffi.NULL, 1):
        log.warning("libsndfile refused header auto-update: a killed recording may need repair")


@contextlib.contextmanager
def _c_stderr_to_devnull():
    """Send what C libraries print to stderr to /dev/null; Python's own stderr is untouched.

    When a device disappears, PortAudio's ALSA backend prints "Expression ... failed in
    pa_linux_alsa.c" lines through C's `stderr` FILE*; the user gets our one-line error instead.
    Python writes to file descriptor 2 directly, so the live line and errors still show.
    """
    if not sys.platform.startswith("linux"):
        yield
        return
    from cffi import FFI

    ffi = FFI()
    ffi.cdef(
        "extern FILE *stderr; FILE *fopen(const char *path, const char *mode); int "
        "fclose(FILE *fp);"
    )
    try:
        libc = ffi.dlopen(None)
        devnull = libc.fopen(b"/dev/null", b"w")
        previous = libc.stderr
    except (OSError, AttributeError, KeyError):  # not glibc-like: keep the noise rather than fail
        yield
        return
    libc.stderr = devnull
    try:
        yield
    finally:
        libc.stderr = previous
        libc.fclose(devnull)


def _portaudio_reason(exc: Exception) -> str:
    args = getattr(exc, "args", ())
    return str(args[0]) if args else str(exc)


def _write_reason(handle, exc: Exception) -> str:
    # soundfile only says "System error."; libsndfile keeps the OS's words ("No space left on
    # device").
    try:
        from soundfile import _ffi, _snd

        text = _ffi.string(_snd.sf_strerror(handle._file)).decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - only a better message is at stake
        text = ""
    text = text.removeprefix("System error :").strip().rstrip(".")
    return text or _sndfile_reason(exc)


def _sndfile_reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
