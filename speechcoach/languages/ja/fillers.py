"""Japanese fillers (えー, あの...), told from the same words doing a word's job (あの会社)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .text import Token, tokenize


@dataclass(frozen=True)
class FoundFiller:
    text: str
    start: float
    end: float | None = None


PATTERN_MAX_TOKENS = 3  # a held filler (えーーっと) may come as up to three analyser tokens


def find_fillers(words: Sequence, rules: dict) -> list[FoundFiller]:
    """Japanese fillers in Whisper's word pieces, each with the time it was said.

    `rules["always"]` (えー, えーと, あのー...) count wherever they stand; `rules["contextual"]`
    (あの, その, なんか, まあ, ええ) only where they do not do a word's job: あの/その before a noun
    are demonstratives (その会社), なんか right after a noun means "such as" (私なんか), まあまあ
    means "so-so". The analyser's own 'filler' tag (感動詞-フィラー) also counts.
    """
    pieces = [w.text.strip() for w in words]
    text = "".join(pieces)
    owner = [i for i, p in enumerate(pieces) for _ in p]  # character -> word index
    tokens = tokenize(text)
    always = sorted(rules.get("always", ()), key=len, reverse=True)
    contextual = set(rules.get("contextual", ()))
    patterns = [re.compile(p) for p in rules.get("patterns", ())]
    found: list[FoundFiller] = []
    i = 0
    while i < len(tokens):
        n, surface = _pattern_at(tokens, i, patterns)
        if not n:
            n, surface = _filler_at(tokens, i, always, contextual)
        if n:
            last = words[owner[tokens[i + n - 1].end - 1]]
            found.append(FoundFiller(surface, words[owner[tokens[i].begin]].start, last.end))
            i += n
        else:
            i += 1
    return found


def _pattern_at(tokens: list[Token], i: int, patterns: list) -> tuple[int, str]:
    """The longest run of up to PATTERN_MAX_TOKENS tokens from i that a filler pattern matches
    whole (えー, えーーっと, あのー: every length Whisper writes), else (0, '')."""
    for n in range(min(PATTERN_MAX_TOKENS, len(tokens) - i), 0, -1):
        if n > 1 and tokens[i + n - 1].kind == "補助記号":  # punctuation is no part of it
            continue
        surface = "".join(t.surface for t in tokens[i : i + n])
        if any(p.fullmatch(surface) for p in patterns):
            return n, surface
    return 0, ""


def _filler_at(
    tokens: list[Token], i: int, always: list[str], contextual: set[str]
) -> tuple[int, str]:
    """(tokens taken, filler text) if a filler starts at token i, else (0, '')."""
    for filler in always:  # longest first: えーと before えー
        surface, n = "", 0
        while i + n < len(tokens) and len(surface) < len(filler):
            surface += tokens[i + n].surface
            n += 1
        if surface == filler:
            return n, surface
    tok = tokens[i]
    if tok.pos[:2] == ("感動詞", "フィラー"):
        return 1, tok.surface
    # なんか may come as one token or as なん + か.
    if tok.surface == "なん" and i + 1 < len(tokens) and tokens[i + 1].surface == "か":
        return (
            (2, "なんか")
            if "なんか" in contextual and _filler_context(tokens, i, "なんか", 2)
            else (0, "")
        )
    if tok.surface in contextual and _filler_context(tokens, i, tok.surface, 1):
        return 1, tok.surface
    return 0, ""


def _filler_context(tokens: list[Token], i: int, word: str, n: int) -> bool:
    prev = tokens[i - 1] if i > 0 else None
    nxt = tokens[i + n] if i + n < len(tokens) else None
    if word in ("あの", "その"):  # a demonstrative before a noun (あの会社) is not a filler
        return nxt is None or nxt.kind not in ("名詞", "代名詞", "接頭辞", "形状詞")
    if word == "なんか":  # 私なんか: "someone like me"
        return prev is None or prev.kind not in ("名詞", "代名詞")
    if word == "まあ":  # まあまあ: "so-so"
        return not (nxt and nxt.surface.startswith("まあ")) and not (
            prev and prev.surface.endswith("まあ")
        )
    return True
