"""Split a timed transcript into sentences, each with its start and end time.

Sentences are the unit of feedback: "at 0:42 you said '...'; say '...' instead". Whisper's
segments are not sentences (a segment may hold two, or stop mid-sentence), so we rebuild
sentences from the timed words and end one at terminal punctuation (. ! ? and Japanese 。！？).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .transcribe import Transcript, Word

SENTENCE_END = re.compile(r"[.!?。！？]+[\"'”」』)]*$")
# A pause this long inside a run of words with no punctuation also ends a sentence: Whisper
# sometimes omits the full stop, and one 40-second "sentence" would be useless as evidence.
SENTENCE_BREAK_PAUSE_S = 1.5
MAX_SENTENCE_WORDS = 60  # hard cap for the same reason
# Languages written without spaces between words: join Whisper's word pieces with "".
NO_SPACE_LANGUAGES = frozenset({"ja", "zh", "th", "lo", "km", "my"})


@dataclass(frozen=True)
class Sentence:
    text: str
    start: float  # seconds
    end: float
    index: int = 0  # position in the transcript, 0-based


def split_sentences(transcript: Transcript) -> list[Sentence]:
    """Sentences of `transcript`, in order, with times from its word timestamps."""
    words = transcript.words
    if not words:
        return _from_segments(transcript)
    joiner = "" if transcript.language in NO_SPACE_LANGUAGES else " "
    sentences: list[Sentence] = []
    current: list[Word] = []
    for i, word in enumerate(words):
        current.append(word)
        nxt = words[i + 1] if i + 1 < len(words) else None
        if nxt is None or _ends_sentence(word, nxt, len(current)):
            _flush(current, joiner, sentences)
            current = []
    return sentences


def _ends_sentence(word: Word, nxt: Word, length: int) -> bool:
    if SENTENCE_END.search(word.text.strip()):
        return True
    return nxt.start - word.end >= SENTENCE_BREAK_PAUSE_S or length >= MAX_SENTENCE_WORDS


def _flush(words: list[Word], joiner: str, out: list[Sentence]) -> None:
    text = joiner.join(w.text.strip() for w in words).strip()
    if text:
        out.append(Sentence(text, words[0].start, words[-1].end, len(out)))


def _from_segments(transcript: Transcript) -> list[Sentence]:
    # Engines without word timestamps: fall back to segments (coarser times).
    return [
        Sentence(s.text.strip(), s.start, s.end, i)
        for i, s in enumerate(seg for seg in transcript.segments if seg.text.strip())
    ]
