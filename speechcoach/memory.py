"""Handing freed memory back to the operating system between the stages of an analysis."""

from __future__ import annotations

import ctypes


def return_freed_memory() -> None:
    """Hand the buffers freed so far back to the OS (glibc only).

    Whisper's features and decoder buffers for a 3-minute clip (~100 MB) are freed after
    transcription but stay in glibc's arenas, so librosa (~200 MB with scipy and numba) and the
    embedding model would be loaded on top of them: trimming keeps one analysis of a 3-minute
    intro near 430 MB peak instead of 520 (benchmarks/bench.py). A long recording's windows
    (longform.py) are trimmed one by one for the same reason: left in the arenas, each window's
    freed buffers raised the next one's peak (by ~80 MB over ten windows of a 29-minute file).
    For the same reason librosa is not preloaded while Whisper runs: that saved ~1 s of a cold
    start but added its 200 MB to the transcription's own peak.
    """
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to do
        pass
