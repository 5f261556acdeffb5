"""English numbers as they are said: "1455" is "fourteen fifty five" (three words of speech).

Whisper writes many spoken numbers as digits; pace counts what the speaker said, so a number
counts as the words it is read as (Japanese already counts digits as the kanji numerals they are
read as, see languages/ja/text.py). Also used to normalise both sides before WER.

Readings follow common English usage: four-digit numbers from 1100 to 1999 and 2010 to 2099 are
read as years ("nineteen ninety", "twenty twenty four"), other whole numbers as cardinals
("two thousand five", "three hundred twelve"); decimals digit by digit after "point"; a trailing
% is "percent", a leading $ or a trailing € "dollars"/"euros"; ordinals (1st, 22nd) as ordinals.
"""

from __future__ import annotations

import re

ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"))
ORDINAL_WORDS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
# A token with digits: optional currency, digits with thousands commas, decimals, a suffix.
NUMBER_TOKEN = re.compile(
    r"^(?P<cur>[$€£¥])?(?P<num>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<dec>\d+))?"
    r"(?P<suf>%|st|nd|rd|th|s|k)?$",
    re.IGNORECASE,
)
CURRENCY = {"$": "dollars", "€": "euros", "£": "pounds", "¥": "yen"}
YEAR_RANGES = ((1100, 1999), (2010, 2099))


def _below_thousand(n: int) -> list[str]:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [ONES[hundreds], "hundred"]
    if rest >= 20:
        words.append(TENS[rest // 10])
        if rest % 10:
            words.append(ONES[rest % 10])
    elif rest or not words:
        words.append(ONES[rest])
    return words


def cardinal(n: int) -> list[str]:
    """The cardinal reading of `n`.

    >>> cardinal(2005)
    ['two', 'thousand', 'five']
    """
    if n < 1000:
        return _below_thousand(n)
    words: list[str] = []
    for size, name in SCALES:
        if n >= size:
            words += cardinal(n // size) + [name]
            n %= size
    return words + (_below_thousand(n) if n else [])


def _year(n: int) -> list[str]:
    high, low = divmod(n, 100)
    if low == 0:
        return _below_thousand(high) + ["hundred"]
    return _below_thousand(high) + (["oh", ONES[low]] if low < 10 else _below_thousand(low))


def spoken_words(token: str) -> list[str] | None:
    """The words a number token is said as, or None if `token` is not a number.

    >>> spoken_words("1455"), spoken_words("3.5"), spoken_words("50%")
    (['fourteen', 'fifty', 'five'], ['three', 'point', 'five'], ['fifty', 'percent'])
    """
    m = NUMBER_TOKEN.match(token.strip().strip(".,;:!?\"'()"))
    if not m:
        return None
    digits = m["num"].replace(",", "")
    n = int(digits)
    suffix = (m["suf"] or "").lower()
    if len(digits) > 1 and digits.startswith("0"):  # 007, a phone number: digit by digit
        words = [ONES[int(d)] for d in digits]
    elif "," not in m["num"] and not m["dec"] and any(a <= n <= b for a, b in YEAR_RANGES):
        words = _year(n)
    else:
        words = cardinal(n)
    if m["dec"]:
        words += ["point"] + [ONES[int(d)] for d in m["dec"]]
    if suffix in ("st", "nd", "rd", "th"):
        last = words[-1]
        words[-1] = ORDINAL_WORDS.get(last) or (
            last[:-1] + "ieth" if last.endswith("y") else last + "th"
        )
    elif suffix == "%":
        words.append("percent")
    elif suffix == "k":
        words.append("thousand")
    elif suffix == "s" and words:  # the 1990s
        words[-1] = words[-1][:-1] + "ies" if words[-1].endswith("y") else words[-1] + "s"
    if m["cur"]:
        words.append(CURRENCY[m["cur"]])
    return words


def spoken_word_count(token: str) -> int:
    """How many words `token` counts for in the pace: a number as said, anything else 1."""
    words = spoken_words(token)
    return len(words) if words else 1


def expand_numbers(text: str) -> str:
    """`text` with every number token written out as words (for WER against references that
    spell numbers out)."""
    return " ".join(" ".join(spoken_words(t) or [t]) for t in text.split())
