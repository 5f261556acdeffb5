"""Judge the measurements against the reference bands, turn problems into tips, and score.

The score (0-100) is a sum of named parts so the report can say where points were lost:
content 50 (10 per component covered, 10 for a coherent order), delivery 50 (duration 20,
pace 15, fillers 10, pauses 5), minus 5 per pitfall (at most 20).

The tips' texts are data, one file per language (`languages/<lang>/delivery.json`, templates with
named placeholders), so a Japanese intro is coached in Japanese; a language without a file
reads English.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from . import languages
from .config import Band, Targets, format_duration
from .delivery import DeliveryMetrics
from .errors import SpeechcoachError
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
RUSH_MARGIN = 0.05  # a 30 s window more than 5 % above the band counts as rushed
MIN_RUSH_WINDOW_S = 20.0  # shorter windows hold too few words for a reliable rate
DELIVERY_POINTS = 20 + 15 + 10 + 5  # duration + pace + fillers + pauses
MAX_LONG_PAUSES = 2  # up to two long pauses (e.g. a breath between parts) cost nothing
# Tip texts live in languages/<lang>/delivery.json; a language without one reads English.
DELIVERY_FILE = "delivery.json"
FALLBACK_LANGUAGE = languages.FALLBACK


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
        # The intro's length is the speech, not the silence before the speaker started.
        "duration": (delivery.speech_s, targets.duration_band),
        pace_metric: (getattr(delivery, pace_metric), pace_band),
        "fillers": (delivery.fillers_per_100_words, targets.fillers_per_100_words),
        "pitch": (delivery.pitch_spread_semitones, targets.pitch_spread_semitones),
        "loudness": (delivery.loudness_spread_db, targets.loudness_spread_db),
    }
    if pace_metric == "chars_per_min":  # Japanese has no words to count fillers per 100 of
        values["fillers"] = (delivery.fillers_per_min, targets.fillers_per_min)
    if (
        pace_metric == "chars_per_min"
    ):  # morae: the second Japanese measure (Prafiyanto et al. 2018)
        values["morae_per_min"] = (delivery.morae_per_min, targets.morae_per_min)
    return {
        name: Judgement(name, value, band, band.judge(value) if value is not None else "unknown")
        for name, (value, band) in values.items()
    }


def pace_measure(
    language: str, targets: Targets, japanese_share: float | None = None
) -> tuple[str, Band]:
    """Which pace metric applies: words per minute, or characters per minute for Japanese.

    With `japanese_share` (of the speaking time, see delivery.DeliveryMetrics) a mixed intro is
    judged in the script it was mostly spoken in, whatever language Whisper labelled it.
    """
    metric = (
        languages.get(language).pace_metric
        if japanese_share is None
        else languages.pace_metric(language, japanese_share)
    )
    return metric, getattr(targets, metric)


def score(
    delivery: DeliveryMetrics,
    judgements: dict[str, Judgement],
    content: dict | None,
    targets: Targets,
) -> dict[str, float]:
    """The score's parts; their sum (clipped to 0-100) is the score."""
    parts = {
        "duration": DURATION_POINTS
        * _closeness(
            delivery.speech_s, targets.duration_band, targets.duration_s * DURATION_FALLOFF
        ),
        "pauses": PAUSE_POINTS
        * (
            1.0
            if len(delivery.long_pauses) <= MAX_LONG_PAUSES
            else 0.5
            if len(delivery.long_pauses) <= 2 * MAX_LONG_PAUSES
            else 0.0
        ),
    }
    if judgements["fillers"].verdict != "unknown":  # no filler list for the language: not scored
        parts["fillers"] = FILLER_POINTS * _closeness(
            judgements["fillers"].value, judgements["fillers"].band, FILLER_FALLOFF_PER_100
        )
    pace = next(j for name, j in judgements.items() if name in ("wpm", "chars_per_min"))
    falloff = PACE_FALLOFF_WPM if pace.metric == "wpm" else 80.0
    parts["pace"] = PACE_POINTS * _closeness(pace.value, pace.band, falloff)
    if content is not None:
        covered = sum(1 for c in content["components"].values() if c["covered"])
        parts["components"] = COMPONENT_POINTS * covered
        parts["order"] = ORDER_POINTS if content["order"]["ok"] and covered >= 2 else 0
        parts["pitfalls"] = -min(
            MAX_PITFALL_PENALTY, PITFALL_PENALTY * len(penalised_pitfalls(content["pitfalls"]))
        )
    return {k: round(v, 1) for k, v in parts.items()}


