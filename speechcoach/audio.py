"""Audio in: decode any common recording once into 16 kHz mono float32.

PyAV (FFmpeg's libraries, bundled in its wheel) decodes wav, flac, mp3, ogg/opus and m4a/aac
alike, so no system ffmpeg and no deprecated audioread fallback are needed.
"""

from __future__ import annotations

import io
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from .config import SAMPLE_RATE
from .errors import AudioError

log = logging.getLogger(__name__)

AUDIO_EXTENSIONS = frozenset(
    {
        ".wav",
        ".flac",
        ".mp3",
        ".ogg",
        ".oga",
        ".opus",
        ".m4a",
        ".aac",
        ".mp4",
        ".webm",
        ".wma",
        ".aiff",
        ".aif",
    }
)
SUPPORTED = "supported: wav, flac, mp3, ogg, opus, m4a, aac (and other formats FFmpeg reads)"
MIN_SPEECH_S = 3.0  # shorter than this there is nothing to coach
MAX_DURATION_S = (
    30 * 60.0
)  # a self-introduction is minutes, not hours: refuse early, before transcribing
# NaN/Inf samples up to this share of the clip are set to silence; more and the file is refused.
MAX_INVALID_SHARE = 0.10
# A pipe is read whole into memory before decoding: a 30-minute 48 kHz stereo WAV is ~350 MB.
MAX_STREAM_BYTES = 512 << 20
GROUP_SAMPLES = 1 << 16  # decoded samples resampled at a time (1.4 s at 48 kHz): see _FrameGroup
# Peak below this (about -60 dBFS) is treated as silence: a muted microphone or an empty track.
SILENCE_PEAK = 1e-3


@dataclass(frozen=True)
class Audio:
    """Decoded audio: `samples` is mono float32 in [-1, 1] at `sample_rate` Hz."""

    path: Path
    samples: np.ndarray
    sample_rate: int = SAMPLE_RATE

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


