"""Frame levels shared by delivery and the voice activity fallback (one definition, no import
cycle between them)."""

from __future__ import annotations

import numpy as np

RMS_BLOCK = 1 << 20  # samples: the running sum of squares is taken this many at a time (8 MB)


def frame_rms(samples: np.ndarray, frame: int, hop: int) -> np.ndarray:
    """RMS of centred frames (zero-padded by frame // 2), from a running sum of squares.

    The sum runs over blocks of RMS_BLOCK samples, each started from the previous total, so the
    values are those of one sum over the whole file (the same additions in the same order) but
    only the sums at frame edges are kept: a 29-minute file needed three float64 copies of
    itself (~670 MB) when the whole running sum was held."""
    half = frame // 2
    starts = np.arange(0, len(samples) + 1, hop)
    ends = np.minimum(starts + frame, len(samples) + 2 * half)
    # The padding adds nothing: the sum up to padded index i is that up to sample i - half.
    edges = [np.clip(starts - half, 0, len(samples)), np.clip(ends - half, 0, len(samples))]
    sums = [np.zeros(len(starts)), np.zeros(len(starts))]
    total = 0.0
    for lo in range(0, len(samples), RMS_BLOCK):
        block = samples[lo : lo + RMS_BLOCK].astype(np.float64)
        running = np.cumsum(np.concatenate(([total], block * block)))  # sums up to lo + j
        for edge, out in zip(edges, sums, strict=True):
            inside = (edge >= lo) & (edge <= lo + len(block))
            out[inside] = running[edge[inside] - lo]
        total = running[-1]
    return np.sqrt(np.maximum(sums[1] - sums[0], 0.0) / frame).astype(np.float32)
