"""What changed between attempts: the history table, a comparison of two attempts, and the trend
over many (a terminal chart, or a PNG with matplotlib).

Everything works on stored `Attempt`s, so nothing is re-transcribed: the history table and the
progress charts read their stored records through metrics.py, a comparison their typed records
(`Attempt.result`):

    with History.open() as history:
        after, before = history.latest(2)
    print(render_comparison(compare(before, after)))
    chart = progress(history.chronological())
    print(render_progress(chart)); plot_progress(chart, "progress.png")

"Better" always means closer to the target band (`config.Targets`); inside the band, fewer
fillers and long pauses and a higher score still count as better.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from . import languages, metrics
from .config import Band, Targets, format_duration
from .errors import SpeechcoachError, StoreError
from .result import AnalysisResult, judged_language
from .store import Attempt, History

__all__ = [
    "Change",
    "Comparison",
    "Series",
    "Progress",
    "pick_pair",
    "compare",
    "progress",
    "render_comparison",
    "render_progress",
    "render_history",
    "plot_progress",
    "progress_figure",
    "check_plot_path",
    "format_when",
]

log = logging.getLogger(__name__)

LONG_PAUSES_BAND = metrics.LONG_PAUSES_BAND
SCORE_RANGE = (0, 100)
# Parts of the outline, for an attempt stored without its components.
OUTLINE_PARTS = 4
# Weights for "the biggest improvement", in the same unit as a metric's relative gap (1.0 = a
# metric 100 % outside its band): a covered part or a fixed pitfall outweighs small metric moves.
COMPONENT_WEIGHT = 0.5
PITFALL_WEIGHT = 0.4
CHART_ROWS = 8  # height of a terminal chart
CHART_COLUMN = 5  # characters per attempt in a terminal chart
CHART_MAX_ATTEMPTS = 20  # the terminal chart shows the last 20 attempts; the PNG shows all
PLOT_WIDTH_IN, PLOT_ROW_HEIGHT_IN, PLOT_DPI = 9.0, 2.1, 110


# ------------------------------------------------------------------------------------- metrics
@dataclass(frozen=True)
class _Metric:
    """A metric of metrics.py as the history follows it: `value` reads it from an attempt's
    stored record (`metrics.Metric.value`, which reads records of any age: an attempt that
    does not pass `from_json` is still listed and charted)."""

    key: str
    title: str
    unit: str
    value: Callable[[Attempt], float | None]
    fmt: Callable[[float], str]
    lower_is_better: bool | None  # inside the band: None = no preference (pace, duration)
    scale: float | None = None  # relative gap = distance outside the band / scale


def _judged_in_chars(a: Attempt | None) -> bool:
    """Whether the attempt's pace was judged in characters per minute (Attempt.pace_metric)."""
    return a is not None and a.pace_metric == languages.CHARS_PER_MIN


def _pace_value(a: Attempt) -> float | None:
    return metrics.PACE_METRICS[a.pace_metric].value(a.analysis)


def _tracked(
    metric: metrics.Metric, value: Callable[[Attempt], float | None] | None = None, key: str = ""
) -> _Metric:
    return _Metric(
        key or metric.key,
        metric.title,
        metric.unit,
        value or (lambda a: metric.value(a.analysis)),
        metric.fmt,
        metric.lower_is_better,
        metric.scale,
    )


def _metrics() -> list[_Metric]:
    """What the history follows, each defined once in metrics.py."""
    return [
        _tracked(metrics.SCORE),
        _tracked(metrics.DURATION),
        _tracked(metrics.PACE_METRICS[languages.WPM], _pace_value, key="pace"),
        _tracked(metrics.LONG_PAUSES),
        _tracked(metrics.FILLERS_PER_MIN),
        _tracked(metrics.COMPONENTS),
    ]


def _band(metric: str, a: Attempt | None, targets: Targets) -> Band | None:
    """The target band a metric of this attempt (None: of an empty history) is judged against."""
    if metric == "duration":
        target_s = a.target_s if a is not None else None
        return replace(targets, duration_s=target_s or targets.duration_s).duration_band
    if metric == "pace":
        pace = languages.CHARS_PER_MIN if _judged_in_chars(a) else languages.WPM
        return metrics.PACE_METRICS[pace].band_of(targets)
    if metric == "fillers":
        return metrics.FILLERS_PER_MIN.band_of(targets)
    if metric == "long_pauses":
        return LONG_PAUSES_BAND
    if metric == "components":
        total = (a.components_total if a is not None else None) or OUTLINE_PARTS
        return Band(total, total, f"of {total}", "every part of the outline")
    return None


