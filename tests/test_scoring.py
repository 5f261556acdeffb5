"""An honest score (issue 10, item 3): length dominates, sub-points count, a steady voice is
never "rushed", and a short-intro tip asks only for what is missing."""

from __future__ import annotations

import pytest

from speechcoach import scoring
from speechcoach.config import Targets
from speechcoach.delivery import DeliveryMetrics, PaceWindow, Pause
from speechcoach.types import Sentence

TARGETS = Targets()  # 3:00, band 2:33-3:27


def metrics(duration: float, **changes) -> DeliveryMetrics:
    values = dict(
        duration_s=duration,
        speech_start=0.5,
        speech_end=duration - 0.5,
        voiced_s=duration * 0.8,
        word_count=int(duration * 2.4),
        wpm=145.0,
        articulation_wpm=160.0,
        chars_per_min=None,
        morae_per_min=None,
        pace_windows=(),
        pauses=(),
        min_pause_s=0.2,
        long_pause_s=2.0,
        fillers=(),
        filler_method="test",
        pitch_spread_semitones=4.0,
        pitch_median_hz=120.0,
        loudness_spread_db=5.0,
    )
    values.update(changes)
    return DeliveryMetrics(**values)


def full_content() -> dict:
    comp = {"covered": True, "checks": {"a": {"present": True}, "b": {"present": True}}}
    return {
        "components": {cid: dict(comp) for cid in ("japan", "career_change", "project", "plan")},
        "order": {"ok": True},
        "pitfalls": [],
    }


def total(duration: float, content: dict | None = None) -> float:
    m = metrics(duration)
    judgements = scoring.judge(m, "en", TARGETS)
    return sum(scoring.score(m, judgements, content or full_content(), TARGETS).values())


def test_a_perfect_but_short_intro_cannot_score_60():
    for seconds in (20, 24, 50, 71):  # under 40 % of 3:00
        assert total(seconds) < 60, seconds


def test_length_caps_the_score_in_proportion():
    assert total(180) == 100
    assert 58 <= total(90) <= 59  # 100 x 90 / 153
    assert total(240) <= 100 * 207 / 239 + 0.1  # the cap follows the speech span (239 s here)
    parts = scoring.score(
        metrics(90), scoring.judge(metrics(90), "en", TARGETS), full_content(), TARGETS
    )
    assert parts["length"] < 0  # the parts still add up to the score


def test_a_part_missing_its_sub_points_earns_less():
    thin = full_content()
    thin["components"]["project"]["checks"] = {"a": {"present": False}, "b": {"present": False}}
    assert total(180, thin) == 100 - scoring.COMPONENT_POINTS * (1 - scoring.COVERED_SHARE)


def speech(start: float, end: float, letters_per_s: float) -> Sentence:
    """A sentence filling start-end, said at `letters_per_s` (in letters of its text)."""
    n = int(round((end - start) * letters_per_s / 5))
    return Sentence(" ".join(["word"] * n), start, end)  # 5 letters a word with the space out


def rush_tips(windows, pauses, sentences) -> list:
    m = metrics(180, pace_windows=windows, pauses=pauses, wpm=150.0)
    tips = scoring.delivery_tips(m, scoring.judge(m, "en", TARGETS), TARGETS, sentences, "en")
    return [t for t in tips if t.id == "pace:rushed"]


WINDOWS = (
    PaceWindow(0.5, 30.5, 70, 140.0),
    PaceWindow(30.5, 60.5, 87, 174.0),  # over the band (160 + 5 %)
    PaceWindow(60.5, 90.5, 70, 140.0),
)


def test_a_steady_voice_with_fewer_pauses_in_one_window_is_not_rushed():
    # One speed of speech (14 letters/s) everywhere; the middle window has no pauses.
    pauses = tuple(Pause(5.0 + 6 * i, 6.2 + 6 * i) for i in range(4)) + tuple(
        Pause(65.0 + 6 * i, 66.2 + 6 * i) for i in range(4)
    )
    spoken = [
        speech(0.5, 30.5, 14 * 25.2 / 30),
        speech(30.5, 60.5, 14),
        speech(60.5, 90.5, 14 * 25.2 / 30),
    ]
    assert not rush_tips(WINDOWS, pauses, spoken)


def test_a_window_whose_speech_is_faster_is_rushed():
    spoken = [speech(0.5, 30.5, 13), speech(30.5, 60.5, 17), speech(60.5, 90.5, 13)]
    [tip] = rush_tips(WINDOWS, (), spoken)
    assert tip.start == 30.5


def test_a_short_intro_tip_asks_only_for_what_is_missing():
    m = metrics(60)
    judgements = scoring.judge(m, "en", TARGETS)
    [tip] = [
        t
        for t in scoring.delivery_tips(
            m, judgements, TARGETS, [], "en", missing_parts=["Why change jobs"]
        )
        if t.id == "duration:short"
    ]
    assert "Why change jobs" in tip.message and "project" not in tip.message
    [thin] = [
        t
        for t in scoring.delivery_tips(
            m, judgements, TARGETS, [], "en", thin_parts=["Recent project"]
        )
        if t.id == "duration:short"
    ]
    assert "Recent project" in thin.message and "Add what is missing" not in thin.message


def test_morae_out_of_band_gets_its_tip_when_characters_are_fine():
    m = metrics(180, wpm=None, chars_per_min=300.0, morae_per_min=404.0, script_share=1.0)
    tips = scoring.delivery_tips(m, scoring.judge(m, "ja", TARGETS), TARGETS, [], "ja")
    [tip] = [t for t in tips if t.id.startswith("pace:")]
    assert tip.id == "pace:morae:fast" and "404" in tip.message and "モーラ" in tip.message


@pytest.mark.parametrize(
    "changes, tip_id",
    [
        ({"pitch_spread_semitones": 1.0}, "voice:monotone"),
        ({"pitch_spread_semitones": 11.0}, "voice:pitch_high"),
        ({"loudness_spread_db": 1.5}, "voice:flat"),
        ({"loudness_spread_db": 20.0}, "voice:loudness_high"),
    ],
)
def test_every_voice_measure_out_of_its_band_gets_its_tip(changes, tip_id):
    m = metrics(180, **changes)
    tips = scoring.delivery_tips(m, scoring.judge(m, "en", TARGETS), TARGETS, [], "en")
    assert [t.id for t in tips if t.id.startswith("voice:")] == [tip_id]
