"""Fillers in a spaced language (English and any language with a fillers.json): single words,
phrases set off by commas, sentence-initial words and hedges, each with the time it was said."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..types import Filler, Sentence, Word


def _norm(token: str) -> str:
    return re.sub(r"[^\w']+", "", token.lower())


def spaced_fillers(
    words: Sequence[Word], sentences: Sequence[Sentence], rules: dict
) -> list[Filler]:
    """Fillers of a spaced language by the rules of its fillers.json (see en/fillers.json)."""
    tokens = [_norm(w.text) for w in words]
    sentence_starts = {round(s.start, 3) for s in sentences}
    always, initial = set(rules["always"]), set(rules["sentence_initial"])
    patterns = [re.compile(p) for p in rules.get("patterns", ())]
    phrases = [p.split() for p in rules["phrases"]]
    hedges = [h.split() for h in rules["hedges"]]
    found: list[Filler] = []
    skip_until = -1
    for i, (word, tok) in enumerate(zip(words, tokens, strict=True)):
        if i <= skip_until or not tok:
            continue
        phrase = next((p for p in phrases if tokens[i : i + len(p)] == p), None)
        hedge = next((h for h in hedges if tokens[i : i + len(h)] == h), None)
        if (phrase and _is_filler_phrase(words, i, len(phrase), sentence_starts)) or (
            hedge and _is_hedge(tokens, i, rules)
        ):
            n = len(phrase or hedge)
            found.append(Filler(" ".join(tokens[i : i + n]), word.start, words[i + n - 1].end))
            skip_until = i + n - 1
        elif tok in always or any(p.fullmatch(tok) for p in patterns):
            found.append(Filler(tok, word.start, word.end))
        elif (
            tok in initial
            and round(word.start, 3) in sentence_starts
            and word.text.strip().endswith(",")
        ):
            found.append(Filler(tok, word.start, word.end))
        elif tok == rules["like_word"] and _is_filler_like(words, i):
            found.append(Filler(tok, word.start, word.end))
    return found


def _is_filler_phrase(words: Sequence[Word], i: int, n: int, sentence_starts: set[float]) -> bool:
    """'you know' / 'I mean' as fillers are set off by commas ("it was, you know, hard") or open
    a sentence; "Do you know our app?" and "What I mean is" are not counted (a lower bound)."""
    before = words[i - 1].text.strip() if i > 0 else ""
    last = words[i + n - 1].text.strip()
    return round(words[i].start, 3) in sentence_starts or before.endswith(",") or last.endswith(",")


def _is_hedge(tokens: list[str], i: int, rules: dict) -> bool:
    # "what kind of tool" names a kind; "it was kind of hard" hedges.
    return i == 0 or tokens[i - 1] not in set(rules["hedge_noun_markers"])


def _is_filler_like(words: Sequence[Word], i: int) -> bool:
    """'like' as a filler is set off by commas in Whisper's punctuation ("it was, like, hard";
    "Like, I did..."); as a verb ("I like this approach") or preposition ("tools like Docker")
    it is not. Uncertain cases are not counted, keeping the count a lower bound."""
    text = words[i].text.strip()
    prev = words[i - 1].text.strip() if i > 0 else ""
    return text.lower().startswith("like") and (text.endswith(",") or prev.endswith(","))
