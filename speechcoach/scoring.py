"""Judge the measurements against the reference bands, turn problems into tips, and score.

The score (0-100) is a sum of named parts so the report can say where points were lost:
content 50 (10 per component covered, 10 for a coherent order), delivery 50 (duration 20,
pace 15, fillers 10, pauses 5), minus 5 per pitfall (at most 20).
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import Band, Targets, format_duration
from .delivery import DeliveryMetrics
from .feedback import Tip

COMPONENT_POINTS = 10
ORDER_POINTS = 10
DURATION_POINTS = 20
PACE_POINTS = 15
FILLER_POINTS = 10
PAUSE_POINTS = 5
PITFALL_PENALTY, MAX_PITFALL_PENALTY = 5, 20
# Points fall linearly to zero this far outside a band (relative to the band's edge).
DURATION_FALLOFF = 0.5  # 50 % shorter/longer than the band: no duration points
PACE_FALLOFF_WPM = 40.0
FILLER_FALLOFF_PER_100 = 7.0  # 12 per 100 words: no filler points
MAX_LONG_PAUSES = 2  # up to two long pauses (e.g. a breath between parts) cost nothing


@dataclass(frozen=True)
class Judgement:
    metric: str
    value: float | None
    band: Band
    verdict: str  # "low" | "ok" | "high" | "unknown"


def judge(delivery: DeliveryMetrics, language: str, targets: Targets) -> dict[str, Judgement]:
    """Each delivery metric against its band ('unknown' where it could not be measured)."""
    pace_metric, pace_band = pace_measure(language, targets, delivery.japanese_share)
    values = {
        "duration": (delivery.duration_s, targets.duration_band),
        pace_metric: (getattr(delivery, pace_metric), pace_band),
        "fillers": (delivery.fillers_per_100_words, targets.fillers_per_100_words),
        "pitch": (delivery.pitch_spread_semitones, targets.pitch_spread_semitones),
        "loudness": (delivery.loudness_spread_db, targets.loudness_spread_db),
    }
    if language in ("ja",):
        values["fillers"] = (delivery.fillers_per_min, Band(0, 5, "per min", "up to ~5/min carries no penalty"))
    if pace_metric == "chars_per_min":  # morae: the second Japanese measure (Prafiyanto et al. 2018)
        values["morae_per_min"] = (delivery.morae_per_min, targets.morae_per_min)
    return {
        name: Judgement(name, value, band, band.judge(value) if value is not None else "unknown")
        for name, (value, band) in values.items()
    }


def pace_measure(language: str, targets: Targets, japanese_share: float | None = None) -> tuple[str, Band]:
    """Which pace metric applies: words per minute, or characters per minute for Japanese.

    With `japanese_share` (of the speaking time, see delivery.DeliveryMetrics) a mixed intro is
    judged in the script it was mostly spoken in, whatever language Whisper labelled it.
    """
    japanese = language == "ja" if japanese_share is None else japanese_share >= 0.5
    if japanese:
        return "chars_per_min", targets.chars_per_min
    return "wpm", targets.wpm


def score(delivery: DeliveryMetrics, judgements: dict[str, Judgement], content: dict | None, targets: Targets) -> dict[str, float]:
    """The score's parts; their sum (clipped to 0-100) is the score."""
    parts = {
        "duration": DURATION_POINTS * _closeness(delivery.duration_s, targets.duration_band, targets.duration_s * DURATION_FALLOFF),
        "fillers": FILLER_POINTS * _closeness(judgements["fillers"].value, judgements["fillers"].band, FILLER_FALLOFF_PER_100),
        "pauses": PAUSE_POINTS * (1.0 if len(delivery.long_pauses) <= MAX_LONG_PAUSES else 0.5 if len(delivery.long_pauses) <= 2 * MAX_LONG_PAUSES else 0.0),
    }
    pace = next(j for name, j in judgements.items() if name in ("wpm", "chars_per_min"))
    falloff = PACE_FALLOFF_WPM if pace.metric == "wpm" else 80.0
    parts["pace"] = PACE_POINTS * _closeness(pace.value, pace.band, falloff)
    if content is not None:
        covered = sum(1 for c in content["components"].values() if c["covered"])
        parts["components"] = COMPONENT_POINTS * covered
        parts["order"] = ORDER_POINTS if content["order"]["ok"] and covered >= 2 else 0
        parts["pitfalls"] = -min(MAX_PITFALL_PENALTY, PITFALL_PENALTY * len(content["pitfalls"]))
    return {k: round(v, 1) for k, v in parts.items()}