def _gap(value: float | None, band: Band | None, scale: float | None) -> float | None:
    """How far outside its band a value is, relative to `scale` (0 inside the band)."""
    if value is None or band is None:
        return None
    distance = max(band.low - value, value - band.high, 0.0)
    return distance / (scale or band.high or 1.0)


# ------------------------------------------------------------------------------------- compare
@dataclass(frozen=True)
class Change:
    """One metric, before and after. `verdict` is 'better', 'worse', 'same' or 'unknown'.
    `comparable` is False when the two values are in different units (a pace in words per minute
    and one in characters per minute): no change, and the verdict 'unknown'."""

    key: str
    title: str
    before: float | None
    after: float | None
    band: Band | None
    verdict: str
    text_before: str
    text_after: str
    comparable: bool = True

    @property
    def delta(self) -> float | None:
        if not self.comparable or self.before is None or self.after is None:
            return None
        return self.after - self.before

    def to_dict(self) -> dict:
        band = _band_dict(self.band)
        return {
            "key": self.key,
            "title": self.title,
            "before": self.before,
            "after": self.after,
            "change": None if self.delta is None else round(self.delta, 2),
            "band": band,
            "verdict": self.verdict,
            "comparable": self.comparable,
        }


@dataclass(frozen=True)
class Comparison:
    before: Attempt
    after: Attempt
    changes: list[Change]
    components_gained: list[str]
    components_lost: list[str]
    pitfalls_fixed: list[str]
    pitfalls_new: list[str]
    pitfalls_still: list[str]
    biggest_improvement: str
    biggest_gap: str
    language: str = languages.FALLBACK  # of the sentences and titles (the newer attempt's)

    def to_dict(self) -> dict:
        return {
            "before": self.before.summary(),
            "after": self.after.summary(),
            "metrics": [c.to_dict() for c in self.changes],
            "components": {"gained": self.components_gained, "lost": self.components_lost},
            "pitfalls": {
                "fixed": self.pitfalls_fixed,
                "new": self.pitfalls_new,
                "still": self.pitfalls_still,
            },
            "biggest_improvement": self.biggest_improvement,
            "biggest_gap": self.biggest_gap,
        }


def pick_pair(
    history: History, first: int | None = None, second: int | None = None
) -> tuple[Attempt, Attempt]:
    """The two attempts `compare` means: the last two (older first); with one id, that attempt and
    the newest; with two, those two in the order given."""
    if second is not None:
        if first == second:
            raise StoreError(
                f"attempt #{first} was given twice; compare two different attempts, e.g. "
                "`speechcoach compare` (the last two); `speechcoach history` lists the ids"
            )
        return history.get(first), history.get(second)
    newest = history.latest(2)
    if first is not None:
        chosen = history.get(first)
        if chosen.id == newest[0].id:
            raise StoreError(
                f"attempt #{first} is the newest; give two IDs, e.g. `speechcoach compare "
                f"{newest[-1].id} {first}`"
            )
        return chosen, newest[0]
    if len(newest) < 2:
        raise StoreError(
            f"compare needs two attempts and the history has {len(newest)}; "
            "analyse or record another attempt first"
        )
    return newest[1], newest[0]


def compare(
    before: Attempt, after: Attempt, targets: Targets | None = None, language: str | None = None
) -> Comparison:
    """What changed from `before` to `after`: metrics, parts covered, pitfalls, and two
    sentences, in `language` (default: the newer attempt's feedback language), titles included:
    an English and a Japanese attempt are compared in one language."""
    targets = targets or Targets()
    a, b = before, after
    language = language or b.result.feedback_language
    texts = _compare_texts(language)
    changes = [_change(m, a, b, targets, texts) for m in _metrics()]
    covered_a, covered_b = a.result.covered, b.result.covered
    pit_a, pit_b = _pitfall_ids(a.result), _pitfall_ids(b.result)
    gained = [c for c in covered_b if c not in covered_a]
    lost = [c for c in covered_a if c not in covered_b]
    fixed = [p for p in pit_a if p not in pit_b]
    new = [p for p in pit_b if p not in pit_a]
    still = [p for p in pit_b if p in pit_a]
    return Comparison(
        before,
        after,
        changes,
        gained,
        lost,
        fixed,
        new,
        still,
        _biggest_improvement(changes, gained, fixed, targets, a, b, language),
        _biggest_gap(b.result, changes, language),
        language,
    )


def _compare_texts(language: str) -> dict:
    """The comparison's sentences in `language` (report.json "compare"), English for any key
    the language lacks."""
    from .report import report_texts

    return {
        **report_texts(languages.FALLBACK)["compare"],
        **report_texts(language).get("compare", {}),
    }


