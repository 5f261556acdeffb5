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

__all__ = [
    "ScriptPace",
    "count_chars",
    "count_morae",
    "pace_by_script",
    "reading",
    "script_of",
    "to_kanji_numerals",
    "tokenize",
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
        (
            "エー ビー シー ディー イー エフ ジー エイチ アイ ジェー ケー エル エム "
            "エヌ オー ピー キュー アール エス ティー ユー ブイ "
            "ダブリュー エックス ワイ ゼット"
        ).split(),
        strict=True,
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
    # tokenizer() replaced create() in SudachiPy 0.7 (create() now warns); older ones have create()
    # only.
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
    """'ja' for a mainly Japanese sentence, 'latin' for a mainly Latin-script one, None if
    neither."""
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
    def script_share(self) -> float:
        """The Japanese sentences' share of the speaking time (0-1): the script pack's share,
        as delivery.DeliveryMetrics.script_share names it for any script pack."""
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


# ---------------------------------------------------------------------------- matching on readings

HIRAGANA = re.compile(r"[\u3041-\u3096]")
JAPANESE_RUN = re.compile(
    r"[\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc-\u30fe\u3005\u4e00-\u9fff]+"
)
KANJI = re.compile(r"[\u3005\u4e00-\u9fff]")


def katakana(text: str) -> str:
    """Hiragana as katakana (ひくかった -> ヒクカッタ); everything else unchanged."""
    return HIRAGANA.sub(lambda m: chr(ord(m.group()) + 0x60), text)


def match_reading(text: str) -> str:
    """`text` as it is said, in katakana, for matching the rubric's patterns on the reading:
    Whisper writes the same words with other kanji or in kana (低かった came back as
    引くかった, both ひくかった). Latin words, digits and punctuation stay as written."""
    return "".join(
        tok.reading
        if KANA.search(tok.reading) and JAPANESE_RUN.search(tok.surface)
        else tok.surface
        for tok in tokenize(unicodedata.normalize("NFKC", text))
    )


def reading_pattern(pattern: str) -> str:
    """A rubric pattern with each run of Japanese characters replaced by its katakana reading
    (給料 -> キュウリョウ, 逃げ -> ニゲ): the same pattern, matched on `match_reading`.
    Regular-expression syntax between the runs is kept as it is."""

    stems = _reading_stems()

    def read(run: str) -> str:
        if run in stems:
            return stems[run]
        if not KANJI.search(run):
            return katakana(run)
        said = katakana(reading(run))
        # A lone kanji read alone is a guess (its on-reading), and a reading shorter than the
        # run lost part of it (もっと稼 -> モット): keep those written, never an empty pattern.
        return said if len(run) > 1 and len(said) >= len(run) else run

    return JAPANESE_RUN.sub(lambda m: read(m.group()), pattern)


@lru_cache(maxsize=1)
def _reading_stems() -> dict[str, str]:
    import json
    from importlib import resources

    text = (
        resources.files("speechcoach.languages").joinpath("ja", "readings.json").read_text("utf-8")
    )
    return json.loads(text)["stems"]
