"""The polite register (です/ます) of a Japanese interview, and the polite form of a plain
ending."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ...config import format_duration
from ...feedback import Tip
from .sentences import CLOSED_PHRASES, FINAL_FORMS
from .text import Token, script_of, tokenize

SENTENCE_FINAL_KEEP = ("ね", "よ", "よね", "か")  # fine after です/ます too
POLITE_AUX = ("ます", "です")
AUX_BY_TYPE = {
    "助動詞-タ": "た",
    "助動詞-ナイ": "ない",
    "助動詞-タイ": "たい",
    "助動詞-マス": "ます",
    "助動詞-デス": "です",
}
GODAN_I_ROW = dict(zip("うくぐすつぬぶむる", "いきぎしちにびみり", strict=True))
# An introduction is "formal" when at least this many sentences end in です/ます and they
# outnumber the plain-form ones; the plain ones are then slips.
MIN_POLITE_SENTENCES = 2
REGISTER_PRIORITY = 50  # below missing components and pitfalls, above voice tips
REGISTER_MAX_LISTED = 3  # other slips named by their time in the same tip


def register_of(text: str) -> str | None:
    """'polite' (〜です, 〜ます), 'casual' (〜だ, 〜である, 〜だった, 〜じゃない, plain verbs and
    adjectives) or None (noun endings, fragments, greetings: no register shown)."""
    tokens = _predicate_tokens(text)
    if not tokens:
        return None
    if any(t.kind == "助動詞" and t.base in POLITE_AUX for t in tokens[-4:]) or tokens[-1].base in (
        "ござる",
        "くださる",
    ):
        return "polite"
    last = tokens[-1]
    if last.kind in ("助動詞", "動詞", "形容詞") and last.form.startswith(FINAL_FORMS):
        return "casual"
    return None


def _predicate_tokens(text: str) -> list[Token]:
    """Tokens of the sentence without trailing punctuation and sentence-final particles."""
    text = text.strip()
    if not text or text.endswith(CLOSED_PHRASES) or script_of(text) != "ja":
        return []
    tokens = [t for t in tokenize(text) if t.kind not in ("補助記号", "空白")]
    while tokens and tokens[-1].pos[1] == "終助詞":
        tokens.pop()
    return tokens


def polite_form(text: str) -> str | None:
    """The sentence with its plain ending made polite, or None if no rule applies.

    >>> polite_form("本当にうれしい経験だった。")
    '本当にうれしい経験でした。'
    >>> polite_form("東京で働いている")
    '東京で働いています'
    """
    stripped = text.strip()
    tail_punct = re.search(r"[。！？!?.]*$", stripped).group()
    body = stripped[: len(stripped) - len(tail_punct)]
    tokens = [t for t in tokenize(body) if t.kind not in ("補助記号", "空白")]
    particles = ""
    while tokens and tokens[-1].pos[1] == "終助詞":
        particles = tokens.pop().surface + particles
    if not tokens:
        return None
    keep = particles if particles in SENTENCE_FINAL_KEEP else ""
    result = _polite_ending(body, tokens)
    return None if result is None else result + keep + tail_punct


def _polite_ending(body: str, tokens: list[Token]) -> str | None:
    surfaces = [t.surface for t in tokens]
    # Copula forms first: である, であった, だった, じゃない/ではない, だろう, だ.
    copulas = (
        (("で", "あっ", "た"), "でした"),
        (("で", "ある"), "です"),
        (("だっ", "た"), "でした"),
        (("じゃ", "なかっ", "た"), "ではありませんでした"),
        (("で", "は", "なかっ", "た"), "ではありませんでした"),
        (("じゃ", "ない"), "ではありません"),
        (("で", "は", "ない"), "ではありません"),
        (("だろ", "う"), "でしょう"),
        (("だろう",), "でしょう"),
        (("だ",), "です"),
    )
    for pattern, polite in copulas:
        n = len(pattern)
        # the first token must be the copula (助動詞-ダ), not past-tense だ (読んだ)
        # or the particle で
        if tuple(surfaces[-n:]) == pattern and tokens[-n].pos[4] == "助動詞-ダ":
            return _replace_tail(body, tokens[-n], polite)
    return _polite_predicate(body, tokens)


def _polite_predicate(body: str, tokens: list[Token]) -> str | None:
    """Plain verb or adjective endings: 働く -> 働きます, 行かなかった -> 行きませんでした,
    楽しい -> 楽しいです, 経験がない -> 経験がありません."""
    aux = []  # trailing auxiliaries after the last verb or adjective
    k = len(tokens) - 1
    while k >= 0 and tokens[k].kind == "助動詞":
        aux.insert(0, AUX_BY_TYPE.get(tokens[k].pos[4], tokens[k].base))  # past だ (読んだ) is た
        k -= 1
    if k < 0:
        return None
    head = tokens[k]
    if head.kind == "形容詞":
        if head.base == "ない" and not aux:
            return _replace_tail(body, head, "ありません")
        if head.base == "ない" and aux == ["た"]:
            return _replace_tail(body, head, "ありませんでした")
        return body + "です" if aux in ([], ["た"]) else None
    if head.kind != "動詞":
        return None
    if "たい" in aux:  # 働きたい, 働きたかった: add です
        return body + "です" if aux[-1] in ("たい", "た") else None
    stem = _masu_stem(head)
    if stem is None:
        return None
    endings = {(): "ます", ("た",): "ました", ("ない",): "ません", ("ない", "た"): "ませんでした"}
    if head.form.startswith("意志推量形") and not aux:
        return _replace_tail(body, head, stem + "ましょう")
    if tuple(aux) not in endings:
        return None
    return _replace_tail(body, head, stem + endings[tuple(aux)])


def _masu_stem(verb: Token) -> str | None:
    """The 連用形 that ます attaches to: 働く -> 働き, 食べる -> 食べ, する -> し, 来る -> 来."""
    base, conj = verb.base, verb.pos[4]
    if conj.startswith("五段") and base and base[-1] in GODAN_I_ROW:
        return base[:-1] + GODAN_I_ROW[base[-1]]
    if conj.startswith(("上一段", "下一段")) and base.endswith("る"):
        return base[:-1]
    if conj.startswith("サ行変格"):
        return base[:-2] + "し" if base.endswith("する") else None
    if conj.startswith("カ行変格"):
        return {"来る": "来", "くる": "き"}.get(base)
    return None


def _replace_tail(body: str, first: Token, polite: str) -> str:
    return body[: first.begin] + polite


def register_tips(sentences: Sequence) -> list[Tip]:
    """A tip when a polite (です/ます) introduction slips into plain endings (だ, である,
    だった...), or when the whole introduction is in plain form: the sentence, its time, the
    polite form."""
    marked = [(s, register_of(s.text)) for s in sentences]
    polite = [s for s, r in marked if r == "polite"]
    casual = [s for s, r in marked if r == "casual"]
    if not casual:
        return []
    first = casual[0]
    others = "、".join(format_duration(s.start) for s in casual[1 : 1 + REGISTER_MAX_LISTED])
    also = f"（{others} の文も同じです）" if others else ""
    # The time and the sentence travel in the tip's own fields (the report prints them).
    if len(polite) >= MIN_POLITE_SENTENCES and len(polite) > len(casual):
        message = (
            "この文が「だ・である」調で終わっています"
            + also
            + "。ほかの文は「です・ます」調なので、"
            "面接では最後まで丁寧な言い方にそろえましょう。"
        )
    elif len(casual) >= MIN_POLITE_SENTENCES:
        message = (
            "自己紹介が「だ・である」調で話されています"
            + also
            + "。面接では「です・ます」調で話しましょう。"
        )
    else:
        return []
    return [
        Tip(
            "register:casual",
            REGISTER_PRIORITY,
            message,
            sentence=first.text,
            start=first.start,
            say_instead=polite_form(first.text),
        )
    ]
