"""One definition per metric: its key, title, unit, reference band, how it is formatted, and
which direction is better. Scoring judges with it, the report and the history show it, the
progress charts and comparisons rank with it; the bands themselves are `config.Targets`
(defaults < config.toml < flags).

>>> PACE_METRICS["wpm"].unit, FILLERS_PER_MIN.band
('words/min', 'fillers_per_min')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .config import Band, Targets, format_duration

__all__ = [
    "COMPONENTS",
    "DURATION",
    "FILLERS_PER_100_WORDS",
    "FILLERS_PER_MIN",
    "LONG_PAUSES",
    "LOUDNESS",
    "MAX_LONG_PAUSES",
    "MORAE",
    "PACE_METRICS",
    "PITCH",
    "SCORE",
    "Metric",
    "judged",
]

# Up to two long pauses (e.g. a breath between parts) cost nothing.
MAX_LONG_PAUSES = 2


def _whole(value: float) -> str:
    return f"{value:.0f}"


def _tenths(value: float) -> str:
    return f"{value:.1f}"


@dataclass(frozen=True)
class Metric:
    """One measure of an intro.

    `key` names it in the record's `judgements` and `bands` and in the history's progress;
    `band` is the `Targets` attribute holding its reference band (None: no band there);
    `measured` the `delivery.DeliveryMetrics` attribute with its value; `lower_is_better`
    says which way an improvement goes inside the band (None: no preference, e.g. pace);
    `scale` is what a distance outside the band is measured against (None: the band's high
    edge) when the history ranks what improved most.
    """

    key: str
    title: str
    unit: str
    band: str | None
    measured: str | None
    fmt: Callable[[float], str] = _whole
    lower_is_better: bool | None = None
    scale: float | None = None

    def band_of(self, targets: Targets) -> Band | None:
        return getattr(targets, self.band) if self.band else None


DURATION = Metric("duration", "Duration", "m:ss", "duration_band", "speech_s", format_duration)
WPM = Metric("wpm", "Pace", "words/min", "wpm", "wpm")
CHARS_PER_MIN = Metric("chars_per_min", "Pace", "chars/min", "chars_per_min", "chars_per_min")
# Morae: the second Japanese measure (Prafiyanto et al. 2018).
MORAE = Metric("morae_per_min", "Morae", "morae/min", "morae_per_min", "morae_per_min")
FILLERS_PER_100_WORDS = Metric(
    "fillers",
    "Fillers",
    "per 100 words",
    "fillers_per_100_words",
    "fillers_per_100_words",
    _tenths,
    lower_is_better=True,
)
# Japanese has no words to count fillers per 100 of; the history compares fillers per minute.
FILLERS_PER_MIN = Metric(
    "fillers", "Fillers", "per min", "fillers_per_min", "fillers_per_min", _tenths, True
)
PITCH = Metric(
    "pitch", "Pitch spread", "semitones", "pitch_spread_semitones", "pitch_spread_semitones"
)
LOUDNESS = Metric("loudness", "Loudness spread", "dB", "loudness_spread_db", "loudness_spread_db")
LONG_PAUSES = Metric(
    "long_pauses", "Long pauses", "count", None, None, lower_is_better=True, scale=4.0
)
LONG_PAUSES_BAND = Band(0, MAX_LONG_PAUSES, "long pauses", "a breath between parts costs nothing")
SCORE = Metric("score", "Score", "/100", None, None, lower_is_better=False)
COMPONENTS = Metric(
    "components", "Parts covered", "of 4", None, None, lower_is_better=False, scale=1.0
)
PACE_METRICS = {m.key: m for m in (WPM, CHARS_PER_MIN)}


def judged(pace_metric: str) -> list[Metric]:
    """The delivery metrics an intro judged by `pace_metric` is judged on, in report order."""
    pace = PACE_METRICS[pace_metric]
    if pace is CHARS_PER_MIN:
        return [DURATION, pace, FILLERS_PER_MIN, PITCH, LOUDNESS, MORAE]
    # Fillers per minute for every language (issue 10: one unit in the report, the history,
    # compare and progress; per 100 words is shown beside it where there are words).
    return [DURATION, pace, FILLERS_PER_MIN, PITCH, LOUDNESS]
