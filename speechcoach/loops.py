"""A deterministic guard against Whisper's loops: a phrase written over and over.

At temperature 0 (deterministic decoding, see engines/__init__.py) Whisper can fall into a loop
on hard speech and stay there: on real non-native read speech (tests/data/real/, speechocean762
speaker 9623) base wrote "I was just a person." five times over five different sentences, on
speaker 9640 "in the way that we have kept" forty times. Whisper's own escape (re-sampling at a
higher temperature when a window's compression ratio passes 2.4) is random, and did not fire
anyway: the looped windows had ratios under 2.

The guard (`guard`):
1. finds loops in the transcript: a run of words repeated back to back (`tandem_repeats`: a
   phrase of 2 or more words said `MIN_REPEATS` times or more, one word `MIN_WORD_REPEATS`
   times), or a segment whose own compression ratio passes `LOOP_COMPRESSION`;
2. decodes that stretch again, deterministically, in short pieces cut at the silences the
   voice activity detector finds (`redecode`): each piece is a fresh call to the engine, so no
   earlier text is fed back as a prompt and a loop cannot carry from one sentence to the next;
3. keeps the new text where it no longer loops; where it still does, one copy of each
   repeated phrase is kept (`collapsed`) and marked `looped`, which makes it unreliable (never
   evidence, always left out of the pace and the fillers, and counted in the report's "Whisper
   was unsure of N %").

Only the engine's plain `transcribe(samples, language)` is used, so the guard works the same for
every engine, and a transcript without a loop is returned exactly as it came.
"""

from __future__ import annotations

import logging
import re
import zlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .config import SAMPLE_RATE
from .types import Segment, Transcript

if TYPE_CHECKING:
    import numpy as np

    from .transcribe import Engine

log = logging.getLogger(__name__)

MIN_REPEATS = 3  # a phrase of 2+ words said this many times back to back is a loop
MIN_WORD_REPEATS = 5  # one word: "I I I" is a stutter, five times is a loop
MAX_PHRASE_WORDS = 12  # longest looped phrase looked for (Whisper loops a sentence at most)
# A segment's text compresses this well only when it repeats itself (Whisper's own retry
# threshold; its temperature fallback is off here, see engines/__init__.py).
LOOP_COMPRESSION = 2.4
PIECE_S = 10.0  # seconds: re-decoded pieces are at most this long, cut at silences
MIN_GAP_S = 0.3  # seconds: a silence this long between voice regions may cut two pieces apart
EDGE_S = 0.2  # seconds of audio kept either side of a piece (Whisper misses a clipped onset)
_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True)
class Loop:
    """A repeated run in a transcript's word sequence: `count` copies of `phrase`."""

    phrase: str
    count: int
    start: float  # seconds: the first copy's first word
    end: float  # ... the last copy's last word