def penalised_pitfalls(hits: list[dict]) -> set[str]:
    """Pitfall ids that cost points: each kind once, however many sentences show it; culture
    or salary only when it was the only reason given (RUBRIC: "not a crime, but weak")."""
    return {h["id"] for h in hits if h.get("only_reason", True) is not False}


def _closeness(value: float | None, band: Band, falloff: float) -> float:
    """1 inside the band, falling linearly to 0 at `falloff` beyond its edge; 0 if unknown."""
    if value is None:
        return 0.0
    distance = max(band.low - value, value - band.high, 0.0)
    return max(0.0, 1.0 - distance / falloff)


def delivery_tips(
    delivery: DeliveryMetrics,
    judgements: dict[str, Judgement],
    targets: Targets,
    sentences,
    language: str = FALLBACK_LANGUAGE,
    all_parts_covered: bool = False,
) -> list[Tip]:
    """Specific, timed advice on how the introduction was delivered, in `language` (the texts of
    `languages/<language>/delivery.json`; English for a language without one)."""
    texts = DeliveryTexts(language)
    tips = _duration_tips(delivery, targets, texts, all_parts_covered) + _pace_tips(
        delivery, judgements, texts
    )
    tips += _filler_tips(delivery, judgements, sentences, texts) + _pause_tips(delivery, texts)
    pitch = judgements["pitch"]
    if pitch.verdict == "low":
        tips.append(
            Tip(
                "voice:monotone",
                35,
                texts.tip("voice:monotone", spread=f"{pitch.value:.1f}", low=f"{pitch.band.low:g}"),
            )
        )
    return tips


# ---------------------------------------------------------------------------- tip texts


@cache
def delivery_texts(language: str) -> dict:
    """The delivery tip texts for `language`: its `languages/<language>/delivery.json` over the
    English file, so a language without a file, or a key missing from one, reads English."""
    english = languages.get(FALLBACK_LANGUAGE).data(DELIVERY_FILE)
    if english is None:
        raise SpeechcoachError(
            f"speechcoach/languages/{FALLBACK_LANGUAGE}/{DELIVERY_FILE} is missing; "
            "reinstall speechcoach"
        )
    own = languages.get(language).data(DELIVERY_FILE) if language != FALLBACK_LANGUAGE else None
    if own is None:
        return english
    return {
        **english,
        **own,
        **{
            k: {**english[k], **own.get(k, {})}
            for k in ("tips", "fragments", "pace_units", "window_units")
        },
    }


class DeliveryTexts:
    """The tip templates of one language, filled in with named values."""

    def __init__(self, language: str):
        self.data = delivery_texts(language)

    def tip(self, tip_id: str, **values: str) -> str:
        return self.data["tips"][tip_id].format(**values)

    def fragment(self, key: str, **values: str) -> str:
        return self.data["fragments"][key].format(**values)

    def pace_unit(self, metric: str) -> str:
        return self.data["pace_units"][metric]

    def window_unit(self, unit: str) -> str:
        return self.data["window_units"].get(unit, unit)

    def join(self, items) -> str:
        return self.data["list_separator"].join(items)

    def length(self, seconds: float) -> str:
        """A length in words where the language spells them (1分15秒), else m:ss."""
        spelled = self.data.get("durations")
        if not spelled:
            return format_duration(seconds)
        minutes, secs = divmod(int(round(seconds)), 60)
        key = "minutes_seconds" if minutes and secs else "minutes" if minutes else "seconds"
        return spelled[key].format(m=minutes, s=secs)