def _metric_name(change: Change, texts: dict) -> str:
    return texts["metrics"].get(change.key) or change.title.lower()


def _change(metric: _Metric, a: Attempt, b: Attempt, targets: Targets, texts: dict) -> Change:
    va, vb = metric.value(a), metric.value(b)
    band_a, band_b = _band(metric.key, a, targets), _band(metric.key, b, targets)
    comparable = metric.key != "pace" or _judged_in_chars(a) == _judged_in_chars(b)
    verdict = "unknown"
    if va is not None and vb is not None and comparable:
        gap_a, gap_b = _gap(va, band_a, metric.scale), _gap(vb, band_b, metric.scale)
        if gap_a is not None and gap_b is not None and abs(gap_a - gap_b) > 1e-9:
            verdict = "better" if gap_b < gap_a else "worse"
        elif metric.lower_is_better is None or va == vb:
            verdict = "same"
        else:
            verdict = "better" if (vb < va) == metric.lower_is_better else "worse"
    return Change(
        metric.key,
        metric.title,
        va,
        vb,
        band_b,
        verdict,
        _describe(metric, a, va, targets, texts["table"]),
        _describe(metric, b, vb, targets, texts["table"]),
        comparable,
    )


def _describe(
    metric: _Metric, a: Attempt, value: float | None, targets: Targets, table: dict
) -> str:
    """The value as shown in the comparison table, with the detail that explains it, in the
    comparison's language (report.json "compare" -> "table")."""
    if value is None:
        return table["na"]
    v = metric.fmt(value)
    if metric.key == "score":
        return table["score"].format(v=v)
    if metric.key == "duration":
        return table["duration"].format(
            v=v, target=format_duration(a.target_s or targets.duration_s)
        )
    if metric.key == "pace":
        return table["pace_chars" if _judged_in_chars(a) else "pace_words"].format(v=v)
    if metric.key == "long_pauses":
        longest = a.result.pauses.longest_s
        return table["long_pauses"].format(v=v, longest=f"{longest:.1f}") if longest else v
    if metric.key == "fillers":
        per_100 = a.result.fillers.per_100_words
        if per_100 is None:
            return table["fillers"].format(v=v)
        return table["fillers_per_100"].format(v=v, per_100=f"{per_100:.1f}")
    if metric.key == "components":
        return table["components"].format(v=v, total=a.components_total or OUTLINE_PARTS)
    return v


def _pitfall_ids(r: AnalysisResult) -> list[str]:
    return list(dict.fromkeys(hit.id for hit in r.pitfalls))


def _titles(components: list[str], language: str) -> str:
    """Part titles in `language` (one language for both attempts of a comparison)."""
    titles = languages.component_titles(language)
    return ", ".join(f'"{titles.get(c, c)}"' for c in components)


def _pitfall_titles(ids: list[str], language: str) -> str:
    """Pitfalls by their plain names in `language`, as the report names them (ids are for
    `--json`; "salary_only" means nothing to a reader)."""
    names: dict[str, str] = {}
    for code in dict.fromkeys((language or languages.FALLBACK, languages.FALLBACK)):
        rubric = languages.get(code).data("components.json")
        if rubric:
            names = {p["id"]: p.get("title", p["id"]) for p in rubric.get("pitfalls", ())}
            break
    return ", ".join(names.get(i, i) for i in ids)


def _biggest_improvement(
    changes: list[Change],
    gained: list[str],
    fixed: list[str],
    targets: Targets,
    a: Attempt,
    b: Attempt,
    language: str = languages.FALLBACK,
) -> str:
    """One sentence on the change that closed the largest gap to a target."""
    texts = _compare_texts(language)
    candidates: list[tuple[float, str]] = []
    if gained:
        candidates.append(
            (
                COMPONENT_WEIGHT * len(gained),
                texts["now_cover"].format(parts=_titles(gained, language)),
            )
        )
    if fixed:
        gone = texts["pitfalls_gone" if len(fixed) > 1 else "pitfall_gone"]
        candidates.append(
            (PITFALL_WEIGHT * len(fixed), gone.format(names=_pitfall_titles(fixed, language)))
        )
    metrics = {m.key: m for m in _metrics()}
    for change in changes:
        metric = metrics[change.key]
        if change.key in ("score", "components") or change.verdict != "better":
            continue
        gap_a = _gap(change.before, _band(change.key, a, targets), metric.scale) or 0.0
        gap_b = _gap(change.after, _band(change.key, b, targets), metric.scale) or 0.0
        if gap_a > gap_b:
            where = texts["now_on_target"] if gap_b == 0 else texts["closer_to"]
            candidates.append(
                (
                    gap_a - gap_b,
                    texts["moved"].format(
                        metric=_metric_name(change, texts),
                        before=change.text_before,
                        after=change.text_after,
                        where=where,
                        band=_band_text(change.band, texts["the_target"], texts["table"]["units"]),
                    ),
                )
            )
    if candidates:
        return texts["improvement"].format(what=max(candidates, key=lambda c: c[0])[1])
    score = next(c for c in changes if c.key == "score")
    if score.verdict == "better":
        return texts["improvement_score"].format(before=score.text_before, after=score.text_after)
    return texts["improvement_none"]