def _closeness(value: float | None, band: Band, falloff: float) -> float:
    """1 inside the band, falling linearly to 0 at `falloff` beyond its edge; 0 if unknown."""
    if value is None:
        return 0.0
    distance = max(band.low - value, value - band.high, 0.0)
    return max(0.0, 1.0 - distance / falloff)


def delivery_tips(delivery: DeliveryMetrics, judgements: dict[str, Judgement], targets: Targets, sentences) -> list[Tip]:
    """Specific, timed advice on how the introduction was delivered."""
    tips = _duration_tips(delivery, targets) + _pace_tips(delivery, judgements)
    tips += _filler_tips(delivery, judgements, sentences) + _pause_tips(delivery)
    if judgements["pitch"].verdict == "low":
        tips.append(Tip("voice:monotone", 35, f"Your pitch hardly moves ({judgements['pitch'].value:.1f} semitones of spread; "
                        f"lively speech has {judgements['pitch'].band.low:g} or more). Stress the key words: your role, the result, your goal."))
    return tips


def _duration_tips(delivery: DeliveryMetrics, targets: Targets) -> list[Tip]:
    band, length = targets.duration_band, delivery.duration_s
    target = format_duration(targets.duration_s)
    if length < band.low:
        return [Tip("duration:short", 85, f"Your introduction lasts {format_duration(length)}; aim for about {target}. "
                    "Add your recent project (its concept, your role, the tools) and your plan: that is where interviewers decide.")]
    if length > band.high:
        return [Tip("duration:long", 85, f"Your introduction lasts {format_duration(length)}, over the {target} target. "
                    "Keep only the skills relevant to this position and summarise the rest in a few points.")]
    return []


def _pace_tips(delivery: DeliveryMetrics, judgements: dict[str, Judgement]) -> list[Tip]:
    pace = judgements.get("wpm") or judgements.get("chars_per_min")
    if pace is None or pace.verdict in ("ok", "unknown"):
        return []
    unit = "words" if pace.metric == "wpm" else "characters"
    if pace.verdict == "high":
        fastest = max(delivery.pace_windows, key=lambda w: w.wpm, default=None)
        where = f" Fastest from {format_duration(fastest.start)} to {format_duration(fastest.end)} ({fastest.wpm:.0f} wpm)." if fastest else ""
        return [Tip("pace:fast", 70, f"You speak fast: {pace.value:.0f} {unit} per minute (comfortable: {pace.band.low:g}-{pace.band.high:g}).{where} "
                    "Pause for a breath after each part of your introduction.", start=fastest.start if fastest else None)]
    return [Tip("pace:slow", 55, f"You speak slowly: {pace.value:.0f} {unit} per minute (comfortable: {pace.band.low:g}-{pace.band.high:g}). "
                "Practise the outline until the words come without searching.")]


def _filler_tips(delivery: DeliveryMetrics, judgements: dict[str, Judgement], sentences) -> list[Tip]:
    if judgements["fillers"].verdict != "high" or not delivery.fillers:
        return []
    worst = max(sentences, key=lambda s: sum(1 for f in delivery.fillers if s.start <= f.start <= s.end), default=None)
    words = ", ".join(sorted({f.text for f in delivery.fillers}))
    return [Tip("fillers", 60, f"{len(delivery.fillers)} filler words ({words}); at least that many, since Whisper drops some. "
                "Replace them with a short silent pause.", sentence=worst.text if worst else None, start=worst.start if worst else None)]


def _pause_tips(delivery: DeliveryMetrics) -> list[Tip]:
    long_pauses = delivery.long_pauses
    if len(long_pauses) <= MAX_LONG_PAUSES:
        return []
    longest = max(long_pauses, key=lambda p: p.duration)
    return [Tip("pauses:long", 45, f"{len(long_pauses)} long silences (over {delivery.long_pause_s:g} s); the longest, {longest.duration:.1f} s, "
                f"at {format_duration(longest.start)}. Learn the order of your points so you never search for the next one.", start=longest.start)]
