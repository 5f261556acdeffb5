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
# Whisper often writes Japanese without any punctuation. There a sentence also ends where the
# words so far end the way a Japanese sentence ends (see japanese.sentence_break): after a polite
# ending (〜ます, 〜です) the next words do not continue, or after a plain one (〜た, 〜だ) at a
# pause. Pauses: a segment end, a gap of JA_PAUSE_S, or a short piece stretched to
# JA_STRETCHED_PIECE_S: Whisper's timestamps often fold the silence into the next word.
JA_PAUSE_S = 0.3
JA_STRETCHED_PIECE_S = 0.6
JA_LOOKAHEAD_PIECES = 4  # enough following pieces for the analyser to read the next word


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
            or (
                transcript.language == "ja"
                and _ends_japanese_sentence(
                    current,
                    words[i + 1 : i + 1 + JA_LOOKAHEAD_PIECES],
                    id(word) in segment_ends,
                    segment_starts,
                )
            )
        ):
            _flush(current, joiner, sentences, segment_starts)
            current = []
    return sentences


def _ends_sentence(word: Word, nxt: Word, length: int) -> bool:
    if SENTENCE_END.search(word.text.strip()):
        return True
    return nxt.start - word.end >= SENTENCE_BREAK_PAUSE_S or length >= MAX_SENTENCE_WORDS


def _ends_japanese_sentence(
    current: list[Word], upcoming: list[Word], segment_end: bool, segment_starts: set[int]
) -> bool:
    from .japanese import sentence_break  # loads the Japanese dictionary: Japanese only

    nxt = upcoming[0]
    if (
        segment_end
        and re.match(r"\s*[A-Z]", nxt.text)
        and re.search(r"[A-Za-z]\W*$", current[-1].text)
    ):
        return True  # English inside a Japanese transcript comes unpunctuated: a capital opens a sentence
    stretched = nxt.end - nxt.start >= JA_STRETCHED_PIECE_S and len(nxt.text.strip()) <= 2
    pause = segment_end or nxt.start - current[-1].end >= JA_PAUSE_S or stretched
    return sentence_break(
        _join_no_space(current, segment_starts), "".join(w.text.strip() for w in upcoming), pause
    )


def _join_no_space(words: list[Word], segment_starts: set[int]) -> str:
    # Keeps the spaces between English words inside a Japanese transcript ("I am an engineer").
    from .japanese import join_pieces

    return join_pieces([w.text for w in words], [id(w) in segment_starts for w in words])


def _flush(
    words: list[Word], joiner: str, out: list[Sentence], segment_starts: set[int] = frozenset()
) -> None:
    start = words[0].start
    if joiner:
        text = joiner.join(w.text.strip() for w in words).strip()
    else:
        text = _join_no_space(words, segment_starts)
        first = words[0]
        if first.end - first.start >= JA_STRETCHED_PIECE_S and len(first.text.strip()) <= 2:
            start = (
                first.end - JA_STRETCHED_PIECE_S / 2
            )  # the pause Whisper folded into it is not speech
    if text:
        out.append(Sentence(text, start, words[-1].end, len(out)))


def _from_segments(transcript: Transcript) -> list[Sentence]:
    # Engines without word timestamps: fall back to segments (coarser times).
    return [
        Sentence(s.text.strip(), s.start, s.end, i)
        for i, s in enumerate(seg for seg in transcript.segments if seg.text.strip())
    ]
