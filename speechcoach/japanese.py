"""Japanese: the units of its speaking rate, sentence ends, fillers, and a polite register.

Japanese is written without spaces, so its pace is counted in characters (kana and kanji, as
NHK's ~300 characters per minute) and in morae (the beats of the kana reading: きょ・う・と is
3 morae; 320-360 per minute suits non-native listeners). Both must not depend on how Whisper
happens to write a word, so before counting:

- digits are read as kanji numerals (2019 -> 二千十九, 3人 -> 三人);
- a Latin-script word inside a Japanese sentence (Python, AWS) counts as the katakana it is
  said as (パイソン, エーダブリューエス): the dictionary's reading, else its letters spelled
  (acronyms) or an estimate from its length.

Readings come from SudachiPy with `sudachidict_core` (both install offline from PyPI). They load
on first use only: an English analysis never loads the dictionary.

Mixed languages. A transcript can hold English and Japanese sentences (an English intro closed
with よろしくお願いします, or the reverse). `script_of` sorts each sentence into "ja" or
"latin"; `pace_by_script` then counts characters and morae in the Japanese sentences and words in
the Latin ones, and gives each script its share of the speaking span in proportion to the time
its sentences took (pauses fall to the scripts in the same proportion). A single-language
transcript thus gets the whole span, and rates stay comparable with the reference bands.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .config import format_duration
from .feedback import Tip

__all__ = [
    "ScriptPace",
    "count_chars",
    "count_morae",
    "ends_sentence",
    "find_fillers",
    "join_pieces",
    "pace_by_script",
    "polite_form",
    "reading",
    "register_of",
    "register_tips",
    "script_of",
    "sentence_break",
    "to_kanji_numerals",
]

log = logging.getLogger(__name__)

# Kana, kanji, the iteration marks and the long-vowel mark: what a Japanese character count counts.
JAPANESE_CHAR = re.compile(
    r"[\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc-\u30fe\u3005\u4e00-\u9fff]"
)
KANA = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u30fc]")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
# Small kana that merge with the kana before them into one mora (きょ, ファ); ッ, ン, ー count.
SMALL_KANA = set("ァィゥェォャュョヮぁぃぅぇぉゃゅょゎ")
# A Latin word counts as this many Japanese characters per letter when the dictionary has no
# reading (React -> リアクト: 5 letters, 4 kana); measured over common tech words.
KANA_PER_LETTER = 0.8
LETTER_NAMES = dict(
    zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "エー ビー シー ディー イー エフ ジー エイチ アイ ジェー ケー エル エム エヌ オー ピー キュー アール エス ティー ユー ブイ "
        "ダブリュー エックス ワイ ゼット".split(),
    )
)
# A Latin word is said in about the time of this many Japanese characters: used to decide
# whether a sentence mixing both scripts is mainly Japanese or mainly English.
CHARS_PER_LATIN_WORD = 3


# ---------------------------------------------------------------------------- sudachi


@dataclass(frozen=True)
class Token:
    surface: str
    reading: str  # katakana
    pos: tuple[
        str, ...
    ]  # SudachiPy's six fields: 4 levels of part of speech, conjugation type, form
    base: str  # dictionary form
    begin: int  # character offsets in the analysed text
    end: int

    @property
    def kind(self) -> str:
        return self.pos[0]

    @property
    def form(self) -> str:
        return self.pos[5]


@lru_cache(maxsize=1)
def _tokenizer():
    from sudachipy import Dictionary, SplitMode  # heavy: loaded only for Japanese text

    dictionary = Dictionary(dict="core")
    # tokenizer() replaced create() in SudachiPy 0.7 (create() now warns); older ones have create() only.
    make = getattr(dictionary, "tokenizer", None) or dictionary.create
    return make(mode=SplitMode.C)


def tokenize(text: str) -> list[Token]:
    """SudachiPy tokens (mode C: whole compounds, as a reader would say them)."""
    if not text:
        return []
    return [
        Token(
            m.surface(),
            m.reading_form(),
            tuple(m.part_of_speech()),
            m.dictionary_form(),
            m.begin(),
            m.end(),
        )
        for m in _tokenizer().tokenize(text)
    ]


# ---------------------------------------------------------------------------- counting


def to_kanji_numerals(text: str) -> str:
    """Arabic numerals as the kanji numerals they are read as.

    >>> to_kanji_numerals("2019年に3人で")
    '二千十九年に三人で'
    """
    text = unicodedata.normalize("NFKC", text)  # full-width digits and letters, half-width kana
    return NUMBER.sub(lambda m: _number_kanji(m.group()), text)


def _number_kanji(token: str) -> str:
    whole, _, fraction = token.replace(",", "").partition(".")
    if len(whole) > 1 and whole.startswith("0"):  # 007, phone numbers: read digit by digit
        read = "".join(DIGITS[int(d)] for d in whole)
    else:
        read = _int_kanji(int(whole))
    return read + ("点" + "".join(DIGITS[int(d)] for d in fraction) if fraction else "")


DIGITS = "〇一二三四五六七八九"
SMALL_UNITS = ((1000, "千"), (100, "百"), (10, "十"))
LARGE_UNITS = ((10**12, "兆"), (10**8, "億"), (10**4, "万"))


def _int_kanji(n: int) -> str:
    if n == 0:
        return "零"
    out = ""
    for size, unit in LARGE_UNITS:
        if n >= size:
            out += _group_kanji(n // size) + unit
            n %= size
    return out + (_group_kanji(n) if n else "")


def _group_kanji(n: int) -> str:
    """1-9999 in kanji; 一 is dropped before 十, 百, 千 (十五, not 一十五)."""
    out = ""
    for size, unit in SMALL_UNITS:
        digit, n = divmod(n, size)
        if digit:
            out += ("" if digit == 1 else DIGITS[digit]) + unit
    return out + (DIGITS[n] if n else "")


def count_chars(text: str) -> int:
    """Japanese characters as read aloud: kana and kanji, numerals as kanji, Latin words as the
    katakana they are said as; punctuation and spaces excluded.

    >>> count_chars("2019年にPythonを使いました。")  # 二千十九年に パイソン を使いました
    16
    """
    text = to_kanji_numerals(text)
    latin = LATIN_WORD.findall(text)
    plain = len(JAPANESE_CHAR.findall(text))
    if not latin:
        return plain
    readings = _latin_readings(text)
    return plain + sum(len(readings.get(word) or _estimate_kana(word)) for word in latin)


def count_morae(text: str) -> int:
    """Morae of the kana reading of `text` (numerals and Latin words read as in `count_chars`).

    >>> count_morae("東京で働いています")
    13
    """
    return sum(_morae_in_kana(r) for r in _readings(to_kanji_numerals(text)))


def reading(text: str) -> str:
    """The katakana reading of `text`, as used for the morae count."""
    return "".join(_readings(to_kanji_numerals(text)))


def _readings(text: str) -> Iterable[str]:
    for tok in tokenize(text):
        if tok.kind in ("補助記号", "空白", "記号"):
            continue
        if KANA.search(tok.reading):
            yield tok.reading
        elif LATIN_WORD.search(tok.surface):
            yield from (_estimate_kana(w) for w in LATIN_WORD.findall(tok.surface))


def _latin_readings(text: str) -> dict[str, str]:
    """The dictionary's katakana reading of each Latin word in `text` that it knows."""
    return {
        tok.surface: tok.reading
        for tok in tokenize(text)
        if LATIN_WORD.fullmatch(tok.surface) and KANA.search(tok.reading)
    }


