"""Languages as packs: one `Language` per language (data plus code), and the one place that
decides which language an intro's feedback is in and which pace it is judged by.

>>> get("en").pace_metric, get("ja").pace_metric, get("de").spaced, get("zh").spaced
('wpm', 'chars_per_min', True, False)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cache

from ..errors import SpeechcoachError
from ..types import Sentence
from .base import CHARS_PER_MIN, PACE_UNITS, WPM, Language
from .generic import Generic

__all__ = [
    "CHARS_PER_MIN",
    "FALLBACK",
    "PACE_UNITS",
    "WPM",
    "Language",
    "component_titles",
    "feedback_language",
    "get",
    "judged_language",
    "pace_metric",
    "script_pack",
    "spoken",
    "with_rubric",
]

log = logging.getLogger(__name__)

FALLBACK = "en"  # texts missing from a pack read English
# A mixed intro (an English intro closed in Japanese, or the reverse) is judged and coached in
# the script of at least this share of its speaking time.
MAJORITY = 0.5


@cache
def get(code: str | None) -> Language:
    """The pack for an ISO 639-1 code: its own class where it has code, else `Generic`."""
    code = (code or FALLBACK).lower()
    if code == "en":
        from .en import English

        return English()
    if code == "ja":
        from .ja import Japanese

        return Japanese()
    return Generic(code)


def script_pack(language: str, sentences: Sequence[Sentence]):
    """The pack measured by script in this transcript, or None: today Japanese, whose
    sentences are counted in characters even inside an intro Whisper labelled English."""
    japanese = get("ja")
    if language == japanese.code or any(japanese.writes(s.text) for s in sentences):
        return japanese
    return None


def feedback_language(language: str, script_share: float | None) -> str:
    """The language of the feedback (tips, verdicts, rubric): the one mostly spoken, not
    Whisper's label (an English intro with a Japanese closing may come back labelled "ja").

    `script_share` is the share of the speaking time in the script pack's sentences (see
    `script_pack`; None when the transcript has none).
    """
    if script_share is None:
        return language
    if script_share >= MAJORITY:
        return get("ja").code
    return FALLBACK if language == get("ja").code else language


def judged_language(language: str | None, judgements) -> str:
    """The feedback language of a record that stored only its judgements (schema 1): the pace
    judged tells it (characters per minute: Japanese; words per minute: not Japanese)."""
    language = language or FALLBACK
    japanese = get("ja")
    if japanese.pace_metric in judgements:
        return japanese.code
    if WPM in judgements and language == japanese.code:
        return FALLBACK
    return language


def recorded_pace(language: str | None, judgements) -> str:
    """The pace metric of a record stored before it said (schema 1): the pace it judged, else
    its language's (a record judged on content alone has neither)."""
    for metric in (CHARS_PER_MIN, WPM):
        if metric in judgements:
            return metric
    return get(language).pace_metric


def pace_metric(language: str, script_share: float | None) -> str:
    """The pace an intro is judged by: that of its feedback language (characters per minute
    for an intro mostly in Japanese, words per minute otherwise)."""
    return get(feedback_language(language, script_share)).pace_metric


def spoken(language: str, script_share: float | None) -> list[Language]:
    """The packs whose language is heard in the intro (for their extra tips)."""
    packs = [get(language)]
    if script_share:
        packs.append(get("ja"))
    return list(dict.fromkeys(packs))


def with_rubric() -> list[str]:
    """Codes of the packs that ship a content rubric (components.json)."""
    from importlib import resources

    root = resources.files(__name__)
    return sorted(
        p.name for p in root.iterdir() if p.is_dir() and p.joinpath("components.json").is_file()
    )


@cache
def component_titles(code: str) -> dict[str, str]:
    """The component titles of a language's rubric (by id), else English ones. JSON only: no
    embedding model, so that the history commands start fast."""
    for pack in dict.fromkeys((get(code), get(FALLBACK))):
        try:
            rubric = pack.data("components.json")
        except SpeechcoachError as exc:  # a broken rubric must not take the history down
            log.warning("%s; component titles in English", exc)
            continue
        if rubric:
            return {c["id"]: c["title"] for c in rubric.get("components", ())}
    return {}