def _duration_tips(
    delivery: DeliveryMetrics, targets: Targets, texts: DeliveryTexts, all_parts_covered: bool
) -> list[Tip]:
    band, length = targets.duration_band, delivery.speech_s
    values = {"length": texts.length(length), "target": texts.length(targets.duration_s)}
    if length < band.low:
        # With every part there, "add your project and plan" would be wrong: deepen them instead.
        key = "duration:short:complete" if all_parts_covered else "duration:short"
        return [Tip("duration:short", 85, texts.tip(key, **values))]
    if length > band.high:
        return [Tip("duration:long", 85, texts.tip("duration:long", **values))]
    return []


def _pace_tips(
    delivery: DeliveryMetrics, judgements: dict[str, Judgement], texts: DeliveryTexts
) -> list[Tip]:
    pace = judgements.get("wpm") or judgements.get("chars_per_min")
    if pace is not None and pace.verdict == "ok":
        return _rush_tips(delivery, pace, texts)
    if pace is None or pace.verdict == "unknown":
        return []
    morae = judgements.get("morae_per_min") if pace.metric == "chars_per_min" else None
    values = {
        "value": f"{pace.value:.0f}",
        "unit": texts.pace_unit(pace.metric),
        "low": f"{pace.band.low:g}",
        "high": f"{pace.band.high:g}",
        "morae": texts.fragment("pace:morae", morae=f"{morae.value:.0f}")
        if morae and morae.value is not None
        else "",
    }
    if pace.verdict == "high":
        fastest = max(delivery.pace_windows, key=lambda w: w.rate, default=None)
        where = (
            texts.fragment(
                "pace:fast:where",
                start=format_duration(fastest.start),
                end=format_duration(fastest.end),
                rate=f"{fastest.rate:.0f}",
                window_unit=texts.window_unit(fastest.unit),
            )
            if fastest
            else ""
        )
        return [
            Tip(
                "pace:fast",
                70,
                texts.tip("pace:fast", where=where, **values),
                start=fastest.start if fastest else None,
            )
        ]
    return [Tip("pace:slow", 55, texts.tip("pace:slow", where="", **values))]


def _rush_tips(delivery: DeliveryMetrics, pace: Judgement, texts: DeliveryTexts) -> list[Tip]:
    """A comfortable average can hide a stretch said in a rush: name the fastest window."""
    windows = [w for w in delivery.pace_windows if w.end - w.start >= MIN_RUSH_WINDOW_S]
    fastest = max(windows, key=lambda w: w.rate, default=None)
    if fastest is None or fastest.rate <= pace.band.high * (1 + RUSH_MARGIN):
        return []
    message = texts.tip(
        "pace:rushed",
        start=format_duration(fastest.start),
        end=format_duration(fastest.end),
        rate=f"{fastest.rate:.0f}",
        window_unit=texts.window_unit(fastest.unit),
        low=f"{pace.band.low:g}",
        high=f"{pace.band.high:g}",
    )
    return [Tip("pace:rushed", 40, message, start=fastest.start)]


def _filler_tips(
    delivery: DeliveryMetrics, judgements: dict[str, Judgement], sentences, texts: DeliveryTexts
) -> list[Tip]:
    if judgements["fillers"].verdict != "high" or not delivery.fillers:
        return []
    worst = max(
        sentences,
        key=lambda s: sum(1 for f in delivery.fillers if s.start <= f.start <= s.end),
        default=None,
    )
    words = texts.join(sorted({f.text for f in delivery.fillers}))
    return [
        Tip(
            "fillers",
            60,
            texts.tip("fillers", count=str(len(delivery.fillers)), words=words),
            sentence=worst.text if worst else None,
            start=worst.start if worst else None,
        )
    ]


def _pause_tips(delivery: DeliveryMetrics, texts: DeliveryTexts) -> list[Tip]:
    long_pauses = delivery.long_pauses
    if len(long_pauses) <= MAX_LONG_PAUSES:
        return []
    longest = max(long_pauses, key=lambda p: p.duration)
    message = texts.tip(
        "pauses:long",
        count=str(len(long_pauses)),
        threshold=f"{delivery.long_pause_s:g}",
        longest=f"{longest.duration:.1f}",
        at=format_duration(longest.start),
    )
    return [Tip("pauses:long", 45, message, start=longest.start)]