def _band_text(band: Band | None, target: str = "the target", units: dict | None = None) -> str:
    """A band as "low-high unit"; `units` names the stored (English) units in another language."""
    if band is None:
        return target
    if band.unit == "s":
        return f"{format_duration(band.low)}-{format_duration(band.high)}"
    unit = (units or {}).get(band.unit, band.unit)
    space = "" if units and band.unit in units else " "  # 120-160語/分, not 120-160 語/分
    if band.low == band.high:
        return f"{band.low:g}{space}{unit}"
    return f"{band.low:g}-{band.high:g}{space}{unit}"


def _biggest_gap(
    r: AnalysisResult, changes: list[Change], language: str = languages.FALLBACK
) -> str:
    """The most urgent thing left: the newest attempt's top tip (the analysis ranks them), else
    the largest distance to a band."""
    texts = _compare_texts(language)
    tips = sorted(r.tips, key=lambda t: -(t.priority or 0))
    if tips:
        return texts["gap"].format(what=tips[0].message)
    missing = [c for c, comp in r.components.items() if not comp.covered]
    if missing:
        key = "gap_missing_one" if len(missing) == 1 else "gap_missing_many"
        return texts[key].format(parts=_titles(missing, language))
    if r.pitfalls:
        first = r.pitfalls[0]
        return texts["gap_pitfall"].format(
            name=_pitfall_titles([first.id], language),
            at=format_duration(first.start or 0),
        )
    metrics = {m.key: m for m in _metrics()}
    off = [
        (_gap(c.after, c.band, metrics[c.key].scale) or 0.0, c)
        for c in changes
        if c.band is not None
    ]
    worst_gap, worst = max(off, key=lambda x: x[0], default=(0.0, None))
    if worst is None or worst_gap == 0:
        return texts["gap_none"]
    return texts["gap_metric"].format(
        metric=_metric_name(worst, texts),
        value=worst.text_after,
        band=_band_text(worst.band, texts["the_target"], texts["table"]["units"]),
    )


TITLE_COLUMNS = 14  # the comparison table's first column, at least (terminal columns)
VALUE_COLUMNS = 26  # each attempt's column, at least


def render_comparison(c: Comparison) -> str:
    """Side by side, for the terminal, in the comparison's language."""
    a, b = c.before, c.after
    texts = _compare_texts(c.language)
    table = texts["table"]
    names = [texts["metrics"].get(change.key) or change.title for change in c.changes]
    title_w = max([_width(n) + 1 for n in names] + [TITLE_COLUMNS])
    values = [t for change in c.changes for t in (change.text_before, change.text_after)]
    col_w = max([_width(v) + 2 for v in values] + [VALUE_COLUMNS])  # wide characters: 2 each
    head = f"  {_pad('', title_w)}{_pad(_attempt_name(a), col_w)}{_pad(_attempt_name(b), col_w)}"
    lines = [table["attempts"].format(a=a.id, b=b.id), head + table["change"]]
    if a.label or b.label:
        labels = f"{_pad(_quoted(a.label), col_w)}{_pad(_quoted(b.label), col_w)}"
        lines.append(f"  {_pad('', title_w)}{labels}")
    for change, name in zip(c.changes, names, strict=True):
        row = f"  {_pad(name, title_w)}{_pad(change.text_before, col_w)}"
        row += _pad(change.text_after, col_w)
        lines.append((row + _delta(change, table)).rstrip())
    lines.append("")
    said = [
        ("parts_gained", _titles(c.components_gained, c.language)),
        ("parts_lost", _titles(c.components_lost, c.language)),
        ("pitfalls_fixed", _pitfall_titles(c.pitfalls_fixed, c.language)),
        ("pitfalls_new", _pitfall_titles(c.pitfalls_new, c.language)),
    ]
    if c.pitfalls_still:
        said.append(("pitfalls_still", _pitfall_titles(c.pitfalls_still, c.language)))
    label_w = max(_width(texts[key]) for key, _ in said) + 1
    for key, value in said:
        lines.append(f"  {_pad(texts[key], label_w)}{value or texts['none']}")
    lines += ["", c.biggest_improvement, c.biggest_gap]
    return "\n".join(lines)


