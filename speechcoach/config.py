"""Where speechcoach keeps its files, and the reference bands every judgement is made against.

Each default cites its source (see the README's "Reference bands"). All of them can be changed
per call: `Targets` is passed down to the analysis, never read from globals.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import platformdirs

HOME_ENV = "SPEECHCOACH_HOME"
APP_NAME = "speechcoach"

SAMPLE_RATE = 16_000  # Hz: what Whisper expects, and what every clip is decoded to

# The article: "The ideal length of a self introduction for a job interview is three minutes".
DEFAULT_TARGET_S = 180.0
# How far from the target still counts as on target (+-15 %: 2:33 to 3:27 for 3 minutes).
TARGET_TOLERANCE = 0.15


def home_dir() -> Path:
    """The folder that holds everything the tool writes (models, recordings, history).

    `SPEECHCOACH_HOME` wins; otherwise the platform's user data folder. Created on first use.
    """
    override = os.environ.get(HOME_ENV)
    path = Path(override).expanduser() if override else Path(platformdirs.user_data_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


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
        return f"{self.low:g}-{self.high:g} {self.unit} ({self.source})"


@dataclass(frozen=True)
class Targets:
    """Every threshold the analysis judges against. Defaults from RUBRIC.md's sources."""

    duration_s: float = DEFAULT_TARGET_S
    duration_tolerance: float = TARGET_TOLERANCE
    # 120-160 wpm good in practice tools; 140-160 the classic comfortable band (Street & Brady 1982).
    wpm: Band = Band(120, 160, "words/min", "Street & Brady 1982; practice tools")
    # Japanese: NHK news reads ~300 chars/min, 350 is fast (theport.jp; advanced-media.co.jp).
    chars_per_min: Band = Band(250, 350, "chars/min", "NHK news pace ~300/min")
    # 320-360 morae/min rated best for non-native listeners (Prafiyanto et al. 2018).
    morae_per_min: Band = Band(320, 360, "morae/min", "Prafiyanto et al. 2018, doi:10.1250/ast.39.92")
    # Disfluencies per 100 words: under 2 excellent, 2-5 good, over 5 needs work.
    fillers_per_100_words: Band = Band(0, 5, "per 100 words", "disfluency studies, RUBRIC.md")
    # A silent pause counts from 200 ms (Gao et al. 2025); a long pause from about 2 s.
    pause_min_s: float = 0.2
    long_pause_s: float = 2.0
    # Pitch spread under ~2 semitones (std) sounds monotone; loudness spread under ~3 dB flat.
    pitch_spread_semitones: Band = Band(2.0, 8.0, "semitones (std)", "prosody studies; heuristic")
    loudness_spread_db: Band = Band(3.0, 15.0, "dB (std)", "heuristic for flat delivery")

    @property
    def duration_band(self) -> Band:
        tol = self.duration_tolerance
        return Band(
            round(self.duration_s * (1 - tol), 1),
            round(self.duration_s * (1 + tol), 1),
            "s",
            f"target {format_duration(self.duration_s)} +-{tol:.0%}",
        )


_DURATION_RE = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*m)?\s*(?:(\d+(?:\.\d+)?)\s*s?)?\s*$", re.I)


def parse_duration(text: str) -> float:
    """Parse '90', '90s', '1m30s', '3m', '2:30' into seconds.

    >>> parse_duration("1m30s")
    90.0
    """
    text = text.strip()
    if ":" in text:
        minutes, _, seconds = text.partition(":")
        if minutes.isdigit() and seconds.replace(".", "", 1).isdigit():
            return int(minutes) * 60 + float(seconds)
    match = _DURATION_RE.match(text)
    if not text or not match or not any(match.groups()):
        raise ValueError(f"cannot read {text!r} as a duration; write it like 90s, 1m30s, 3m or 2:30")
    minutes, seconds = match.groups()
    return float(minutes or 0) * 60 + float(seconds or 0)


def format_duration(seconds: float) -> str:
    """3:05 style; negative values keep their sign."""
    sign = "-" if seconds < 0 else ""
    total = int(round(abs(seconds)))
    return f"{sign}{total // 60}:{total % 60:02d}"
