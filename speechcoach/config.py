"""Where speechcoach keeps its files, and the reference bands every judgement is made against.

Each default cites its source (see the README's "Reference bands"). All of them can be changed
per call: `Targets` is passed down to the analysis, never read from globals.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

import platformdirs

from . import metrics
from .bands import FILLER_SOURCE, Band, format_duration
from .errors import SpeechcoachError

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_TARGET_S",
    "HOME_ENV",
    "SAMPLE_RATE",
    "Band",  # from bands.py, where metrics.py reads it too
    "Targets",
    "check_target_s",
    "check_targets",
    "config_path",
    "format_duration",  # from bands.py
    "home_dir",
    "load_targets",
    "parse_duration",
]

HOME_ENV = "SPEECHCOACH_HOME"
APP_NAME = "speechcoach"

SAMPLE_RATE = 16_000  # Hz: what Whisper expects, and what every clip is decoded to

# The article: "The ideal length of a self introduction for a job interview is three minutes".
DEFAULT_TARGET_S = 180.0
# How far from the target still counts as on target (+-15 %: 2:33 to 3:27 for 3 minutes).
TARGET_TOLERANCE = 0.15
# Targets outside these are typing mistakes: the shortest answer an interviewer asks for is a
# few seconds of "tell me about yourself"; the analysis refuses recordings over 30 minutes.
MIN_TARGET_S = 10.0
MAX_TARGET_S = 30 * 60.0
# Pauses: from a 50 ms gap (shorter is not a pause) to a 60 s silence (longer is not a speech).
MIN_PAUSE_S = 0.05
MAX_PAUSE_S = 60.0
# A band is a count per minute, per 100 words, or a spread: never negative, never astronomical.
MAX_BAND_VALUE = 10_000.0


def home_dir() -> Path:
    """The folder that holds everything the tool writes (models, recordings, history).

    `SPEECHCOACH_HOME` wins; otherwise the platform's user data folder. Created on first use.
    """
    path = _home_path()
    if path.exists() and not path.is_dir():
        raise SpeechcoachError(
            f"{HOME_ENV if os.environ.get(HOME_ENV) else 'the speechcoach folder'} {path} is a "
            f"file, not a folder; set {HOME_ENV} to a folder (it is created if missing), or "
            "move that file aside"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SpeechcoachError(
            f"cannot create the speechcoach folder {path} ({exc.strerror or exc}); "
            f"set {HOME_ENV} to a folder you can write to"
        ) from exc
    return path


def _home_path() -> Path:
    override = os.environ.get(HOME_ENV)
    return Path(override).expanduser() if override else Path(platformdirs.user_data_dir(APP_NAME))


@dataclass(frozen=True)
class Targets:
    """Every threshold the analysis judges against. Defaults from the sources in docs/RUBRIC.md."""

    duration_s: float = DEFAULT_TARGET_S
    duration_tolerance: float = TARGET_TOLERANCE
    # 120-160 wpm good in practice tools; 140-160 the classic comfortable band (Street & Brady
    # 1982).
    wpm: Band = Band(120, 160, "words/min", "Street & Brady 1982; practice tools")
    # Japanese: NHK news reads ~300 chars/min, 350 is fast (theport.jp; advanced-media.co.jp).
    chars_per_min: Band = Band(250, 350, "chars/min", "NHK news pace ~300/min")
    # 320-360 morae/min rated best for non-native listeners (Prafiyanto et al. 2018).
    morae_per_min: Band = Band(
        320, 360, "morae/min", "Prafiyanto et al. 2018, doi:10.1250/ast.39.92"
    )
    # Disfluencies per 100 words: under 2 excellent, 2-5 good, over 5 needs work.
    fillers_per_100_words: Band = Band(0, 5, "per 100 words", "disfluency studies, docs/RUBRIC.md")
    # Japanese (no words): up to ~5 fillers per minute carries no measurable penalty
    # (docs/RUBRIC.md; the source the user reads leaves the file out: "(... (docs/RUBRIC.md))").
    fillers_per_min: Band = Band(0, 5, "fillers/min", FILLER_SOURCE)
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
        if not (minutes.isdigit() and re.fullmatch(r"\d{2}(\.\d+)?", seconds)):
            raise ValueError(
                f"cannot read {text!r} as a clock time; write minutes:seconds like 2:30 or 1:05"
            )
        if float(seconds) >= 60:
            raise ValueError(
                f"{text!r}: the seconds of a clock time go up to 59; write {int(minutes) + 1}:"
                f"{float(seconds) - 60:02.0f} or {float(minutes) * 60 + float(seconds):g}s"
            )
        return int(minutes) * 60 + float(seconds)
    match = _DURATION_RE.match(text)
    if not text or not match or not any(match.groups()):
        raise ValueError(
            f"cannot read {text!r} as a duration; write it like 90s, 1m30s, 3m or 2:30"
        )
    minutes, seconds = match.groups()
    return float(minutes or 0) * 60 + float(seconds or 0)


def check_target_s(seconds: float, what: str = "the target") -> float:
    """`seconds` if it is a target one can aim at, else ValueError saying the range."""
    if not math.isfinite(seconds) or not MIN_TARGET_S <= seconds <= MAX_TARGET_S:
        shown = f"{seconds:g} s" if math.isfinite(seconds) else repr(seconds)
        raise ValueError(
            f"{what} must be from {format_duration(MIN_TARGET_S)} to "
            f"{format_duration(MAX_TARGET_S)} "
            f"(e.g. 3m or 90s), not {shown}"
        )
    return seconds


# ------------------------------------------------------------------ configuration file

CONFIG_FILE = "config.toml"
# The bands config.toml may set: every metric's band that is a field of `Targets` (the duration
# band is derived from the target and its tolerance), in metrics.py's order.
_BAND_FIELDS = tuple(m.band for m in metrics.DELIVERY if m.band in Targets.__dataclass_fields__)
_NUMBER_FIELDS = {
    "target_tolerance": "duration_tolerance",
    "pause_min_s": "pause_min_s",
    "long_pause_s": "long_pause_s",
}


def config_path() -> Path:
    return _home_path() / CONFIG_FILE  # only looked at: reading settings creates no folder


def load_targets(path: Path | None = None, *, target_s: float | None = None) -> Targets:
    """Targets with precedence defaults < config file < flags.

    The file (`SPEECHCOACH_HOME/config.toml` unless `path` is given) may set:

        target = "90s"            # or 90, "1m30s"
        target_tolerance = 0.15
        pause_min_s = 0.25
        long_pause_s = 2.5
        [bands]
        wpm = [130, 170]          # any of: wpm, chars_per_min, morae_per_min,
                                  # fillers_per_100_words, pitch_spread_semitones,
                                  # loudness_spread_db
    """
    targets = Targets()
    file = path if path is not None else config_path()
    if path is not None or file.is_file():
        targets = _apply_file(targets, file)
    if target_s is not None:
        try:
            check_target_s(target_s, "--target")
        except ValueError as exc:
            raise SpeechcoachError(str(exc)) from exc
        targets = replace(targets, duration_s=target_s)
    return targets


def _apply_file(targets: Targets, file: Path) -> Targets:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        # utf-8-sig: Notepad starts a UTF-8 file with a byte-order mark, which TOML itself rejects.
        data = tomllib.loads(file.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise SpeechcoachError(
            f"{file}: the configuration file is not UTF-8 text (byte {exc.start} is "
            "not valid UTF-8); "
            "save it as UTF-8 and run again"
        ) from exc
    except OSError as exc:
        raise SpeechcoachError(
            f"{file}: cannot read the configuration file ({exc.strerror or exc})"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise SpeechcoachError(f"{file}: not valid TOML ({exc}); fix it or move it aside") from exc
    try:
        return _targets_from(targets, data)
    except (TypeError, ValueError) as exc:
        raise SpeechcoachError(f"{file}: {exc}") from exc


def _targets_from(targets: Targets, data: dict) -> Targets:
    known = {"target", "bands", *_NUMBER_FIELDS}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(
            f"unknown setting {', '.join(unknown)}; expected: {', '.join(sorted(known))}"
        )
    changes: dict = {}
    if "target" in data:
        value = data["target"]
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(f'target must be a duration like "3m" or 180, not {value!r}')
        changes["duration_s"] = (
            float(value) if isinstance(value, (int, float)) else parse_duration(value)
        )
    for key, attr in _NUMBER_FIELDS.items():
        if key in data:
            if isinstance(data[key], bool) or not isinstance(data[key], (int, float)):
                raise ValueError(f"{key} must be a number, not {data[key]!r}")
            changes[attr] = float(data[key])
    bands = data.get("bands", {})
    if not isinstance(bands, dict):
        raise ValueError("bands must be a table: [bands] then lines like wpm = [120, 160]")
    for name, value in bands.items():
        if name not in _BAND_FIELDS:
            raise ValueError(f"unknown band {name!r}; expected one of: {', '.join(_BAND_FIELDS)}")
        if not (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, (int, float)) for v in value)
            and value[0] <= value[1]
        ):
            raise ValueError(f"band {name} must be [low, high], e.g. {name} = [120, 160]")
        band = getattr(targets, name)
        changes[name] = replace(
            band, low=float(value[0]), high=float(value[1]), source="your config.toml"
        )
    result = replace(targets, **changes)
    check_targets(result)
    return result


def check_targets(targets: Targets) -> None:
    """Refuse settings no judgement can be made with (raises ValueError saying which). Every
    number must be finite: an inf or nan would reach the JSON output, which then is not JSON."""
    check_target_s(targets.duration_s)
    if not 0 <= targets.duration_tolerance < 1:  # also false for nan
        raise ValueError(
            "target_tolerance must be from 0 to under 1 (0.15 = +-15 %), not "
            f"{targets.duration_tolerance:g}"
        )
    for name in ("pause_min_s", "long_pause_s"):
        value = getattr(targets, name)
        if not MIN_PAUSE_S <= value <= MAX_PAUSE_S:
            raise ValueError(
                f"{name} must be from {MIN_PAUSE_S:g} to {MAX_PAUSE_S:g} seconds, not {value:g}"
            )
    if not targets.pause_min_s <= targets.long_pause_s:
        raise ValueError(
            f"pauses need pause_min_s <= long_pause_s (now {targets.pause_min_s:g} and "
            f"{targets.long_pause_s:g})"
        )
    for name in _BAND_FIELDS:
        band = getattr(targets, name)
        if not 0 <= band.low <= band.high <= MAX_BAND_VALUE:  # also false for nan
            raise ValueError(
                f"band {name} must be [low, high] with 0 <= low <= high <= {MAX_BAND_VALUE:g}, "
                f"not [{band.low:g}, {band.high:g}]"
            )