def _pad(text: str, columns: int) -> str:
    from .report import _pad as pad

    return pad(text, columns)


def _width(text: str) -> int:
    from .report import _width as width

    return width(text)


def _attempt_name(a: Attempt) -> str:
    return f"#{a.id} {format_when(a.created_at)}"


def _quoted(label: str | None) -> str:
    return f'"{label}"' if label else ""


def _delta(change: Change, table: dict) -> str:
    if not change.comparable and change.before is not None and change.after is not None:
        return table["different_units"]
    if change.delta is None:
        return ""
    if change.key == "duration":
        sign = "+" if change.delta >= 0 else "-"
        amount = f"{sign}{format_duration(abs(change.delta))}"
    else:
        amount = f"{change.delta:+.1f}" if change.key == "fillers" else f"{change.delta:+.0f}"
    verdict = table["verdicts"].get(change.verdict, change.verdict)
    band = (
        "   " + table["target"].format(band=_band_text(change.band, units=table["units"]))
        if change.band is not None and change.key != "components"
        else ""
    )
    return (
        f"{_pad(amount, 7)}{_pad(verdict, 7)}{band}".rstrip()
        if band
        else f"{_pad(amount, 7)}{verdict}"
    )


def format_when(created_at: str) -> str:
    """A stored UTC timestamp in local time, minutes precision."""
    try:
        return datetime.fromisoformat(created_at).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return created_at


