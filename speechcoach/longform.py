"""Transcribing a long recording in windows, so no engine sees the whole file at once.

Both engines compute the log-mel features of everything they are given before decoding a word:
faster-whisper's numpy STFT needs about 1.2 GB above the samples for 29 minutes of audio, a
transient peak over the rest of the analysis (issue 12 item 28).
Above `WINDOW_ABOVE_S` the recording is cut into windows of at most `WINDOW_S`, each cut at the
quietest moment near its nominal place (between words, not through one), each window is
transcribed alone, and the segments and words are shifted by the window's start and joined into
one `Transcript`. A recording up to `WINDOW_ABOVE_S` goes to the engine whole, exactly as before.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from .config import SAMPLE_RATE
from .memory import map_large_allocations, return_freed_memory
from .types import Segment, Transcript

if TYPE_CHECKING:
    import numpy as np

    from .transcribe import Engine

log = logging.getLogger(__name__)

WINDOW_ABOVE_S = 5 * 60.0  # seconds: longer recordings are transcribed in windows
# seconds: the longest window an engine is given. The features' transient peak is ~42 MB per
# minute of audio (faster-whisper's numpy STFT), so a 3-minute window costs what a 3-minute
# intro costs; a cut only loses Whisper's text context at that one quiet moment.
WINDOW_S = 3 * 60.0
CUT_SEARCH_S = 20.0  # seconds: a cut is placed at the quietest moment this far before its place
QUIET_FRAME_S = 0.2  # seconds: the loudness (RMS) frame the quietest moment is picked from


def transcribe(
    engine: Engine,
    samples: np.ndarray,
    language: str | None,
    *,
    initial_prompt: str | None = None,
    above_s: float = WINDOW_ABOVE_S,
    window_s: float = WINDOW_S,
    on_decoding: Callable[[], None] | None = None,
) -> Transcript:
    """`engine.transcribe(samples, language)`, in windows when the recording is over `above_s`.
    `on_decoding` is passed on for a recording transcribed whole; in windows it is not called:
    work started beside the second window would sit on top of that window's features, the
    memory peak the windows are there to bound."""
    if len(samples) <= above_s * SAMPLE_RATE:
        return engine.transcribe(
            samples, language, initial_prompt=initial_prompt, on_decoding=on_decoding
        )
    if language is None and not engine.english_only:
        # One language for the whole recording, not one guess per window.
        language, _ = engine.detect_language(samples)
    map_large_allocations()  # each window's buffers handed back when freed, not kept
    cuts = window_cuts(samples, window_s)
    log.info(
        "transcribing %.0f s in %d windows (cut at %s s)",
        len(samples) / SAMPLE_RATE,
        len(cuts) - 1,
        ", ".join(f"{c / SAMPLE_RATE:.1f}" for c in cuts[1:-1]),
    )
    parts = []
    for start, end in zip(cuts[:-1], cuts[1:], strict=True):
        # A view, not a copy: the window costs only its own features.
        part = engine.transcribe(samples[start:end], language, initial_prompt=initial_prompt)
        parts.append((start / SAMPLE_RATE, end / SAMPLE_RATE, part))
        return_freed_memory()  # so the next window's features do not land on top of these
    return join(parts)


def window_cuts(samples: np.ndarray, window_s: float) -> list[int]:
    """Sample indices [0, c1, ..., len]: windows of at most `window_s` (equal shares of the
    recording), each inner cut moved back to the quietest `QUIET_FRAME_S` frame within
    `CUT_SEARCH_S` before its place, so a cut falls in a pause rather than in a word."""
    total = len(samples)
    window = int(window_s * SAMPLE_RATE)
    count = math.ceil(total / window)
    cuts = [0]
    for k in range(1, count):
        nominal = round(total * k / count)
        cuts.append(
            _quietest(
                samples, max(cuts[-1] + 1, nominal - int(CUT_SEARCH_S * SAMPLE_RATE)), nominal
            )
        )
    cuts.append(total)
    return cuts


def _quietest(samples: np.ndarray, lo: int, hi: int) -> int:
    """The middle of the quietest frame in samples[lo:hi]."""
    import numpy as np

    frame = int(QUIET_FRAME_S * SAMPLE_RATE)
    count = (hi - lo) // frame
    if count < 1:
        return hi
    frames = samples[lo : lo + count * frame].reshape(count, frame)
    energy = np.einsum("ij,ij->i", frames, frames)  # no squared copy of the search span
    return lo + int(np.argmin(energy)) * frame + frame // 2


def join(parts: list[tuple[float, float, Transcript]]) -> Transcript:
    """One transcript from (window start s, window end s, its transcript): times shifted to the
    recording, a word or segment clamped to its window (Whisper can stamp past the end)."""
    first = parts[0][2]
    segments = tuple(
        _shift(segment, offset, end) for offset, end, part in parts for segment in part.segments
    )
    return replace(
        first,
        segments=segments,
        seconds=sum(part.seconds for _, _, part in parts),
    )


def _shift(segment: Segment, offset: float, limit: float) -> Segment:
    def at(t: float) -> float:
        return min(t + offset, limit)

    words = tuple(replace(w, start=at(w.start), end=at(w.end)) for w in segment.words)
    return replace(segment, start=at(segment.start), end=at(segment.end), words=words)
