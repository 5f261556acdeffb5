"""Frame-wise measures of a whole recording, computed block by block so that no step holds a
copy of the whole file (issue 12 item 28): the frame levels shared by delivery and the voice
activity fallback (one definition, no import cycle between them), and the padded blocks that
librosa's frame-wise features (pitch, MFCC, RMS) are computed from."""

from __future__ import annotations

from collections.abc import Iterator

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


def framed_blocks(
    samples: np.ndarray, hop: int, frame: int, block_frames: int
) -> Iterator[tuple[int, int, np.ndarray]]:
    """(first frame, end frame, samples) for consecutive blocks of `block_frames` frames.

    Frame t of a centred analysis (librosa's `center=True` with zero padding) covers samples
    t * hop - frame // 2 up to t * hop + frame // 2, zeros outside the recording; there are
    1 + len // hop of them. Each block holds exactly its frames' samples, zero-padded at the
    recording's edges, so a frame-wise feature computed on it with `center=False` gives those
    frames as one call over the whole file would, while holding one block (a float32 copy of
    its samples), never the whole file."""
    half = frame // 2
    total = 1 + len(samples) // hop
    for first in range(0, total, block_frames):
        end = min(total, first + block_frames)
        lo, hi = first * hop - half, (end - 1) * hop + frame - half
        block = np.zeros(hi - lo, dtype=np.float32)
        inside = slice(max(lo, 0), min(hi, len(samples)))
        block[inside.start - lo : inside.stop - lo] = samples[inside]
        yield first, end, block
