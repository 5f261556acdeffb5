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


# glibc's mallopt parameter for the size from which an allocation gets pages of its own (mmap),
# handed back to the OS as soon as it is freed.
M_MMAP_THRESHOLD = -3
LARGE_ALLOCATION = 4 << 20  # bytes: Whisper's per-window buffers above this are mapped


def map_large_allocations() -> None:
    """From now on, give every allocation over LARGE_ALLOCATION pages of its own (glibc only).

    glibc raises its mmap threshold each time a mapped block is freed, so after the first
    window of a long recording Whisper's next windows' large buffers come from the arenas, where
    what is freed stays resident: over ten windows of a 29-minute file the peak rose from 414 to
    460 MB although each window needs what the first did. A fixed threshold keeps them mapped
    (29 minutes: 406 MB peak, 1.27x a 3-minute intro's 320); it costs page faults (+1.8 s of
    system time on a 3-minute clip), so only long recordings set it (longform.py), for the
    rest of the process."""
    try:
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, LARGE_ALLOCATION)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass
