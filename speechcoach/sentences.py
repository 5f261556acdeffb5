"""Split a timed transcript into sentences, each with its start and end time.

Sentences are the unit of feedback: "at 0:42 you said '...'; say '...' instead". Whisper's
segments are not sentences (a segment may hold two, or stop mid-sentence), so we rebuild
sentences from the timed words and end one at terminal punctuation (. ! ? and Japanese 。！？),
at a long pause, or where the language's pack says a sentence ends (Japanese is often written
without any punctuation: see languages/ja/sentences.py).
"""

from __future__ import annotations

import re

from . import languages
from .types import Sentence, Transcript, Word

__all__ = ["Sentence", "split_sentences"]

SENTENCE_END = re.compile(r"[.!?。！？]+[\"'”」』)]*$")
# A pause this long inside a run of words with no punctuation also ends a sentence: Whisper
# sometimes omits the full stop, and one 40-second "sentence" would be useless as evidence.
SENTENCE_BREAK_PAUSE_S = 1.5
MAX_SENTENCE_WORDS = 60  # hard cap for the same reason
LOOKAHEAD_PIECES = 4  # following pieces a pack may read to decide a sentence end


def split_sentences(transcript: Transcript) -> list[Sentence]:
    """Sentences of `transcript`, in order, with times from its word timestamps."""
    words = transcript.words
    if not words:
        return _from_segments(transcript)
    pack = languages.get(transcript.language)
    segment_starts = {id(s.words[0]) for s in transcript.segments if s.words}
    segment_ends = {id(s.words[-1]) for s in transcript.segments if s.words}
    sentences: list[Sentence] = []
    current: list[Word] = []
    for i, word in enumerate(words):
        current.append(word)
        nxt = words[i + 1] if i + 1 < len(words) else None
        if (
            nxt is None
            or _ends_sentence(word, nxt, len(current))
            or pack.ends_sentence(
                current,
                words[i + 1 : i + 1 + LOOKAHEAD_PIECES],
                id(word) in segment_ends,
                [id(w) in segment_starts for w in current],
            )
        ):
            _flush(current, pack, sentences, segment_starts)
            current = []
    return sentences


def _ends_sentence(word: Word, nxt: Word, length: int) -> bool:
    if SENTENCE_END.search(word.text.strip()):
        return True
    return nxt.start - word.end >= SENTENCE_BREAK_PAUSE_S or length >= MAX_SENTENCE_WORDS


def _flush(
    words: list[Word], pack: languages.Language, out: list[Sentence], segment_starts: set[int]
) -> None:
    text = pack.join(words, [id(w) in segment_starts for w in words])
    if text:
        out.append(
            Sentence(text, pack.sentence_start(words[0]), words[-1].end, len(out), tuple(words))
        )


def _from_segments(transcript: Transcript) -> list[Sentence]:
    # Engines without word timestamps: fall back to segments (coarser times).
    return [
        Sentence(s.text.strip(), s.start, s.end, i)
        for i, s in enumerate(seg for seg in transcript.segments if seg.text.strip())
    ]