def find_audio_files(
    paths: list[Path], duplicates: list[tuple[Path, Path]] | None = None
) -> list[Path]:
    """Expand directories (recursively, sorted) into the audio files they hold; keep files as given.

    A path given explicitly is kept even if its extension is unknown, so that the user gets a
    clear per-file error instead of a silent skip; so is a subfolder that cannot be read.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(_walk(path))
        else:
            found.append(path)
    # The same recording named twice (or through a link) is analysed once; `duplicates` gets
    # (skipped path, the path kept) for each, so the interface can say so.
    seen: dict[Path, Path] = {}
    unique = []
    for path in found:
        key = path.resolve() if path.exists() else path
        if key in seen:
            if duplicates is not None:
                duplicates.append((path, seen[key]))
            continue
        seen[key] = path
        unique.append(path)
    return unique


def _walk(folder: Path) -> list[Path]:
    """The audio files under `folder`, and any subfolder that could not be listed (reported by
    `load_audio` as a per-file error rather than silently skipped)."""
    found: list[Path] = []
    unreadable: list[Path] = []

    def note(error: OSError) -> None:
        unreadable.append(Path(error.filename))

    for root, dirs, files in os.walk(folder, onerror=note, followlinks=True):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(p for p in (Path(root) / f for f in files) if _is_audio_file(p))
    return sorted(found + unreadable)


def _is_audio_file(path: Path) -> bool:
    # Hidden files are skipped: macOS leaves "._intro.m4a" metadata twins on shared drives.
    return (
        path.is_file() and path.suffix.lower() in AUDIO_EXTENSIONS and not path.name.startswith(".")
    )


def load_audio(path: Path, *, max_duration_s: float = MAX_DURATION_S) -> Audio:
    """Decode `path` to 16 kHz mono float32, or raise AudioError saying what is wrong."""
    path = Path(path)
    _check_file(path)
    return _checked(path, _decode(path, max_duration_s))


def load_audio_bytes(data: bytes, path: Path, *, max_duration_s: float = MAX_DURATION_S) -> Audio:
    """Decode a recording's bytes (read elsewhere, e.g. by a cluster's client) as `load_audio`
    decodes the file: the same samples, and messages that name `path`."""
    path = Path(path)
    if not data:
        raise AudioError(f"{path}: the file is empty (0 bytes)")
    return _checked(path, _decode(path, max_duration_s, source=io.BytesIO(data)))


def _checked(path: Path, samples: np.ndarray) -> Audio:
    if samples.size == 0:
        raise AudioError(f"{path}: the file holds no audio samples; record again")
    samples = _repair_invalid(path, samples)
    audio = Audio(path=path, samples=samples)
    peak = max(float(samples.max()), -float(samples.min()))  # np.abs would copy every sample
    if peak < SILENCE_PEAK:
        level = "digital silence" if peak == 0 else f"peak {20 * np.log10(peak):.0f} dBFS"
        raise AudioError(
            f"{path}: the recording is silent ({level}); check that the microphone is not "
            "muted and record again"
        )
    if audio.duration_s < MIN_SPEECH_S:
        raise AudioError(
            f"{path}: the recording is only {audio.duration_s:.1f} s long; "
            f"at least {MIN_SPEECH_S:.0f} s are needed to give feedback"
        )
    return audio


def _repair_invalid(path: Path, samples: np.ndarray) -> np.ndarray:
    """NaN or Inf samples (a float WAV from a buggy editor) poison every measure downstream and
    make Whisper hear nothing: set a few to silence and say so; refuse a file full of them."""
    if np.isfinite(samples.sum(dtype=np.float64)):  # no NaN/Inf anywhere, and no mask to build
        return samples
    invalid = ~np.isfinite(samples)
    count = int(np.count_nonzero(invalid))
    share = count / samples.size
    if share > MAX_INVALID_SHARE:
        raise AudioError(
            f"{path}: {share:.0%} of the audio samples are not numbers (NaN or infinite), so the "
            "file is damaged; export or record it again"
        )
    log.warning(
        "%s: %d audio samples (%.0f ms) were not numbers (NaN or infinite) and were set to "
        "silence; the rest is analysed as recorded",
        path,
        count,
        1000 * count / SAMPLE_RATE,
    )
    samples[invalid] = 0  # in place: the buffer is ours, and a copy would double the memory
    return samples


def _check_file(path: Path) -> None:
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.is_dir():
        if not os.access(path, os.R_OK | os.X_OK):
            raise AudioError(
                f"{path}: cannot read this folder (permission denied), so its recordings were "
                "not analysed; check its permissions (chmod u+rx)"
            )
        raise AudioError(f"{path}: is a folder with no audio files in it")
    try:
        # O_NONBLOCK: opening a named pipe must not wait here for a writer.
        os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
    except PermissionError as exc:
        raise AudioError(
            f"{path}: cannot read the file (permission denied); check its permissions (chmod u+r)"
        ) from exc
    except OSError as exc:
        raise AudioError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    if path.is_file() and path.stat().st_size == 0:
        raise AudioError(f"{path}: the file is empty (0 bytes)")


def is_stream(path: Path) -> bool:
    """A pipe, a process substitution (<(cat x.wav)) or a device: read once, front to back."""
    try:
        return not stat.S_ISREG(path.stat().st_mode) and not path.is_dir()
    except OSError:
        return False


def _read_stream(path: Path) -> io.BytesIO:
    # A pipe cannot seek, and an m4a keeps its index at the end: read it all, within a bound.
    data = bytearray()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            data += chunk
            if len(data) > MAX_STREAM_BYTES:
                raise AudioError(
                    f"{path}: more than {MAX_STREAM_BYTES >> 20} MB came through this pipe; "
                    "save the recording to a file and analyse that"
                )
    if not data:
        raise AudioError(f"{path}: nothing came through this pipe (0 bytes)")
    return io.BytesIO(bytes(data))


def _decode(path: Path, max_duration_s: float, source: io.BytesIO | None = None) -> np.ndarray:
    if source is None:
        source = _read_stream(path) if is_stream(path) else str(path)
    try:
        container = av.open(source, metadata_errors="ignore")
    except (av.error.InvalidDataError, av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise AudioError(f"{path}: not a readable audio file ({_short(exc)}); {SUPPORTED}") from exc
    with container:
        if not container.streams.audio:
            raise AudioError(f"{path}: no audio track found; is it a recording? {SUPPORTED}")
        stream = container.streams.audio[0]
        if stream.duration is not None and stream.time_base is not None:
            declared = float(stream.duration * stream.time_base)
            if declared > max_duration_s:
                raise AudioError(_too_long(path, declared, max_duration_s))
        return _resample_all(path, container, stream, max_duration_s)


def _resample_all(path: Path, container, stream, max_duration_s: float) -> np.ndarray:
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    # Written into one buffer sized from the declared duration, not collected in chunks and
    # joined: a 29-minute recording then costs its samples once (~110 MB), not three times.
    samples = _SampleBuffer(_declared_samples(container, stream))
    limit = int(max_duration_s * SAMPLE_RATE)
    pending = _FrameGroup()

    def resample(frame) -> None:  # frame None: flush the resampler's tail
        for out in resampler.resample(frame):
            samples.append(out.to_ndarray().reshape(-1))

    try:
        for frame in container.decode(stream):
            for group in pending.add(frame):
                resample(group)
            if samples.size > limit:
                raise AudioError(_too_long(path, samples.size / SAMPLE_RATE, max_duration_s))
        for group in pending.flush():
            resample(group)
        resample(None)
    except av.error.FFmpegError as exc:
        for group in pending.flush():  # what decoded before the damage
            resample(group)
        if not samples.size:
            raise AudioError(
                f"{path}: the audio could not be decoded ({_short(exc)}); the file may be damaged"
            ) from exc
        # A truncated phone recording: keep what decoded, as players do, and say so.
        log.warning(
            "%s: decoding stopped early (%s); analysing the first %.1f s",
            path,
            _short(exc),
            samples.size / SAMPLE_RATE,
        )
    return samples.result()


class _FrameGroup:
    """Decoded frames joined into groups of GROUP_SAMPLES before resampling.

    An Opus or MP3 frame holds 20-26 ms: resampling and converting each alone cost ~0.8 s of
    CPU for a 3-minute intro, as long as faster-whisper's whole decode (which groups frames the
    same way). The resampler is a stream, so the samples are the same whatever the grouping
    (tested on every committed clip)."""

    def __init__(self):
        self._fifo = av.AudioFifo()
        self._format = None

    def add(self, frame) -> list:
        """The groups ready once `frame` is in (a change of format closes the group before)."""
        fmt = (frame.format.name, frame.layout.name, frame.sample_rate)
        ready = self.flush() if self._format not in (None, fmt) else []
        self._format = fmt
        frame.pts = None  # the FIFO checks timestamps for gaps; the resampler does not need them
        self._fifo.write(frame)
        if self._fifo.samples >= GROUP_SAMPLES:
            ready.append(self._fifo.read())
        return ready

    def flush(self) -> list:
        ready = [self._fifo.read()] if self._fifo.samples else []
        self._fifo = av.AudioFifo()
        return ready


def _declared_samples(container, stream) -> int:
    """How many 16 kHz samples the file says it holds (0 when it does not say)."""
    if stream.duration is not None and stream.time_base is not None:
        return int(float(stream.duration * stream.time_base) * SAMPLE_RATE)
    if container.duration:  # microseconds
        return int(container.duration / 1e6 * SAMPLE_RATE)
    return 0


class _SampleBuffer:
    """A float32 array filled in place, grown by half when the declared length was short."""

    SLACK = SAMPLE_RATE  # 1 s beyond the declared length: resampler tails, rounding

    def __init__(self, expected: int):
        self._data = np.empty(max(expected, 0) + self.SLACK, dtype=np.float32)
        self.size = 0

    def append(self, chunk: np.ndarray) -> None:
        end = self.size + chunk.size
        if end > self._data.size:
            grown = np.empty(max(end, int(self._data.size * 1.5)), dtype=np.float32)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : end] = chunk
        self.size = end

    def result(self) -> np.ndarray:
        if self.size < 0.9 * self._data.size:  # declared far too long: do not keep the excess
            return self._data[: self.size].copy()
        return self._data[: self.size]


def _too_long(path: Path, seconds: float, limit: float) -> str:
    return (
        f"{path}: the recording is {seconds / 60:.0f} min long, over the "
        f"{limit / 60:.0f} min limit; "
        "trim it to the self-introduction"
    )


def _short(exc: BaseException) -> str:
    # FFmpeg errors repeat the path in str(exc); its strerror alone says what went wrong.
    text = (getattr(exc, "strerror", None) or str(exc)).strip() or type(exc).__name__
    return text.splitlines()[0][:120]
