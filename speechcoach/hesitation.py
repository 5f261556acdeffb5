"""Filled pauses Whisper did not write down, found in the sound itself.

A filled pause ("uhhh", "ummm", "mmm", えー) is a voice held steady: for 0.4 s or more the
pitch stays flat and the spectrum does not change, which fluent speech (where every 50-100 ms
a new sound starts) almost never does. `find_hesitations` looks for such stretches:

- every frame voiced (yin's pitch within the voice range) and well above the noise floor;
- pitch spread within MAX_PITCH_STD_ST semitones over the stretch;
- spectrum stable: the mean MFCC change from one 32 ms frame to the next under MAX_MFCC_STEP;
- held MIN_HELD_S in all (steady windows are 0.4 s; on the real non-native read speech of
  tests/data/real/ fluent held vowels reached 0.4-0.6 s, the filled pauses 0.74-0.84 s);
- not inside a word Whisper wrote (a long vowel of a real word), unless that word is a filler;
- between two written words (a word ends at most WORD_GAP_S before it and another starts at
  most WORD_GAP_S after): where Whisper wrote nothing around it, it most likely dropped real
  words there (it does on hard-to-follow speech), and a held vowel of those is no filler.

A stretch that overlaps a filler Whisper did write is that filler, not a second one: each
transcript filler takes at most one stretch, and only stretches left over are reported, as
fillers found `acoustic`ally. Thresholds were set on the development clips of
tests/data/real/ (see scripts/eval_real.py); the count stays a lower bound (a short "uh" is not
held long enough to be told from speech).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import acoustics
from .config import SAMPLE_RATE
from .levels import framed_blocks

HOP = 512  # 32 ms: the same pitch frames as the delivery's pitch spread (computed once)
N_MFCC = 13  # spectral shape: the first 13 cepstral coefficients (the 0th, loudness, is dropped)
N_MELS = acoustics.MEL_BANDS  # librosa's default mel bands, as `librosa.feature.mfcc` uses
TOP_DB = 80.0  # dB: librosa's log-mel floor under the loudest value (`power_to_db`'s top_db)
BLOCK_FRAMES = 940  # frames (~30 s) per block of the spectral features: bounds their memory
MIN_HESITATION_S = 0.4
MIN_FRAMES = int(np.ceil(MIN_HESITATION_S * SAMPLE_RATE / HOP))  # 13 frames
MIN_HELD_S = 0.65
WORD_GAP_S = 2.0
MAX_PITCH_STD_ST = 0.5
MAX_MFCC_STEP = 20.0
ABOVE_FLOOR_DB = 10.0
PITCH_RANGE_HZ = (68.0, 380.0)  # inside yin's search range (65-400 Hz): not its edge values
# A steady stretch is inside a written word when this share of it lies within the word's times.
INSIDE_WORD_SHARE = 0.5
MATCH_MARGIN_S = 0.3  # a transcript filler this close to a stretch is the same filler


@dataclass(frozen=True)
class Hesitation:
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def steady_stretches(samples: np.ndarray, f0: np.ndarray) -> list[Hesitation]:
    """Stretches of at least MIN_HESITATION_S with a flat pitch and a stable spectrum.
    `f0` is librosa's yin (acoustics.yin) at hop HOP over `samples` (the delivery's pitch
    frames)."""
    if len(f0) < MIN_FRAMES:
        return []
    mfcc, rms = _spectral_frames(samples)
    mfcc = mfcc[1:]
    n = min(len(f0), mfcc.shape[1], len(rms))
    f0, mfcc, rms = f0[:n], mfcc[:, :n], rms[:n]
    db = 20 * np.log10(rms + 1e-10)
    floor = float(np.percentile(db, 10))
    ok = (f0 > PITCH_RANGE_HZ[0]) & (f0 < PITCH_RANGE_HZ[1]) & (db > floor + ABOVE_FLOOR_DB)
    semitones = 12 * np.log2(np.maximum(f0, 1.0) / 100.0)
    step = np.r_[np.inf, np.linalg.norm(np.diff(mfcc, axis=1), axis=0)]
    steady = np.zeros(n, dtype=bool)
    for i in range(n - MIN_FRAMES + 1):
        window = slice(i, i + MIN_FRAMES)
        if (
            ok[window].all()
            and np.std(semitones[window]) <= MAX_PITCH_STD_ST
            and np.mean(step[i + 1 : i + MIN_FRAMES]) <= MAX_MFCC_STEP
        ):
            steady[window] = True
    edges = np.diff(np.concatenate(([0], steady.astype(np.int8), [0])))
    frame_s = HOP / SAMPLE_RATE
    return [
        Hesitation(round(s * frame_s, 2), round(e * frame_s, 2))
        for s, e in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=False)
    ]


def _spectral_frames(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MFCC (N_MFCC x frames) and RMS per HOP frame, as librosa's `feature.mfcc` and
    `feature.rms` over the whole recording give them (centred frames of 2 * HOP; librosa's
    steps, from acoustics.py), computed over blocks of BLOCK_FRAMES: one call holds the
    spectrogram of the whole file (+370 MB for 29 minutes). The log-mel floor (80 dB under the
    loudest value) is the whole file's, so it is applied once every block is in; the MFCC then
    match to float32 rounding (~1e-4)."""
    import scipy.fft

    frame = 2 * HOP
    frames = 1 + len(samples) // HOP
    log_mel = np.empty((N_MELS, frames), dtype=np.float32)
    rms = np.empty(frames, dtype=np.float32)
    for first, end, block in framed_blocks(samples, HOP, frame, BLOCK_FRAMES):
        power = acoustics.melspectrogram(block, sr=SAMPLE_RATE, n_fft=frame, hop=HOP, center=False)
        log_mel[:, first:end] = acoustics.power_to_db(power, top_db=None)
        rms[first:end] = acoustics.rms(block, frame_length=frame, hop=HOP, center=False)
    np.maximum(log_mel, log_mel.max(initial=-np.inf) - TOP_DB, out=log_mel)
    mfcc = np.empty((N_MFCC, frames), dtype=np.float32)
    for first in range(0, frames, BLOCK_FRAMES):
        part = log_mel[:, first : first + BLOCK_FRAMES]
        mfcc[:, first : first + BLOCK_FRAMES] = scipy.fft.dct(part, axis=0, type=2, norm="ortho")[
            :N_MFCC
        ]
    return mfcc, rms


