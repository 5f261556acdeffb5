"""Issue 10's remaining defects, each checked with the real embedding model and real records:
pitfalls timed at their trigger words, sub-points said by their own sentence, no parts from
speech that is not an introduction, and report lines that say what they mean."""

from __future__ import annotations

import copy
import json

import pytest
from conftest import DATA

from speechcoach.config import format_duration
from speechcoach.content import ContentAnalyzer
from speechcoach.result import from_json
from speechcoach.sentences import Sentence, split_sentences
from speechcoach.types import Segment, Transcript, Word

WORD_S = 0.4  # each synthetic word lasts this long


@pytest.fixture(scope="module")
def analyzers(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SPEECHCOACH_HOME", str(tmp_path_factory.mktemp("trust-home")))
        yield {"en": ContentAnalyzer("en"), "ja": ContentAnalyzer("ja")}


def spoken(text: str, start: float = 1.0, language: str = "en") -> Transcript:
    """`text` as one Whisper segment, one word every WORD_S seconds from `start`."""
    words = tuple(
        Word(f" {w}", start + i * WORD_S, start + (i + 1) * WORD_S - 0.05)
        for i, w in enumerate(text.split())
    )
    return Transcript(language, (Segment(text, start, words[-1].end, words),), "test", "test")


def timed(texts: list[str], step: float = 6.0) -> list[Sentence]:
    return [Sentence(t, i * step, i * step + step - 1.0, i) for i, t in enumerate(texts)]


# ---------------------------------------------------------------------- 1. pitfall times


def test_a_pitfall_is_timed_at_its_trigger_words_not_at_its_sentence_start(analyzers):
    # Whisper joined two sentences (qa.md 31): the culture pitfall was timed at 0:01.
    text = (
        "So my goal is basically to, like, at a better job, you know, "
        "I love anime and Japanese culture."
    )
    sentences = split_sentences(spoken(text))
    assert len(sentences) == 1
    hit = next(p for p in analyzers["en"].analyse(sentences).pitfalls if p.id == "culture_reason")
    said_i = 1.0 + text.split().index("I") * WORD_S  # "I love anime" starts here
    assert hit.start == pytest.approx(said_i)
    assert hit.sentence_start == pytest.approx(1.0)
    d = hit.to_dict()
    assert d["start"] == pytest.approx(said_i) and d["sentence_start"] == 1.0
    tip = next(t for t in analyzers["en"].analyse(sentences).tips if t.id.startswith("pitfall:"))
    assert tip.start == pytest.approx(said_i) and f"At {format_duration(said_i)} " in tip.message


def test_a_record_before_schema_4_gets_its_pitfalls_sentence_start():
    old = json.loads((DATA / "web_analysis_ja.json").read_text(encoding="utf-8"))
    old = copy.deepcopy(old) | {"schema": 3}
    old["pitfalls"] = [{"id": "badmouth", "text": "上司がひどい。", "start": 12.5, "end": 14.0}]
    upgraded = from_json(old)
    assert upgraded.schema == 4
    assert upgraded.pitfalls[0].sentence_start == 12.5


def test_the_web_report_plays_and_tags_a_pitfalls_whole_sentence():
    from speechcoach.web.views import _tips, sentence_views

    d = {
        "sentences": [
            {"start": 1.0, "end": 9.0, "text": "So my goal, you know, I love anime."},
            {"start": 9.5, "end": 12.0, "text": "I work in Osaka."},
        ],
        "components": {},
        "pitfalls": [
            {
                "id": "culture_reason",
                "text": "So my goal, you know, I love anime.",
                "start": 6.2,  # the trigger, well inside the sentence
                "end": 9.0,
                "sentence_start": 1.0,
            }
        ],
    }
    views = sentence_views(d, "en")
    assert views[0].pitfalls and not views[1].pitfalls
    # Its tip plays from the trigger to the end of the sentence (was: a fixed 6 s).
    d["tips"] = [{"id": "pitfall:culture_reason", "message": "m", "start": 6.2}]
    assert _tips(d, views)[0].end == 9.0