# ------------------------------------------------------------------------------------ history
def render_history(attempts: list[Attempt]) -> str:
    """The attempts as a table, in the order given (newest first from `History.list`)."""
    if not attempts:
        return "No attempts yet: `speechcoach analyze FILE` or `speechcoach record` saves one."
    rows = [
        ("ID", "When", "Score", "Length", "Pace", "Fill/min", "Parts", "Pitfalls", "Label", "File")
    ]
    for a in attempts:
        pace = (
            f"{a.chars_per_min:.0f} cpm"
            if _judged_in_chars(a) and a.chars_per_min
            else f"{a.wpm:.0f} wpm"
            if a.wpm
            else "-"
        )
        parts = f"{a.components_covered}/{a.components_total}" if a.components_total else "-"
        judged = metrics.DURATION.value(a.analysis)  # the speech, as the report judges it
        length = (
            f"{format_duration(judged)}/{format_duration(a.target_s)}"
            if judged is not None and a.target_s
            else "-"
        )
        rows.append(
            (
                f"#{a.id}",
                format_when(a.created_at),
                _or_dash(a.score),
                length,
                pace,
                "-" if a.fillers_per_min is None else f"{a.fillers_per_min:.1f}",
                parts,
                _or_dash(a.pitfalls),
                a.label or "",
                a.name,
            )
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


# ----------------------------------------------------------------------------------- progress
@dataclass(frozen=True)
class Series:
    """One metric over the attempts (None where an attempt has no value), with its target band."""

    key: str
    title: str
    unit: str
    band: Band | None
    values: list[float | None]
    fmt: Callable[[float], str]

    def to_dict(self) -> dict:
        band = _band_dict(self.band)
        return {
            "key": self.key,
            "title": self.title,
            "unit": self.unit,
            "band": band,
            "values": self.values,
        }

    @property
    def axis_label(self) -> str:
        """The y label: the unit and the target band it is judged against."""
        if self.band is None:
            return f"{self.title} ({self.unit})"
        return f"{self.title} ({self.unit})\ntarget {_band_text(self.band)}"


@dataclass(frozen=True)
class Progress:
    attempts: list[Attempt]  # oldest first
    series: list[Series]
    language: str = languages.FALLBACK  # the newest attempt's feedback language: the terminal's

    @property
    def best(self) -> Attempt | None:
        """The personal best by score (the earliest, on a tie)."""
        scored = [a for a in self.attempts if a.score is not None]
        return max(scored, key=lambda a: (a.score, -a.id), default=None)

    def to_dict(self) -> dict:
        best = self.best
        return {
            "attempts": [
                {"id": a.id, "created_at": a.created_at, "label": a.label, "file": a.audio_path}
                for a in self.attempts
            ],
            "series": [s.to_dict() for s in self.series],
            "best": None if best is None else {"id": best.id, "score": best.score},
        }


_PROGRESS_METRICS = ("score", "pace", "fillers", "duration", "components")


def progress(attempts: list[Attempt], targets: Targets | None = None) -> Progress:
    """The trend of score, pace, fillers per minute, duration and parts covered, oldest first.

    Bands come from `targets` (duration: the newest attempt's target; pace: characters per minute
    when the newest attempt's pace was judged in characters, words per minute otherwise).
    """
    targets = targets or Targets()
    latest = attempts[-1] if attempts else None
    metrics = {m.key: m for m in _metrics()}
    series = []
    for key in _PROGRESS_METRICS:
        metric = metrics[key]
        values = [metric.value(a) for a in attempts]
        if key == "pace":  # one unit per chart: leave out attempts in the other unit
            values = [
                v if _judged_in_chars(a) == _judged_in_chars(latest) else None
                for v, a in zip(values, attempts, strict=True)
            ]
        unit = (
            ("chars/min" if _judged_in_chars(latest) else "words/min")
            if key == "pace"
            else metric.unit
        )
        series.append(
            Series(key, metric.title, unit, _band(key, latest, targets), values, metric.fmt)
        )
        if key == "pace":  # ... and those in the other unit get their own chart, not a gap
            other = [
                metric.value(a) if _judged_in_chars(a) != _judged_in_chars(latest) else None
                for a in attempts
            ]
            first = next(
                (a for a in attempts if _judged_in_chars(a) != _judged_in_chars(latest)), None
            )
            if first is not None and any(v is not None for v in other):
                other_unit = "chars/min" if _judged_in_chars(first) else "words/min"
                series.append(
                    Series(
                        "pace_other",
                        metric.title,
                        other_unit,
                        _band(key, first, targets),
                        other,
                        metric.fmt,
                    )
                )
    language = _feedback_language(latest) if latest is not None else languages.FALLBACK
    return Progress(list(attempts), series, language)


def _feedback_language(a: Attempt) -> str:
    """The language an attempt's feedback was given in, read from its stored JSON (an attempt
    that fails `from_json` is still charted, so not from `Attempt.result`)."""
    stored = a.analysis.get("feedback_language")
    if isinstance(stored, str) and stored:
        return stored
    judgements = a.analysis.get("judgements")
    return judged_language(a.language, judgements if isinstance(judgements, dict) else {})


def _progress_texts(language: str) -> dict:
    """The progress chart's texts in `language` (report.json "progress", English for any key the
    language lacks), with the metrics' names and units of the comparison, and the words of the
    stored (English) band sources (the report's "band_text")."""
    from .report import report_labels, report_texts

    compare = _compare_texts(language)
    texts = {
        **report_texts(languages.FALLBACK)["progress"],
        **report_texts(language).get("progress", {}),
    }
    texts["units"] = {**compare["table"]["units"], **texts.get("units", {})}
    texts["metrics"] = compare["metrics"]
    texts["sources"] = report_labels(language).get("band_text") or {}
    return texts


def render_progress(p: Progress) -> str:
    """A small chart per metric for the terminal (plain ASCII: `o` an attempt, `:` the target
    band), in the newest attempt's feedback language, as `compare` speaks the newer one's."""
    if not p.attempts:
        return "No attempts yet: `speechcoach analyze FILE` or `speechcoach record` saves one."
    texts = _progress_texts(p.language)
    shown = p.attempts[-CHART_MAX_ATTEMPTS:]
    skip = len(p.attempts) - len(shown)
    n = len(p.attempts)
    lines = [
        texts["heading_one" if n == 1 else "heading"].format(n=n)
        + (texts["last"].format(n=len(shown)) if skip else "")
    ]
    best = p.best
    if best is not None:
        when = format_when(best.created_at)
        lines.append(texts["best"].format(score=best.score, id=best.id, when=when))
    for s in p.series:
        lines += ["", _series_heading(s, texts)]
        lines += _chart(s.values[skip:], s.band, s.fmt, texts)
        lines.append(" " * 10 + "".join(f"#{a.id}".center(CHART_COLUMN) for a in shown))
        lines.append(_trend(s, p.attempts, texts))
    return "\n".join(lines)


def _series_heading(s: Series, texts: dict) -> str:
    """ "Pace (words/min) - target 120-160 words/min (Street & Brady 1982; practice tools)"."""
    units = texts["units"]
    title = texts["metrics"].get(s.key.removesuffix("_other")) or s.title
    heading = texts["series"].format(title=title, unit=units.get(s.unit, s.unit))
    if s.band is None:
        return heading
    source = s.band.source
    for english, own in texts["sources"].items():  # longest first, as the report does
        source = source.replace(english, own)
    return heading + texts["target"].format(band=_band_text(s.band, units=units), source=source)


def _trend(s: Series, attempts: list[Attempt], texts: dict) -> str:
    known = [(a, v) for a, v in zip(attempts, s.values, strict=True) if v is not None]
    if len(known) < 2:
        return "  " + texts["needs_two"]
    (first, v0), (last, v1) = known[0], known[-1]
    trend = texts["trend"].format(a=first.id, b=last.id, before=s.fmt(v0), after=s.fmt(v1))
    return "  " + trend


def _chart(
    values: list[float | None], band: Band | None, fmt: Callable[[float], str], texts: dict
) -> list[str]:
    known = [v for v in values if v is not None]
    if not known:
        return ["  " + texts["no_values"]]
    edges = [band.low, band.high] if band is not None else []
    low, high = min(known + edges), max(known + edges)
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    step = (high - low) / (CHART_ROWS - 1)

    def row_of(value: float) -> int:
        return int(round((value - low) / step))

    band_rows = range(row_of(band.low), row_of(band.high) + 1) if band is not None else range(0)
    labelled = {0: low, CHART_ROWS - 1: high}
    if band is not None:
        labelled.update({row_of(band.low): band.low, row_of(band.high): band.high})
    lines = []
    for row in reversed(range(CHART_ROWS)):
        label = fmt(labelled[row]) if row in labelled else ""
        cells = "".join(
            (
                "o" if v is not None and row_of(v) == row else ":" if row in band_rows else " "
            ).center(CHART_COLUMN)
            for v in values
        )
        lines.append(f"{label:>8} |{cells}".rstrip())
    lines.append(" " * 8 + " +" + "-" * (CHART_COLUMN * len(values)))
    return lines


def check_plot_path(path: str | Path) -> str:
    """The chart format its file name asks for (png, pdf, svg...), or SpeechcoachError naming the
    ones matplotlib writes. No suffix is refused too: matplotlib would add ".png" to the name."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    formats = FigureCanvasAgg.get_supported_filetypes()
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in formats:
        given = f'"{Path(path).suffix}" is not a chart format' if suffix else "has no suffix"
        raise SpeechcoachError(
            f"--plot {path} {given}; end the name with one of: {', '.join(sorted(formats))} "
            "(e.g. progress.png)"
        )
    folder = Path(path).parent
    if not folder.is_dir():
        raise SpeechcoachError(
            f"--plot {path}: the folder {folder} does not exist; create it or choose another path"
        )
    if Path(path).is_dir():
        raise SpeechcoachError(f"--plot {path} is a folder; give a file name, e.g. progress.png")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SpeechcoachError(f"--plot {path}: cannot write in {folder} (permission denied)")
    return suffix


def plot_progress(p: Progress, path: str | Path) -> Path:
    """Write the progress chart (PNG, or the format the suffix names): one panel per metric, the
    target band shaded and named on the y axis, in the newest attempt's feedback language as the
    terminal chart (English, with a warning, where no installed font has that language's glyphs).
    matplotlib is imported here only (Agg, no display)."""
    path = Path(path)
    chart_format = check_plot_path(path)
    fig = progress_figure(p)
    try:
        fig.savefig(path, dpi=PLOT_DPI, format=chart_format)
    except OSError as exc:
        raise SpeechcoachError(
            f"cannot write the chart to {path} ({exc}); choose a writable path with --plot"
        ) from exc
    log.info("progress chart written to %s", path)
    return path


def progress_figure(p: Progress):
    """The chart `plot_progress` writes, as a matplotlib Figure (Agg canvas)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    texts, family = _plot_texts(p.language)
    fonts = {"font.family": [family, *matplotlib.rcParams["font.family"]]} if family else {}
    with matplotlib.rc_context(fonts):  # a Text takes its font when it is made
        fig = Figure(
            figsize=(PLOT_WIDTH_IN, PLOT_ROW_HEIGHT_IN * len(p.series)), layout="constrained"
        )
        FigureCanvasAgg(fig)
        axes = fig.subplots(len(p.series), 1, sharex=True, squeeze=False)[:, 0]
        xs = list(range(len(p.attempts)))
        for ax, s in zip(axes, p.series, strict=False):
            _plot_series(ax, s, xs, texts)
        axes[-1].set_xticks(xs, [_tick(a) for a in p.attempts], fontsize="small")
        axes[-1].set_xlabel(texts["plot_x"])
        n = len(p.attempts)
        fig.suptitle(texts["plot_title_one" if n == 1 else "plot_title"].format(n=n))
    return fig


def _plot_series(ax, s: Series, xs: list[int], texts: dict) -> None:
    """One panel: the values, the target band, and the axis named in the chart's language."""
    from matplotlib.ticker import FuncFormatter

    points = [(x, v) for x, v in zip(xs, s.values, strict=True) if v is not None]
    if points:
        ax.plot([x for x, _ in points], [v for _, v in points], marker="o", color="tab:blue")
    units = texts["units"]
    title = texts["metrics"].get(s.key.removesuffix("_other")) or s.title
    label = texts["plot_axis"].format(title=title, unit=units.get(s.unit, s.unit))
    if s.band is not None:
        target = texts["plot_target"].format(band=_band_text(s.band, units=units))
        ax.axhspan(s.band.low, s.band.high, color="tab:green", alpha=0.15, label=target)
        ax.axhline(s.band.low, color="tab:green", linewidth=0.8, linestyle="--")
        ax.axhline(s.band.high, color="tab:green", linewidth=0.8, linestyle="--")
        label += "\n" + target
    if s.key == "score":
        ax.set_ylim(*SCORE_RANGE)
        # the report's verdict bands: 85+ ready, 65+ a good base
        ax.axhspan(85, SCORE_RANGE[1], color="tab:green", alpha=0.12)
        ax.axhspan(65, 85, color="tab:olive", alpha=0.10)
        on_axis = ax.get_yaxis_transform()
        ax.text(0.005, 92, texts["plot_ready"], transform=on_axis, fontsize="x-small")
        ax.text(0.005, 72, texts["plot_good_base"], transform=on_axis, fontsize="x-small")
    if s.key == "components" and s.band is not None:
        ax.set_ylim(-0.3, s.band.high + 0.3)
        ax.set_yticks(range(int(s.band.high) + 1))
    if s.key == "duration":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: format_duration(value)))
    ax.set_ylabel(label, fontsize="small")
    ax.grid(True, alpha=0.3)


