"""Languages written without spaces (Japanese, Chinese, Thai...): joining Whisper's word pieces
into text, and the pause Whisper folds into a short piece's timestamps."""

from __future__ import annotations

import re
from collections.abc import Sequence

# Whisper's timestamps often fold a pause into the next short piece: a piece of at most
# STRETCHED_MAX_CHARS characters lasting STRETCHED_PIECE_S or more holds a pause.
STRETCHED_PIECE_S = 0.6
STRETCHED_MAX_CHARS = 2


def stretched(piece) -> bool:
    """A short piece whose timestamps hold the pause before it (see above)."""
    return (
        piece.end - piece.start >= STRETCHED_PIECE_S
        and len(piece.text.strip()) <= STRETCHED_MAX_CHARS
    )


CJK_NEIGHBOUR_SPACE = re.compile(
    r"(?<=[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef])\s+|\s+(?=[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef])"
)


def join_pieces(pieces: Sequence[str], starts_segment: Sequence[bool] | None = None) -> str:
    """Join Whisper's word pieces of a no-space transcript into text.

    Japanese pieces join without spaces; English pieces keep the leading space Whisper gives
    each word (" am", " engineer"), which it omits on the first word of a segment, so one is
    put back there between two Latin letters.

    >>> join_pieces(["Brazil", "I", " came", "日本", "に"], [False, True, False, True, False])
    'Brazil I came日本に'
    """
    starts_segment = starts_segment or [False] * len(pieces)
    out = ""
    for piece, first in zip(pieces, starts_segment, strict=True):
        if (
            first
            and out
            and re.match(r"[A-Za-z0-9]", piece)
            and re.search(r"[A-Za-z0-9.,!?]$", out)
        ):
            out += " "
        out += piece
    out = CJK_NEIGHBOUR_SPACE.sub("", out)
    return re.sub(r"\s+", " ", out).strip()
