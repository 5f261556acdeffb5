"""Evidence that says it: ranking, greetings and denials, sub-points and what each part lacks
(issue 10, items 1-2), with the real embedding model."""

from __future__ import annotations

import pytest

from speechcoach.content import ContentAnalyzer
from speechcoach.sentences import Sentence


@pytest.fixture(scope="module")
def analyzers(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SPEECHCOACH_HOME", str(tmp_path_factory.mktemp("evidence-home")))
        yield {"en": ContentAnalyzer("en"), "ja": ContentAnalyzer("ja")}


def timed(texts: list[str], step: float = 6.0) -> list[Sentence]:
    return [Sentence(t, i * step, i * step + step - 1.0, i) for i, t in enumerate(texts)]


def test_a_greeting_naming_the_job_is_no_evidence(analyzers):
    texts = [
        "Good morning, I'm Maria, a backend developer from Chile.",
        "I have been living in Kobe for three years.",
        "I came to Japan because the logistics industry here is the most advanced, "
        "and I want to build my career in it for the long term.",
        "Recently I built a route planning service for a delivery company in Hyogo.",
    ]
    content = analyzers["en"].analyse(timed(texts))
    for comp in content.components.values():
        assert all(e.text not in texts[:2] for e in comp.evidence), comp.id
    assert content.components["japan"].evidence[0].text == texts[2]
    assert content.components["project"].evidence[0].text == texts[3]
    # The order is judged from the strongest evidence: the reason at 0:12, not "living in Kobe".
    assert content.order.sequence[:2] == ("japan", "project")


def test_strongest_evidence_comes_first(analyzers):
    texts = [
        "I work on some projects.",
        "My recent project was a booking system for dental clinics; I designed its backend "
        "in Go and PostgreSQL, and two hundred clinics use it.",
    ]
    project = analyzers["en"].analyse(timed(texts)).components["project"]
    assert project.covered and project.evidence[0].text == texts[1]


def test_a_denied_plan_is_not_covered_and_its_tip_quotes_the_sentence(analyzers):
    texts = [
        "My recent project was an inventory app for a bakery chain, written in Kotlin.",
        "My goal is basically to get a better job.",
        "I don't really have a plan yet.",
    ]
    content = analyzers["en"].analyse(timed(texts))
    plan = content.components["plan"]
    assert not plan.covered and plan.strength == "missing"
    assert plan.denied_by is not None and plan.denied_by.text == texts[2]
    [tip] = [t for t in content.tips if t.id == "missing:plan"]
    assert tip.sentence == texts[2] and tip.start == 12.0
    assert "I don't really have a plan yet." in tip.message and "0:12" in tip.message
    assert content.to_dict()["components"]["plan"]["denied_by"]["text"] == texts[2]


def test_not_sure_why_i_came_is_no_reason_for_japan(analyzers):
    content = analyzers["en"].analyse(timed(["Honestly, I'm not sure why I came to Japan."]))
    assert not content.components["japan"].covered


def test_sub_points_and_strength(analyzers):
    texts = [
        "My most recent project was a lighter battery case for an electric car.",
        "I led the design as the main engineer in a team of four.",
        "I used CATIA for the design and Ansys for the crash simulations.",
        "The new case was twenty percent lighter.",
    ]
    project = analyzers["en"].analyse(timed(texts)).components["project"]
    assert project.strength == "full"
    assert {k for k, s in project.checks.items() if s.present} == {
        "concept",
        "role",
        "tools",
        "result",
    }
    assert project.checks["tools"].evidence.text == texts[2]


def test_a_partial_part_names_exactly_what_is_missing(analyzers):
    texts = ["My recent project was a mobile app for a chain of restaurants."]
    content = analyzers["en"].analyse(timed(texts))
    project = content.components["project"]
    assert project.covered and project.strength == "partial"
    assert project.checks["concept"].present
    assert not project.checks["role"].present and not project.checks["tools"].present
    [tip] = [t for t in content.tips if t.id == "partial:project"]
    assert "what it is and for whom" in tip.message
    assert "your own role" in tip.message and "the tools or languages you used" in tip.message
    assert "what it is and for whom" not in tip.message.split("but not")[1]
    assert not any(t.id == "missing:project" for t in content.tips)


def test_blame_is_no_positive_framing(analyzers):
    texts = [
        "I want to change jobs because I just want to get out of my current company.",
    ]
    change = analyzers["en"].analyse(timed(texts)).components["career_change"]
    assert change.covered
    assert not change.checks["positive_framing"].present


def test_japanese_denial_and_greeting(analyzers):
    texts = [
        "はじめまして、メイと申します。",
        "日本のゲーム業界で長くキャリアを築きたいと思い、日本に来ました。",
        "将来の計画はまだ特にありません。",
    ]
    content = analyzers["ja"].analyse(timed(texts))
    assert not content.components["plan"].covered
    assert content.components["plan"].denied_by.text == texts[2]
    japan = content.components["japan"]
    assert japan.evidence[0].text == texts[1] and japan.strength == "full"
    [tip] = [t for t in content.tips if t.id == "missing:plan"]
    assert texts[2] in tip.message


def test_say_instead_fits_the_speaker(analyzers):
    texts = [
        "Hello, my name is Priya and I work as a data analyst.",
        "I came to Japan because I love anime and Japanese culture.",
        "Last year I analysed sales data for a drugstore chain with SQL and Tableau.",
    ]
    say = analyzers["en"].say_instead
    words = say.speaker_words(texts)
    assert words["job"] == "a data analyst" and words["tools"] == "SQL and Tableau"
    candidates = say.candidates("pitfall:culture_reason", words)
    assert len(candidates) >= 3 and "{" not in "".join(candidates)
    assert any("as a data analyst" in c for c in candidates)  # her job, not "game developer"
    assert not any("game developer" in c for c in candidates)
    content = analyzers["en"].analyse(timed(texts))
    tips = {t.id: t for t in content.tips}
    assert tips["pitfall:culture_reason"].say_instead in candidates


def test_say_instead_keeps_the_speakers_tools(analyzers):
    texts = [
        "I am a backend engineer in Osaka.",
        "I wrote our services in Kotlin and deployed them with Docker.",
    ]
    content = analyzers["en"].analyse(timed(texts))
    tips = {t.id: t for t in content.tips}
    assert any("Kotlin" in (t.say_instead or "") for t in tips.values()), tips


def test_unreliable_segments_are_never_evidence(analyzers):
    from speechcoach.analyze import unreliable_sentences, unreliable_share
    from speechcoach.types import Segment, Transcript

    doubtful = Segment(" Recently I built a booking system in Go.", 6.0, 11.0, (), -1.4, 1.2, 0.1)
    sure = Segment(
        " I moved to Japan because my wife's family lives here.", 0.0, 5.0, (), -0.2, 1.1
    )
    assert doubtful.unreliable and not sure.unreliable
    repetitive = Segment(" the the the the the", 0.0, 1.0, (), -0.3, 3.1, 0.0)
    assert repetitive.unreliable
    transcript = Transcript("en", (sure, doubtful), "faster-whisper", "tiny.en")
    sentences = [
        Sentence(sure.text.strip(), 0.0, 5.0, 0),
        Sentence(doubtful.text.strip(), 6.0, 11.0, 1),
    ]
    assert unreliable_sentences(transcript, sentences) == {1}
    assert unreliable_share(transcript) == 0.5
    content = analyzers["en"].analyse(sentences, unreliable={1})
    assert content.components["japan"].covered
    assert not content.components["project"].covered  # said only in the doubtful segment
    assert analyzers["en"].analyse(sentences).components["project"].covered