PLOT_TEXT_KEYS = ("plot_title", "plot_axis", "plot_target", "plot_x", "plot_ready")


def _plot_texts(language: str) -> tuple[dict, str | None]:
    """The chart's texts in `language` and the font family that has their glyphs (None: the
    default font does). A language whose fonts are all missing is charted in English, with a
    warning: matplotlib would draw its characters as empty boxes."""
    texts = _progress_texts(language)
    families = texts.get("plot_fonts") or []
    if not families:
        return texts, None
    strings = [texts[k] for k in (*PLOT_TEXT_KEYS, "plot_good_base")]
    strings += [*texts["metrics"].values(), *texts["units"].values()]
    wanted = {c for c in "".join(strings) if ord(c) > 0x7F}
    family = next((f for f in families if _font_has(f, wanted)), None)
    if family is None:
        log.warning(
            "no installed font draws %s text (tried %s; e.g. install fonts-noto-cjk): "
            "the progress chart is labelled in English",
            language,
            ", ".join(families),
        )
        return _progress_texts(languages.FALLBACK), None
    return texts, family


def _font_has(family: str, chars: set[str]) -> bool:
    """Whether the font `family` is installed and has a glyph for every one of `chars`. A font
    installed after matplotlib built its font cache is not in it: the system fonts are read."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    try:
        path = font_manager.findfont(
            font_manager.FontProperties(family=family), fallback_to_default=False
        )
    except ValueError:
        files = [f for f in _system_fonts() if _family_of(f) == family]
        if not files:
            return False
        for file in files:  # every weight: a Bold file alone would draw all of it bold
            font_manager.fontManager.addfont(file)
        path = font_manager.findfont(font_manager.FontProperties(family=family))
    font = FT2Font(path)
    return all(font.get_char_index(ord(c)) for c in chars)


@functools.cache
def _system_fonts() -> tuple[str, ...]:
    from matplotlib import font_manager

    return tuple(font_manager.findSystemFonts())


def _family_of(path: str) -> str | None:
    from matplotlib.ft2font import FT2Font

    try:
        return FT2Font(path).family_name
    except (OSError, RuntimeError):  # a file FreeType cannot read is no candidate
        return None


def _tick(a: Attempt) -> str:
    """ "#3", the local date it was saved, and its label."""
    label = f"\n{a.label}" if a.label else ""
    return f"#{a.id}\n{format_when(a.created_at)[:10]}{label}"


def _band_dict(band) -> dict | None:
    """A target band as the JSON of compare and progress."""
    if band is None:
        return None
    return {"low": band.low, "high": band.high, "unit": band.unit, "source": band.source}
