"""The bottom of the metric definitions: a reference `Band` and the m:ss format of a length.

Both config.py (the bands' defaults and the config file) and metrics.py (one definition per
metric) build on these, so neither has to import the other's module to describe a band.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Band", "format_duration", "current_band", "FILLER_SOURCE"]

FILLER_SOURCE = "up to ~5/min carries no penalty"
# Band sources older records store, and the words they are shown in now: the record keeps what
# it holds, the report and the pages show it as a new analysis would read.
RETIRED_SOURCES = {
    f"{FILLER_SOURCE} (docs/RUBRIC.md)": FILLER_SOURCE,
    f"{FILLER_SOURCE} (RUBRIC.md)": FILLER_SOURCE,
}


def current_band(text: str) -> str:
    """A stored band's text with a retired source worded as it is now:
    "0-5 fillers/min (up to ~5/min carries no penalty (RUBRIC.md))" ->
    "0-5 fillers/min (up to ~5/min carries no penalty)"."""
    for old, new in RETIRED_SOURCES.items():
        text = text.replace(old, new)
    return text


def format_duration(seconds: float) -> str:
    """3:05 style; negative values keep their sign."""
    sign = "-" if seconds < 0 else ""
    total = int(round(abs(seconds)))
    return f"{sign}{total // 60}:{total % 60:02d}"


@dataclass(frozen=True)
class Band:
    """A reference range: values inside [low, high] are fine. `source` says where it comes from."""

    low: float
    high: float
    unit: str
    source: str

    def judge(self, value: float) -> str:
        """'low', 'ok' or 'high'."""
        if value < self.low:
            return "low"
        if value > self.high:
            return "high"
        return "ok"

    def describe(self) -> str:
        if self.unit == "s":  # a length: m:ss, like every other time the report prints
            return f"{format_duration(self.low)}-{format_duration(self.high)} ({self.source})"
        return f"{self.low:g}-{self.high:g} {self.unit} ({self.source})"
