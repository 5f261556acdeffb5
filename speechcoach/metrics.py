"""One definition per metric: its key, title, unit, reference band, how it is formatted, and
which direction is better, and where the analysis record holds its value. Scoring judges with
it, the report and the history show it, the progress charts and comparisons rank with it, the
history's columns store it and config.toml may set its band; the bands themselves are
`config.Targets` (defaults < config.toml < flags).

>>> PACE_METRICS["wpm"].unit, FILLERS_PER_MIN.band
('words/min', 'fillers_per_min')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .bands import Band, format_duration

if TYPE_CHECKING:  # config.py reads its band list from here: no import back at run time
    from .config import Targets
    from .result import AnalysisResult

__all__ = [
    "COMPONENTS",
    "DELIVERY",
    "DURATION",
    "FILLERS_PER_100_WORDS",
    "FILLERS_PER_MIN",
    "LONG_PAUSES",
    "LOUDNESS",
    "MAX_LONG_PAUSES",
    "MORAE",
    "PACE_METRICS",
    "PITCH",
    "RECORDING",
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


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _at(record: object, path: tuple[str, ...]) -> object:
    value = record
    for key in path:
        value = _part(value, key)
    return value


def _part(value: object, key: str) -> object:
    """One step into a record: an attribute of the typed record, a key of its stored JSON."""
    if isinstance(value, Mapping):
        return value.get(key)
    return getattr(value, key, None)


@dataclass(frozen=True)
class Metric:
    """One measure of an intro.

    `key` names it in the record's `judgements` and `bands` and in the history's progress;
    `band` is the `Targets` attribute holding its reference band (None: no band there);
    `measured` the `delivery.DeliveryMetrics` attribute with its value; `lower_is_better`
    says which way an improvement goes inside the band (None: no preference, e.g. pace);
    `scale` is what a distance outside the band is measured against (None: the band's high
    edge) when the history ranks what improved most. `path` is where an analysis record holds
    its value (`value()` reads it from the typed record or from its stored JSON, as the history
    keeps it); `counts` means the value there is the components, counted where covered.
    `label` and `shown` name the report's label and value text (keys of report.LABELS,
    translated in languages/<lang>/report.json).
    """

    key: str
    title: str
    unit: str
    band: str | None
    measured: str | None
    fmt: Callable[[float], str] = _whole
    lower_is_better: bool | None = None
    scale: float | None = None
    path: tuple[str, ...] = ()
    counts: bool = False
    label: str = ""
    shown: str = ""
    fallback: tuple[str, ...] = ()  # where a record without `path` holds it (an older one)

    def value(self, record: AnalysisResult | Mapping) -> float | None:
        """The metric in `record` (an `AnalysisResult` or its JSON); None: not measured."""
        if not self.path:
            return None
        value = _at(record, self.path)
        if value is None and self.fallback:
            value = _at(record, self.fallback)
        if self.counts:
            parts = value.values() if isinstance(value, Mapping) else ()
            return float(sum(1 for c in parts if _part(c, "covered"))) if parts else None
        return _number(value)

    def band_of(self, targets: Targets) -> Band | None:
        return getattr(targets, self.band) if self.band else None


# The length judged, the speech in the recording (speech_s), is what the report's headline, the
# history, compare and progress show; a record without it reads the recording's length.
DURATION = Metric(
    "duration",
    "Duration",
    "m:ss",
    "duration_band",
    "speech_s",
    format_duration,
    path=("speech_s",),
    label="duration",
    fallback=("duration_s",),
)
# The recording's length, silences included: the history's duration_s column keeps it.
RECORDING = Metric(
    "recording", "Recording", "m:ss", None, "duration_s", format_duration, path=("duration_s",)
)
WPM = Metric(
    "wpm", "Pace", "words/min", "wpm", "wpm", path=("wpm",), label="pace", shown="wpm_value"
)
CHARS_PER_MIN = Metric(
    "chars_per_min",
    "Pace",
    "chars/min",
    "chars_per_min",
    "chars_per_min",
    path=("chars_per_min",),
    label="pace",
    shown="chars_value",
)
# Morae: the second Japanese measure (Prafiyanto et al. 2018).
MORAE = Metric(
    "morae_per_min",
    "Morae",
    "morae/min",
    "morae_per_min",
    "morae_per_min",
    path=("morae_per_min",),
    shown="morae_value",  # no label: the row sits under the pace
)
FILLERS_PER_100_WORDS = Metric(
    "fillers",
    "Fillers",
    "per 100 words",
    "fillers_per_100_words",
    "fillers_per_100_words",
    _tenths,
    lower_is_better=True,
    path=("fillers", "per_100_words"),
    label="fillers",
)
# Japanese has no words to count fillers per 100 of; the history compares fillers per minute.
FILLERS_PER_MIN = Metric(
    "fillers",
    "Fillers",
    "per min",
    "fillers_per_min",
    "fillers_per_min",
    _tenths,
    True,
    path=("fillers", "per_min"),
    label="fillers",
)
PITCH = Metric(
    "pitch",
    "Pitch spread",
    "semitones",
    "pitch_spread_semitones",
    "pitch_spread_semitones",
    _tenths,
    path=("pitch", "spread_semitones"),
    label="pitch",
    shown="pitch_value",
)
LOUDNESS = Metric(
    "loudness",
    "Loudness spread",
    "dB",
    "loudness_spread_db",
    "loudness_spread_db",
    _tenths,
    path=("loudness", "spread_db"),
    label="loudness",
    shown="loudness_value",
)
LONG_PAUSES = Metric(
    "long_pauses",
    "Long pauses",
    "count",
    None,
    None,
    lower_is_better=True,
    scale=4.0,
    path=("pauses", "long_count"),
    label="pauses",
)
LONG_PAUSES_BAND = Band(0, MAX_LONG_PAUSES, "long pauses", "a breath between parts costs nothing")
SCORE = Metric("score", "Score", "/100", None, None, lower_is_better=False, path=("score",))
COMPONENTS = Metric(
    "components",
    "Parts covered",
    "of 4",
    None,
    None,
    lower_is_better=False,
    scale=1.0,
    path=("components",),
    counts=True,
)
PACE_METRICS = {m.key: m for m in (WPM, CHARS_PER_MIN)}
# Every delivery measure with a reference band, in the order config.toml's [bands] lists them.
DELIVERY = (
    DURATION,
    WPM,
    CHARS_PER_MIN,
    MORAE,
    FILLERS_PER_100_WORDS,
    FILLERS_PER_MIN,
    PITCH,
    LOUDNESS,
)


def judged(pace_metric: str) -> list[Metric]:
    """The delivery metrics an intro judged by `pace_metric` is judged on, in report order."""
    pace = PACE_METRICS[pace_metric]
    if pace is CHARS_PER_MIN:
        return [DURATION, pace, FILLERS_PER_MIN, PITCH, LOUDNESS, MORAE]
    # Fillers per minute for every language (issue 10: one unit in the report, the history,
    # compare and progress; per 100 words is shown beside it where there are words).
    return [DURATION, pace, FILLERS_PER_MIN, PITCH, LOUDNESS]