def normalised(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def tandem_repeats(words: list[str]) -> list[tuple[int, int, int]]:
    """Back-to-back repeats in `words` (already normalised): (first index, phrase length,
    copies) for each run of `MIN_REPEATS`+ copies of one phrase (`MIN_WORD_REPEATS` for one
    word), the shortest phrase first where runs overlap.

    >>> tandem_repeats("so i was here i was here i was here ok".split())
    [(1, 3, 3)]
    """
    found: list[tuple[int, int, int]] = []
    taken = [False] * len(words)
    for size in range(1, MAX_PHRASE_WORDS + 1):
        need = _repeats_needed(size)
        i = 0
        while i + size * need <= len(words):
            copies = 1
            while words[i + copies * size : i + (copies + 1) * size] == words[i : i + size]:
                copies += 1
            if copies >= need and not any(taken[i : i + copies * size]):
                found.append((i, size, copies))
                taken[i : i + copies * size] = [True] * (copies * size)
                i += copies * size
            else:
                i += 1
    return sorted(found)


def _repeats_needed(size: int) -> int:
    # Two copies are not enough: on the development clips, also re-decoding phrases of 4+ words
    # said twice and runs of letters written one by one made speaker 9635's transcript worse
    # (WER 82.9 vs 72.4 %, 3 fillers invented vs 0; scripts/eval_real.py --clip).
    return MIN_WORD_REPEATS if size == 1 else MIN_REPEATS


def find_loops(segments: tuple[Segment, ...] | list[Segment]) -> list[Loop]:
    """The loops in these segments: back-to-back repeats across the words of all of them (a
    sentence looped as five segments is one run), and segments that compress too well."""
    timed = [
        (token, w.start, w.end)
        for s in segments
        for w in s.words
        for token in _WORD.findall(w.text.lower())
    ]
    tokens = [t for t, _, _ in timed]
    loops = [
        Loop(" ".join(tokens[i : i + size]), copies, timed[i][1], timed[i + size * copies - 1][2])
        for i, size, copies in tandem_repeats(tokens)
    ]
    loops += [
        Loop(normalised(s.text)[:60], 0, s.start, s.end)
        for s in segments
        if s.compression_ratio is not None and s.compression_ratio > LOOP_COMPRESSION
    ]
    return sorted(loops, key=lambda loop: loop.start)


def collapsed(segments: list[Segment]) -> list[Segment]:
    """`segments` with the extra copies of every back-to-back repeat taken out (the first copy
    kept): what is left of a loop Whisper would not leave is one copy, not forty. Segments left
    without a word are dropped."""
    words = [w for s in segments for w in s.words]
    keys = [normalised(w.text) for w in words]
    extra = set()
    for i, size, copies in tandem_repeats(keys):
        extra.update(range(i + size, i + size * copies))
    out = []
    for segment in segments:
        kept = tuple(w for w in segment.words if id(w) not in {id(words[k]) for k in extra})
        if kept or not segment.words:
            text = "".join(w.text for w in kept) if segment.words else segment.text
            out.append(replace(segment, text=text, words=kept))
    return out


def compression_ratio(text: str) -> float:
    """Whisper's measure: the text's length over its zlib-compressed length."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def guard(engine: Engine, samples: np.ndarray, language: str | None, transcript: Transcript):
    """`transcript` with its loops decoded again (see the module docstring); unchanged when
    it has none."""
    loops = find_loops(transcript.segments)
    if not loops:
        return transcript
    from .vad import detect  # only when there is a loop: the detector costs ~3 % of the audio

    regions = detect(samples).regions
    total = len(samples) / SAMPLE_RATE
    language = transcript.language or language
    segments = list(transcript.segments)
    for lo, hi in _stretches(segments, loops):
        cuts = pieces(regions, total, lo, hi, PIECE_S)
        lo, hi = min(lo, cuts[0][0]), max(hi, cuts[-1][1])
        log.info("Whisper looped in %.1f-%.1f s; decoding it again in %d pieces", lo, hi, len(cuts))
        again = [s for cut in cuts for s in _decode_piece(engine, samples, language, cut, regions)]
        segments = [s for s in segments if not lo <= _middle(s) < hi]
        segments = sorted(segments + again, key=lambda s: (s.start, s.end))
    return replace(transcript, segments=tuple(segments))


def _decode_piece(
    engine: Engine,
    samples: np.ndarray,
    language: str | None,
    cut: tuple[float, float],
    regions: tuple[tuple[float, float], ...],
    split: bool = True,
) -> list[Segment]:
    """The segments of one piece; a piece that still loops is decoded again one voice region
    at a time (`split`), and what loops even then is marked `looped`."""
    found = redecode(engine, samples, language, [cut])
    if not find_loops(found):
        return found
    smaller = pieces(regions, cut[1], cut[0] + EDGE_S, cut[1] - EDGE_S, 0.0) if split else []
    if len(smaller) <= 1:
        log.info("still looping in %.1f-%.1f s: marked unreliable", *cut)
        return [replace(s, looped=True) for s in collapsed(found)]
    return [s for c in smaller for s in _decode_piece(engine, samples, language, c, regions, False)]


def _middle(segment: Segment) -> float:
    return (segment.start + segment.end) / 2


def _stretches(segments: list[Segment], loops: list[Loop]) -> list[tuple[float, float]]:
    """The time stretches to decode again: each loop widened to the segments it touches,
    overlapping ones merged."""
    spans = []
    for loop in loops:
        touched = [s for s in segments if s.end > loop.start and s.start < loop.end] or segments
        spans.append((min(s.start for s in touched), max(s.end for s in touched)))
    merged: list[tuple[float, float]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def redecode(
    engine: Engine, samples: np.ndarray, language: str | None, cuts: list[tuple[float, float]]
) -> list[Segment]:
    """Segments for the pieces `cuts` (seconds, see `pieces`), each piece a fresh engine call,
    with times shifted to the recording."""
    out: list[Segment] = []
    for start, end in cuts:
        part = engine.transcribe(
            samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)], language
        )
        out += [_shifted(s, start, end) for s in part.segments if s.text.strip()]
    return out


def pieces(
    regions: tuple[tuple[float, float], ...], total: float, lo: float, hi: float, piece_s: float
) -> list[tuple[float, float]]:
    """`lo`-`hi` seconds, widened to the voice `regions` it touches, cut into pieces of at most
    `piece_s` at the silences between regions (0: one region a piece), each with `EDGE_S` of
    audio either side (at most `total` seconds, the recording's end)."""
    regions = [(s, e) for s, e in regions if e > lo and s < hi] or [(lo, hi)]
    groups: list[list[float]] = []
    for s, e in regions:
        if groups and (s - groups[-1][1] < MIN_GAP_S or e - groups[-1][0] <= piece_s):
            groups[-1][1] = e
        else:
            groups.append([s, e])
    return [(max(0.0, s - EDGE_S), min(total, e + EDGE_S)) for s, e in groups]


def _shifted(segment: Segment, offset: float, limit: float) -> Segment:
    def at(t: float) -> float:
        return min(t + offset, limit)

    words = tuple(replace(w, start=at(w.start), end=at(w.end)) for w in segment.words)
    return replace(segment, start=at(segment.start), end=at(segment.end), words=words)