def _estimate_kana(word: str) -> str:
    """Katakana stand-in for a Latin word the dictionary does not know: acronyms spelled out
    (SQL -> エスキューエル), other runs at KANA_PER_LETTER (only the length matters)."""
    out = ""
    for part in re.findall(r"[A-Z]{2,}(?![a-z])|[A-Z]?[a-z'’]+|[A-Z]", word):
        if part.isupper():
            out += "".join(LETTER_NAMES[c] for c in part)
        else:
            out += "ア" * max(2, round(len(part) * KANA_PER_LETTER))
    return out


def _morae_in_kana(kana: str) -> int:
    return sum(1 for c in kana if KANA.match(c) and c not in SMALL_KANA)


# ---------------------------------------------------------------------------- scripts and pace


def script_of(text: str) -> str | None:
    """'ja' for a mainly Japanese sentence, 'latin' for a mainly Latin-script one, None if neither."""
    ja = len(JAPANESE_CHAR.findall(text))
    latin = len(LATIN_WORD.findall(text))
    if not ja and not latin:
        return None
    if KANA.search(text) and ja >= latin:  # kana (particles, endings) mark Japanese grammar
        return "ja"
    return "ja" if ja >= CHARS_PER_LATIN_WORD * latin else "latin"


@dataclass(frozen=True)
class ScriptPace:
    """What was said in each script and the minutes of speech each gets (see the module doc)."""

    ja_chars: int
    ja_morae: int
    ja_minutes: float
    latin_words: int
    latin_minutes: float

    @property
    def ja_share(self) -> float:
        """The Japanese sentences' share of the speaking time (0-1)."""
        total = self.ja_minutes + self.latin_minutes
        return self.ja_minutes / total if total > 0 else 0.0

    @property
    def chars_per_min(self) -> float | None:
        return self.ja_chars / self.ja_minutes if self.ja_chars and self.ja_minutes > 0 else None

    @property
    def morae_per_min(self) -> float | None:
        return self.ja_morae / self.ja_minutes if self.ja_morae and self.ja_minutes > 0 else None

    @property
    def wpm(self) -> float | None:
        return (
            self.latin_words / self.latin_minutes
            if self.latin_words and self.latin_minutes > 0
            else None
        )


