"""Japanese: pace in characters and morae, sentence ends without punctuation, fillers told
from demonstratives, and the です/ます register of an interview.

The code is split by job: `text` (tokens, readings, counting, scripts and pace), `sentences`,
`fillers`, `register`. SudachiPy loads on first use only: an English analysis never loads it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from ...feedback import Tip
from ...types import Filler, Sentence, Word
from ..base import CHARS_PER_MIN, Language
from .text import JAPANESE_CHAR  # light: the dictionary loads only when readings are needed


class Japanese(Language):
    code = "ja"
    spaced = False
    pace_metric = CHARS_PER_MIN

    def writes(self, text: str) -> bool:
        """Is there Japanese script in `text`? (for mixed intros)"""
        return bool(JAPANESE_CHAR.search(text))

    def script_of(self, text: str) -> str | None:
        from .text import script_of

        return script_of(text)

    def count_chars(self, text: str) -> int:
        from .text import count_chars

        return count_chars(text)

    def pace_by_script(self, sentences: Sequence[Sentence], speech_s: float):
        from .text import pace_by_script

        return pace_by_script(sentences, speech_s)

    def ends_sentence(self, current, upcoming, pause, starts) -> bool:
        from .sentences import ends_in_pieces

        return ends_in_pieces(current, upcoming, pause, list(starts))

    def fillers(self, words: Sequence[Word], sentences: Sequence[Sentence]) -> list[Filler] | None:
        rules = self.data("fillers.json")
        if rules is None:
            return None
        from .fillers import find_fillers  # morphological analysis tells あの from あの会社

        return [Filler(f.text, f.start, f.end) for f in find_fillers(words, rules)]

    def matches(self, pattern: re.Pattern, text: str) -> bool:
        """On the written form, or on the reading: 低かった written 引くかった still says
        ひくかった (see text.match_reading)."""
        if pattern.search(text):
            return True
        return bool(_reading_regex(pattern.pattern, pattern.flags).search(_said(text)))

    def extra_tips(self, sentences: Sequence[Sentence]) -> list[Tip]:
        from .register import register_tips  # a polite intro that slips into だ/である

        return register_tips(sentences)


@lru_cache(maxsize=1024)
def _reading_regex(pattern: str, flags: int) -> re.Pattern:
    from .text import reading_pattern

    return re.compile(reading_pattern(pattern), flags)


@lru_cache(maxsize=4096)
def _said(text: str) -> str:
    from .text import match_reading

    return match_reading(text)
