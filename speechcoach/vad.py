"""Where the speaker speaks: the speech span, voiced time and pauses from a voice activity
detector, refined with Whisper's word timestamps.

Silero VAD (its ONNX model ships inside the faster-whisper wheel, run by onnxruntime, already a
faster-whisper dependency) gives a speech probability per 32 ms window; a window is speech from
SPEECH_ON upwards and stays speech until the probability falls under SPEECH_OFF (hysteresis, as
Silero's own `get_speech_timestamps`). Unlike a level threshold ("35 dB below the loudest
frame"), it still separates speech from a noise floor: on real recordings with a hiss, hum or
background talk the level rule counted the whole file as speech and found no pause at all.

Refinement with the words (`refine`): a stretch the detector calls speech but that holds no
word and is short (a cough, a click, a door) at either end of the recording is dropped from the
span; where the detector found nothing but Whisper wrote words, the words' own times are used.

Fallback: when the detector cannot run (onnxruntime missing or broken), activity comes from the
frame level against an estimate of the noise floor (`energy_activity`), and `method` says so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .config import SAMPLE_RATE
from .levels import frame_rms  # one definition of the frame level

log = logging.getLogger(__name__)

WINDOW = 512  # Silero's window at 16 kHz: 32 ms
WINDOW_S = WINDOW / SAMPLE_RATE
# Silero v6 as faster-whisper runs it: each window is given the CONTEXT samples before it, and
# the recurrent state (h, c) is carried from one call to the next.
CONTEXT = 64
STATE_SHAPE = (1, 1, 128)
VAD_BLOCK = 1000  # windows (32 s) per call: the inputs and activations of one call stay small
SPEECH_ON = 0.5  # Silero's own default threshold
SPEECH_OFF = 0.35  # ... and its default end threshold (threshold - 0.15)
MIN_SPEECH_S = 0.064  # shorter bursts (two windows) are clicks, not speech
# A region at either end of the recording that holds no word and is shorter than this is noise
# (a cough, the click of the record button), not the start or end of the introduction.
STRAY_REGION_S = 1.0
WORD_MARGIN_S = 0.2  # a region "holds" a word that overlaps it within this margin
# Fallback only: frames this far above the noise floor (10th percentile of frame levels) are
# speech, capped at LEVEL_TOP_DB below the loudest frame (the old rule, kept for clean audio).
FLOOR_MARGIN_DB = 15.0
LEVEL_TOP_DB = 35.0
SILERO = "Silero VAD (faster-whisper's bundled model), refined with word timestamps"
ENERGY = "frame level above the noise floor (fallback: the voice activity detector could not run)"


@dataclass(frozen=True)
class SpeechActivity:
    """Speech regions of one recording, in seconds, sorted and disjoint."""

    regions: tuple[tuple[float, float], ...]
    method: str
    duration_s: float

    @property
    def speech_start(self) -> float:
        return self.regions[0][0] if self.regions else 0.0

    @property
    def speech_end(self) -> float:
        return self.regions[-1][1] if self.regions else 0.0

    @property
    def active_s(self) -> float:
        """Seconds of detected speech (the regions' total)."""
        return sum(e - s for s, e in self.regions)

    def gaps(self, min_s: float) -> list[tuple[float, float]]:
        """Silences between speech regions lasting at least `min_s`."""
        return [
            (a[1], b[0])
            for a, b in zip(self.regions, self.regions[1:], strict=False)
            if b[0] - a[1] >= min_s
        ]

    def mask(self, hop: int, frames: int) -> np.ndarray:
        """Speech as a boolean per analysis frame (`hop` samples apart, `frames` of them)."""
        times = np.arange(frames) * hop / SAMPLE_RATE
        out = np.zeros(frames, dtype=bool)
        for s, e in self.regions:
            out |= (times >= s) & (times < e)
        return out


def speech_probabilities(samples: np.ndarray, block: int = VAD_BLOCK) -> np.ndarray | None:
    """Silero's speech probability per 32 ms window, or None if the detector cannot run.

    The values are those of faster-whisper's `SileroVADModel` called on the whole recording
    (tested to be identical), but the model is run on `block` windows at a time, carrying its
    state and context from one block to the next: the whole-file call holds about three copies
    of the recording (+450 MB for 29 minutes)."""
    try:
        from faster_whisper.vad import get_vad_model

        session = get_vad_model().session
        return _probabilities(session, samples, block)
    except Exception as exc:  # noqa: BLE001 - missing onnxruntime, a broken asset: fall back
        log.warning("voice activity detector unavailable (%s); using frame levels", exc)
        return None


def _probabilities(session, samples: np.ndarray, block: int) -> np.ndarray:
    # As faster-whisper pads the recording: 1 to WINDOW zeros, so one window more when the
    # length is a whole number of windows.
    count = len(samples) // WINDOW + 1
    probs = np.empty(count, dtype=np.float32)
    state = {"h": np.zeros(STATE_SHAPE, np.float32), "c": np.zeros(STATE_SHAPE, np.float32)}
    context = np.zeros(CONTEXT, dtype=np.float32)  # the first window has silence before it
    for first in range(0, count, block):
        end = min(count, first + block)
        windows = np.zeros((end - first) * WINDOW, dtype=np.float32)
        piece = samples[first * WINDOW : end * WINDOW]
        windows[: len(piece)] = piece
        windows = windows.reshape(-1, WINDOW)
        if end == count:
            # faster-whisper's call zeroes the last window's last CONTEXT samples (it writes
            # into a view of its padded copy); done here too, so the values stay identical.
            windows[-1, -CONTEXT:] = 0
        batch = np.empty((end - first, CONTEXT + WINDOW), dtype=np.float32)
        batch[0, :CONTEXT] = context
        batch[1:, :CONTEXT] = windows[:-1, -CONTEXT:]
        batch[:, CONTEXT:] = windows
        context = windows[-1, -CONTEXT:].copy()
        out, state["h"], state["c"] = session.run(None, {"input": batch, **state})
        probs[first:end] = np.reshape(out, -1)
    return probs[: -(-len(samples) // WINDOW)]


def detect(samples: np.ndarray) -> SpeechActivity:
    """Speech regions from Silero VAD, or from frame levels when it cannot run."""
    duration = len(samples) / SAMPLE_RATE
    probs = speech_probabilities(samples)
    if probs is None:
        return energy_activity(samples)
    speech = _hysteresis(probs, SPEECH_ON, SPEECH_OFF)
    regions = _runs(speech, WINDOW_S, MIN_SPEECH_S, duration)
    return SpeechActivity(tuple(regions), SILERO, duration)


def _hysteresis(probs: np.ndarray, on: float, off: float) -> np.ndarray:
    out = np.zeros(len(probs), dtype=bool)
    active = False
    for i, p in enumerate(probs):
        active = p >= on or (active and p >= off)
        out[i] = active
    return out


def _runs(
    flags: np.ndarray, step_s: float, min_s: float, duration: float
) -> list[tuple[float, float]]:
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [
        (round(s * step_s, 3), round(min(e * step_s, duration), 3))
        for s, e in zip(starts, ends, strict=False)
        if (e - s) * step_s >= min_s
    ]


def energy_activity(samples: np.ndarray, hop_s: float = 0.01, frame_s: float = 0.032):
    """Fallback: frames above the noise floor (and within LEVEL_TOP_DB of the loudest)."""

    duration = len(samples) / SAMPLE_RATE
    hop, frame = int(hop_s * SAMPLE_RATE), int(frame_s * SAMPLE_RATE)
    rms = frame_rms(samples, frame, hop)
    db = 20 * np.log10(np.maximum(rms, 1e-10))
    if not len(db):
        return SpeechActivity((), ENERGY, duration)
    floor = float(np.percentile(db, 10))
    threshold = max(floor + FLOOR_MARGIN_DB, float(db.max()) - LEVEL_TOP_DB)
    regions = _runs(db > threshold, hop_s, MIN_SPEECH_S, duration)
    return SpeechActivity(tuple(regions), ENERGY, duration)


def refine(activity: SpeechActivity, words: Sequence) -> SpeechActivity:
    """Use the words where they help: drop short word-less regions at either end (noise),
    and fall back on the words' times where the detector heard nothing."""
    spans = [(w.start, w.end) for w in words if w.text.strip() and w.end > w.start]
    regions = list(activity.regions)
    if not spans:
        return activity
    if not regions:
        return SpeechActivity(
            tuple((round(s, 3), round(e, 3)) for s, e in _merge(spans)),
            "Whisper word timestamps (the voice activity detector found no speech)",
            activity.duration_s,
        )

    def holds_word(region: tuple[float, float]) -> bool:
        lo, hi = region[0] - WORD_MARGIN_S, region[1] + WORD_MARGIN_S
        return any(s < hi and e > lo for s, e in spans)

    while len(regions) > 1 and not holds_word(regions[0]) and _len(regions[0]) < STRAY_REGION_S:
        regions.pop(0)
    while len(regions) > 1 and not holds_word(regions[-1]) and _len(regions[-1]) < STRAY_REGION_S:
        regions.pop()
    return SpeechActivity(tuple(regions), activity.method, activity.duration_s)


def _len(region: tuple[float, float]) -> float:
    return region[1] - region[0]


def _merge(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]
