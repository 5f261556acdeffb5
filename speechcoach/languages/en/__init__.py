"""English: words per minute, the spaced filler rules of fillers.json, the English rubric.

Everything English is data in this folder; the code is the generic spaced language's.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...numbers import spoken_word_count
from ...types import Word
from ..generic import Generic


class English(Generic):
    filler_prompt = "Umm, let me think like, hmm... Okay, here's what I'm, like, thinking."

    def __init__(self) -> None:
        super().__init__("en")

    def count_words(self, words: Sequence[Word]) -> int:
        """Words as spoken: "1455" is three ("fourteen fifty five"), as Japanese counts digits
        as the numerals they are read as."""
        return sum(spoken_word_count(w.text) for w in words)
