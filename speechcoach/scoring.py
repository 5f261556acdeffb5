"""Judge the measurements against the reference bands, turn problems into tips, and score.

The score (0-100) is a sum of named parts so the report can say where points were lost:
content 50 (up to 10 per component: 6 for covering it, 4 more in proportion to its sub-points;
10 for a coherent order), delivery 50 (duration 20, pace 15, fillers 10, pauses 5), minus 5 per
pitfall (at most 20). Length dominates: outside the duration band the total is capped at
100 x length / band edge (a 90 s intro against 2:33-3:27 can score at most 59), and an intro
under 40 % of the target scores below 60 whatever else it does; the part `length` is the
(negative) difference, so the parts still add up to the score.

The tips' texts are data, one file per language (`languages/<lang>/delivery.json`, templates with
named placeholders), so a Japanese intro is coached in Japanese; a language without a file
reads English.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from . import languages, metrics
from .config import Band, Targets, format_duration
from .delivery import DeliveryMetrics
from .errors import SpeechcoachError
from .feedback import Tip
from .types import ACOUSTIC

COMPONENT_POINTS = 10
# Covering a part earns this share of its points; its sub-points (checks) earn the rest.
COVERED_SHARE = 0.6
# An intro under this share of the target length cannot reach SHORT_SCORE_LIMIT (the article
# puts a too short or too long introduction first among the reasons for no second interview).
SHORT_SHARE = 0.40
SHORT_SCORE_LIMIT = 60
MAX_SCORE = 100
ORDER_POINTS = 10
DURATION_POINTS = 20
PACE_POINTS = 15
FILLER_POINTS = 10
PAUSE_POINTS = 5
PITFALL_PENALTY, MAX_PITFALL_PENALTY = 5, 20
# Points fall linearly to zero this far outside a band (relative to the band's edge).
DURATION_FALLOFF = 0.5  # 50 % shorter/longer than the band: no duration points
PACE_FALLOFF_WPM = 40.0
FILLER_FALLOFF_PER_MIN = 7.0  # 12 per minute ("harm around 12/min", RUBRIC.md): no filler points
RUSH_MARGIN = 0.05  # a 30 s window more than 5 % above the band counts as rushed
MIN_RUSH_WINDOW_S = 20.0  # shorter windows hold too few words for a reliable rate
# ... and its speech itself (pauses taken out) is this much faster than the speaker's own rate
RUSH_RELATIVE = 0.15
DELIVERY_POINTS = 20 + 15 + 10 + 5  # duration + pace + fillers + pauses
MAX_LONG_PAUSES = metrics.MAX_LONG_PAUSES
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
    pace_metric, _ = pace_measure(language, targets, delivery.script_share)
    judgements = {}
    for metric in metrics.judged(pace_metric):
        value, band = getattr(delivery, metric.measured), metric.band_of(targets)
        verdict = band.judge(value) if value is not None else "unknown"
        judgements[metric.key] = Judgement(metric.key, value, band, verdict)
    return judgements


def pace_measure(
    language: str, targets: Targets, script_share: float | None = None
) -> tuple[str, Band]:
    """Which pace metric applies: the language pack's (words or characters per minute).

    With `script_share` (of the speaking time, see delivery.DeliveryMetrics) a mixed intro is
    judged in the script it was mostly spoken in, whatever language Whisper labelled it.
    """
    metric = (
        languages.get(language).pace_metric
        if script_share is None
        else languages.pace_metric(language, script_share)
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
            judgements["fillers"].value, judgements["fillers"].band, FILLER_FALLOFF_PER_MIN
        )
    pace = next(j for name, j in judgements.items() if name in ("wpm", "chars_per_min"))
    falloff = PACE_FALLOFF_WPM if pace.metric == "wpm" else 80.0
    parts["pace"] = PACE_POINTS * _closeness(pace.value, pace.band, falloff)
    if content is not None:
        covered = sum(1 for c in content["components"].values() if c["covered"])
        parts["components"] = sum(component_points(c) for c in content["components"].values())
        parts["order"] = ORDER_POINTS if content["order"]["ok"] and covered >= 2 else 0
        parts["pitfalls"] = -min(
            MAX_PITFALL_PENALTY, PITFALL_PENALTY * len(penalised_pitfalls(content["pitfalls"]))
        )
    parts = {k: round(v, 1) for k, v in parts.items()}
    cap = length_cap(delivery.speech_s, targets)
    total = sum(parts.values())
    # Delivery-only scores (no content rubric) are scaled to 100 afterwards (Analysis.score).
    scale = (
        1.0
        if content is not None
        else MAX_SCORE / (DELIVERY_POINTS - (0 if "fillers" in parts else FILLER_POINTS))
    )
    if cap is not None and total * scale > cap:
        # from the rounded parts, so that the parts as stored add up to the cap
        parts["length"] = round(cap / scale - total, 1)
    return parts


def component_points(component: dict) -> float:
    """Points for one component: COVERED_SHARE for covering it, the rest for its sub-points."""
    if not component.get("covered"):
        return 0.0
    checks = component.get("checks") or {}
    if not checks:  # a record or a language without sub-points: covering it is all there is
        return float(COMPONENT_POINTS)
    present = sum(1 for c in checks.values() if c.get("present"))
    return COMPONENT_POINTS * (COVERED_SHARE + (1 - COVERED_SHARE) * present / len(checks))


def length_cap(duration_s: float, targets: Targets) -> float | None:
    """The most an intro of this length can score, or None inside the duration band.

    Below the band: 100 x length / band low (and under SHORT_SCORE_LIMIT below SHORT_SHARE of
    the target); above it: 100 x band high / length."""
    band = targets.duration_band
    if duration_s < band.low:
        cap = MAX_SCORE * duration_s / band.low
        if duration_s < SHORT_SHARE * targets.duration_s:
            cap = min(cap, SHORT_SCORE_LIMIT - 1)
        return cap
    if duration_s > band.high:
        return MAX_SCORE * band.high / duration_s
    return None


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
    missing_parts: list[str] | None = None,
    thin_parts: list[str] | None = None,
    missing_asked: bool = False,
) -> list[Tip]:
    """Specific, timed advice on how the introduction was delivered, in `language` (the texts of
    `languages/<language>/delivery.json`; English for a language without one).

    `missing_parts` / `thin_parts`: titles of the components not covered / covered but lacking
    sub-points, so that a "too short" tip asks for exactly those (never for a covered part).
    `missing_asked`: parts are missing, and other tips ask for each of them: the "too short"
    tip then points to those tips instead of asking for the same part a second time."""
    texts = DeliveryTexts(language)
    tips = _duration_tips(
        delivery, targets, texts, all_parts_covered, missing_parts, thin_parts, missing_asked
    ) + _pace_tips(delivery, judgements, texts, sentences)
    tips += _filler_tips(delivery, judgements, sentences, texts) + _pause_tips(delivery, texts)
    return tips + _voice_tips(judgements, texts)


# Every voice measure judged out of its band gets its tip: tip id per (metric, verdict).
VOICE_TIPS = {
    ("pitch", "low"): "voice:monotone",
    ("pitch", "high"): "voice:pitch_high",
    ("loudness", "low"): "voice:flat",
    ("loudness", "high"): "voice:loudness_high",
}
VOICE_TIP_PRIORITY = 35


def _voice_tips(judgements: dict[str, Judgement], texts: DeliveryTexts) -> list[Tip]:
    tips = []
    for (metric, verdict), tip_id in VOICE_TIPS.items():
        j = judgements.get(metric)
        if j is None or j.verdict != verdict or j.value is None:
            continue
        values = {"spread": f"{j.value:.1f}", "low": f"{j.band.low:g}", "high": f"{j.band.high:g}"}
        tips.append(Tip(tip_id, VOICE_TIP_PRIORITY, texts.tip(tip_id, **values)))
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
    delivery: DeliveryMetrics,
    targets: Targets,
    texts: DeliveryTexts,
    all_parts_covered: bool,
    missing_parts: list[str] | None = None,
    thin_parts: list[str] | None = None,
    missing_asked: bool = False,
) -> list[Tip]:
    band, length = targets.duration_band, delivery.speech_s
    values = {"length": texts.length(length), "target": texts.length(targets.duration_s)}
    if length < band.low:
        # Ask for exactly what is missing, or thin; never for a part that is covered.
        if missing_parts:
            message = texts.tip(
                "duration:short:missing", missing=texts.join(missing_parts), **values
            )
        elif missing_asked:
            message = texts.tip("duration:short:see_tips", **values)
        elif thin_parts:
            message = texts.tip("duration:short:thin", parts=texts.join(thin_parts), **values)
        elif all_parts_covered:
            message = texts.tip("duration:short:complete", **values)
        else:
            message = texts.tip("duration:short", **values)
        # Far too short, the length comes first among the things to fix.
        priority = 95 if length < SHORT_SHARE * targets.duration_s else 85
        return [Tip("duration:short", priority, message)]
    if length > band.high:
        return [Tip("duration:long", 85, texts.tip("duration:long", **values))]
    return []


def _pace_tips(
    delivery: DeliveryMetrics,
    judgements: dict[str, Judgement],
    texts: DeliveryTexts,
    sentences=(),
) -> list[Tip]:
    pace = judgements.get("wpm") or judgements.get("chars_per_min")
    if pace is not None and pace.verdict == "ok":
        return _rush_tips(delivery, pace, texts, sentences) + _morae_tips(judgements, texts)
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


def _morae_tips(judgements: dict[str, Judgement], texts: DeliveryTexts) -> list[Tip]:
    """Japanese: characters per minute in the band but morae per minute out of it still gets
    its tip (every metric judged out of its band does)."""
    morae = judgements.get("morae_per_min")
    if morae is None or morae.verdict not in ("low", "high") or morae.value is None:
        return []
    key = "pace:morae:fast" if morae.verdict == "high" else "pace:morae:slow"
    values = {
        "value": f"{morae.value:.0f}",
        "low": f"{morae.band.low:g}",
        "high": f"{morae.band.high:g}",
    }
    return [Tip(key, 50, texts.tip(key, **values))]


def _rush_tips(
    delivery: DeliveryMetrics, pace: Judgement, texts: DeliveryTexts, sentences=()
) -> list[Tip]:
    """A comfortable average can hide a stretch said in a rush: name the fastest window.

    A window is rushed when it is over the band AND its speech itself is faster: the letters
    said per second of SPEAKING time inside the window (its pauses taken out) at least
    RUSH_RELATIVE over the speaker's own rate over the whole intro. Letters, not words: a
    stretch of short words is not a faster voice. A window with fewer pauses, or shorter
    words, than the others is not rushed: a voice at one steady speed never "sped up"."""
    windows = [w for w in delivery.pace_windows if w.end - w.start >= MIN_RUSH_WINDOW_S]
    rates = _speech_rates(windows, delivery.pauses, sentences)
    if not rates:
        return []
    own_rate = rates.pop("own")
    rushed = [
        w
        for w in windows
        if w.rate > pace.band.high * (1 + RUSH_MARGIN)
        and rates.get(w, 0.0) >= own_rate * (1 + RUSH_RELATIVE)
    ]
    fastest = max(rushed, key=lambda w: w.rate, default=None)
    if fastest is None:
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


def _speech_rates(windows, pauses, sentences) -> dict:
    """Letters per speaking second in each window (sentences spread over the windows by the
    time they overlap them), and "own": the same over all the windows together."""
    speaking = {w: _speaking_s(w, pauses) for w in windows}
    letters = dict.fromkeys(windows, 0.0)
    for s in sentences:
        n = sum(1 for c in s.text if c.isalnum())
        length = s.end - s.start
        for w in windows:
            overlap = max(0.0, min(w.end, s.end) - max(w.start, s.start))
            if length > 0:
                letters[w] += n * overlap / length
    total_letters, total_speaking = sum(letters.values()), sum(speaking.values())
    if total_speaking <= 0 or total_letters <= 0:
        return {}
    out: dict = {w: letters[w] / speaking[w] for w in windows if speaking[w] > 0}
    out["own"] = total_letters / total_speaking
    return out


def _speaking_s(window, pauses) -> float:
    """Seconds of a pace window that are not inside a measured pause."""
    silent = sum(max(0.0, min(window.end, p.end) - max(window.start, p.start)) for p in pauses)
    return max(0.0, window.end - window.start - silent)


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
    words = _filler_words(delivery.fillers, texts)
    # The tip is timed at the sentence with the most fillers; the message says so and gives
    # their span, so that "[0:01] 6 filler words" is not read as six fillers at 0:01.
    message = texts.tip(
        "fillers",
        count=str(len(delivery.fillers)),
        words=words,
        first=format_duration(min(f.start for f in delivery.fillers)),
        last=format_duration(max(f.start for f in delivery.fillers)),
        at=format_duration(worst.start) if worst else "",
    )
    return [
        Tip(
            "fillers",
            60,
            message,
            sentence=worst.text if worst else None,
            start=worst.start if worst else None,
        )
    ]


def _filler_words(fillers, texts: DeliveryTexts) -> str:
    """The fillers named for a reader: the words Whisper wrote, then the held voices counted in
    words ("uh, um, and 1 held voice ..."): their stored text, "(held voice)", is no word."""
    said = sorted({f.text for f in fillers if f.how != ACOUSTIC})
    held = sum(1 for f in fillers if f.how == ACOUSTIC)
    words = texts.fragment("fillers:words", words=texts.join(said)) if said else ""
    if not held:
        return words
    held_text = texts.fragment(
        "fillers:held:one" if held == 1 else "fillers:held:many", count=str(held)
    )
    if not words:
        return held_text
    return texts.fragment("fillers:words_and_held", words=words, held=held_text)


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
