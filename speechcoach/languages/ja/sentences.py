"""Japanese sentence ends for transcripts without punctuation, and joining Whisper's pieces."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..nospace import join_pieces, stretched
from .text import tokenize

# Greetings that end a sentence though the analyser reads them as continuing (はじめ・まし・て).
CLOSED_PHRASES = (
    "はじめまして",
    "初めまして",
    "こんにちは",
    "こんばんは",
    "ありがとう",
    "よろしく",
    "以上",
)
FINAL_FORMS = ("終止形", "意志推量形", "命令形")
# A polite ending almost always closes a sentence unless a particle follows (〜ですが, 〜ますので).
POLITE_END = re.compile(
    r"(ます|です|ました|でした|ません|ませんでした|ましょう|でしょう|ください|ございます)$"
)
CONTINUING = ("助詞", "助動詞", "接尾辞")


def ends_sentence(text: str) -> bool:
    """Does `text` end where a Japanese sentence can end? For transcripts without punctuation
    (Whisper often writes none for Japanese): a predicate in its final form (〜ます, 〜です,
    〜した, 〜だ), a sentence-final particle (〜ね, 〜か), or a closed greeting.

    >>> ends_sentence("最近のプロジェクトでは"), ends_sentence("三人のチームをリードしました")
    (False, True)
    """
    text = text.strip().rstrip("、,")
    if not text:
        return False
    if re.search(r"[。！？!?.]$", text) or text.endswith(CLOSED_PHRASES):
        return True
    tokens = [t for t in tokenize(text) if t.kind not in ("補助記号", "空白")]
    if not tokens:
        return False
    last = tokens[-1]
    if last.kind == "助詞":
        return last.pos[1] == "終助詞"
    return last.kind in ("助動詞", "動詞", "形容詞") and last.form.startswith(FINAL_FORMS)


def sentence_break(before: str, after: str, pause: bool) -> bool:
    """Does a sentence end between `before` and `after` in unpunctuated Japanese?

    With a pause between them (Whisper's segment end, a gap, or a stretched first word): when
    `before` ends like a sentence (`ends_sentence`). Without one: only after a polite ending
    that `after` does not continue (〜ました|最近 breaks; 〜ました|が does not), since a plain
    form before a noun is usually a relative clause (伸びた|のは, つなぐ|テックリード).

    >>> sentence_break("アプリです", "5人のチーム", pause=False)
    True
    >>> sentence_break("学びました", "が新しい", pause=False)
    False
    """
    before, after = before.strip(), after.strip()
    if not before:
        return False
    if pause:
        return ends_sentence(before)
    if not POLITE_END.search(before) or not after:
        return False
    cut = len(before)
    nxt = next((t for t in tokenize(before + after) if t.end > cut), None)
    return nxt is not None and nxt.begin == cut and nxt.kind not in CONTINUING


# ---------------------------------------------------------------------------- Whisper's pieces
# Whisper often writes Japanese without any punctuation. There a sentence also ends where the
# words so far end the way a Japanese sentence ends (`sentence_break`): after a polite ending
# (〜ます, 〜です) the next words do not continue, or after a plain one (〜た, 〜だ) at a pause.
# Pauses: a segment end, a gap of PAUSE_S, or a stretched piece (see nospace.stretched).
PAUSE_S = 0.3
SEGMENT_GAP_S = 0.05  # seconds between the words around a segment end that make it a pause


def ends_in_pieces(current: Sequence, upcoming: Sequence, segment_end: bool, starts) -> bool:
    """Does a sentence end after the word pieces `current`, before `upcoming`?"""
    nxt = upcoming[0]
    if (
        segment_end
        and re.match(r"\s*[A-Z]", nxt.text)
        and re.search(r"[A-Za-z]\W*$", current[-1].text)
    ):
        # English inside a Japanese transcript comes unpunctuated: a capital opens a sentence.
        return True
    gap = nxt.start - current[-1].end
    # A segment end is a pause only where time passes: Whisper also cuts a segment inside a
    # phrase (…本当に嬉しい|経験だった, no gap), and a plain form there is no sentence end.
    pause = (segment_end and gap > SEGMENT_GAP_S) or gap >= PAUSE_S or stretched(nxt)
    return sentence_break(
        join_pieces([w.text for w in current], starts),
        "".join(w.text.strip() for w in upcoming),
        pause,
    )