def find_hesitations(
    samples: np.ndarray,
    f0: np.ndarray,
    words: Sequence,
    filler_times: Sequence[tuple[float, float]],
    is_filler_word,
) -> list[Hesitation]:
    """Steady stretches that are not inside a written word and not a filler already written.

    `words` are Whisper's words; `filler_times` the (start, end) of the fillers found in the
    transcript; `is_filler_word(word)` tells a filler word from a real one."""
    return unwritten(held_between_words(samples, f0, words, is_filler_word), filler_times)


def held_between_words(
    samples: np.ndarray,
    f0: np.ndarray,
    words: Sequence,
    is_filler_word,
    steady: Sequence[Hesitation] | None = None,
) -> list[Hesitation]:
    """Every steady stretch that is not inside a real (non-filler) written word; `steady` is
    `steady_stretches(samples, f0)` when already found."""
    if steady is None:
        steady = steady_stretches(samples, f0)
    stretches = [h for h in steady if h.duration >= MIN_HELD_S]
    written = [(w.start, w.end) for w in words if w.text.strip()]
    real_words = [(w.start, w.end) for w in words if w.text.strip() and not is_filler_word(w)]
    return [h for h in stretches if not _inside_words(h, real_words) and _between_words(h, written)]


def _between_words(h: Hesitation, spans: list[tuple[float, float]]) -> bool:
    before = any(h.start - WORD_GAP_S <= e <= h.end for _, e in spans)
    after = any(h.start <= s <= h.end + WORD_GAP_S for s, _ in spans)
    return before and after


def unwritten(
    free: Sequence[Hesitation], filler_times: Sequence[tuple[float, float]]
) -> list[Hesitation]:
    """The stretches left once each written filler has taken the stretch it overlaps."""
    taken = [False] * len(filler_times)
    left = []
    for h in free:
        best = None
        for k, (s, e) in enumerate(filler_times):
            if not taken[k] and s - MATCH_MARGIN_S < h.end and e + MATCH_MARGIN_S > h.start:
                best = k
                break
        if best is None:
            left.append(h)
        else:
            taken[best] = True
    return left


def _inside_words(h: Hesitation, spans: list[tuple[float, float]]) -> bool:
    inside = sum(max(0.0, min(e, h.end) - max(s, h.start)) for s, e in spans)
    return inside >= INSIDE_WORD_SHARE * h.duration
