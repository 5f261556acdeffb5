"""English: words per minute, the spaced filler rules of fillers.json, the English rubric.

Everything English is data in this folder; the code is the generic spaced language's.
"""

from __future__ import annotations

from ..generic import Generic


class English(Generic):
    def __init__(self) -> None:
        super().__init__("en")