def pace_by_script(sentences: Sequence, speech_s: float) -> ScriptPace:
    """Characters and morae of the Japanese sentences, words of the Latin ones, and each
    script's share of the `speech_s` speaking span (by the time its sentences took)."""
    chars = mora = words = 0
    seconds = {"ja": 0.0, "latin": 0.0}
    for s in sentences:
        script = script_of(s.text)
        if script is None:
            continue
        seconds[script] += max(0.0, s.end - s.start)
        if script == "ja":
            chars += count_chars(s.text)
            mora += count_morae(s.text)
        else:
            words += len(LATIN_WORD.findall(s.text))
    total = seconds["ja"] + seconds["latin"]
    minutes = speech_s / 60.0
    ja_minutes = minutes * seconds["ja"] / total if total else 0.0
    return ScriptPace(chars, mora, ja_minutes, words, minutes - ja_minutes if total else 0.0)


# ---------------------------------------------------------------------------- sentences


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
    for piece, first in zip(pieces, starts_segment):
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

    >>> sentence_break("アプリです", "5人のチーム", pause=False), sentence_break("学びました", "が新しい", pause=False)
    (True, False)
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


# ---------------------------------------------------------------------------- fillers


@dataclass(frozen=True)
class FoundFiller:
    text: str
    start: float


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
    found: list[FoundFiller] = []
    i = 0
    while i < len(tokens):
        n, surface = _filler_at(tokens, i, always, contextual)
        if n:
            found.append(FoundFiller(surface, words[owner[tokens[i].begin]].start))
            i += n
        else:
            i += 1
    return found


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


# ---------------------------------------------------------------------------- register


SENTENCE_FINAL_KEEP = ("ね", "よ", "よね", "か")  # fine after です/ます too
POLITE_AUX = ("ます", "です")
AUX_BY_TYPE = {
    "助動詞-タ": "た",
    "助動詞-ナイ": "ない",
    "助動詞-タイ": "たい",
    "助動詞-マス": "ます",
    "助動詞-デス": "です",
}
GODAN_I_ROW = dict(zip("うくぐすつぬぶむる", "いきぎしちにびみり"))
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
        # the first token must be the copula (助動詞-ダ), not past-tense だ (読んだ) or the particle で
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
    """A tip when a polite (です/ます) introduction slips into plain endings (だ, である, だった...),
    or when the whole introduction is in plain form: the sentence, its time, the polite form."""
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
