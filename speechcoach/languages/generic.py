"""The pack for any language Whisper knows without a pack of its own code.

It reads `languages/<code>/` when that folder exists (so a new spaced language is a folder of
data) and otherwise coaches delivery only, with English texts.
"""

from __future__ import annotations

from .base import Language

# Languages written without spaces between words: their pieces join with "" and hold no words
# to count (the set Whisper's tokenizer treats so). Japanese has its own pack.
NO_SPACE_LANGUAGES = frozenset({"ja", "zh", "th", "lo", "km", "my", "yue"})


class Generic(Language):
    def __init__(self, code: str):
        super().__init__(code)
        self.spaced = code not in NO_SPACE_LANGUAGES
