"""What the pages show, computed from the stored analysis dict (the `analyze --json` object that
`History` keeps): the report's sentences with their marks, the delivery rows, the SVG timeline
and the progress charts. Pure functions, no web framework: the self-contained HTML report
(`render.render_report_html`) and the server render the same view.

Every text here is plain; Jinja2's autoescaping escapes it in the page. The SVG is built here,
so every text put into it goes through `markupsafe.escape`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from .. import languages, metrics
from ..bands import current_band
from ..config import Targets, format_duration
from ..report import component_titles, feedback_language, report_texts
from ..types import ACOUSTIC

if TYPE_CHECKING:
    from ..result import AnalysisResult

DEFAULT_LANGUAGE = languages.FALLBACK
# The page's languages: one labels/<lang>.json each (a new one is a file, no code).
UI_LANGUAGES = tuple(
    sorted(
        p.name.removesuffix(".json")
        for p in resources.files(__package__).joinpath("labels").iterdir()
        if p.name.endswith(".json")
    )
)
# A sentence carries a component's evidence, or a pitfall, when their start times agree this
# closely (the analysis stores both from the same sentence, rounded to 10 ms).
SAME_START_S = 0.3
PLAY_FALLBACK_S = 6.0  # a tip whose sentence cannot be found plays this long
PACE_WINDOW_S = 30.0
COMPONENT_ORDER = ("japan", "career_change", "project", "plan")
SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")
_BAND_EDGES = re.compile(r"^\s*(-?[\d.]+)-(-?[\d.]+)\s+(.+?)\s*$")
_BAND = re.compile(r"^\s*(-?[\d.]+)-(-?[\d.]+)\s+(.+?)(?:\s+\((.*)\))?\s*$")
# Timeline geometry (SVG user units; the SVG scales to the page width).
SVG_W, SVG_LEFT, SVG_RIGHT = 960, 78, 12
ROW_PARTS, ROW_PARTS_H = 14, 26
ROW_PACE, ROW_PACE_H = 62, 90
ROW_MARKS = 172
SVG_H = 222
CHART_W, CHART_H, CHART_LEFT, CHART_PAD = 460, 190, 62, 18
CHART_LABEL_GAP = 16  # user units between two y-axis labels
CHART_X_LABEL_W = 36  # user units an x label ("#123") needs


@cache
def labels(language: str) -> dict[str, str]:
    """The page words for `language` (labels/<language>.json), English for any key it lacks."""
    base = _read_labels(DEFAULT_LANGUAGE)
    if language == DEFAULT_LANGUAGE or language not in UI_LANGUAGES:
        return base
    return {**base, **_read_labels(language)}


def _read_labels(language: str) -> dict[str, str]:
    text = resources.files(__package__).joinpath(f"labels/{language}.json").read_text("utf-8")
    return {k: v for k, v in json.loads(text).items() if not k.startswith("_")}


def ui_language(requested: str | None) -> str:
    return requested if requested in UI_LANGUAGES else DEFAULT_LANGUAGE


def report_language(d: dict) -> str:
    """The language of a report's page: the language its feedback was given in, if the pages
    have labels for it (a Japanese intro is shown in Japanese, labels included)."""
    return ui_language(d.get("feedback_language") or feedback_language(d))


def fmt(template: str, **values) -> str:
    return template.format(**values)


def number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


# ------------------------------------------------------------------------------- sentences
@dataclass
class Piece:
    text: str
    filler: bool = False


@dataclass
class SentenceView:
    index: int
    start: float
    end: float
    text: str
    pieces: list[Piece]
    components: list[str] = field(default_factory=list)  # component titles
    component_ids: list[str] = field(default_factory=list)
    pitfalls: list[str] = field(default_factory=list)  # pitfall titles
    pause_after: float | None = None  # a long pause right after this sentence, seconds

    @property
    def clock(self) -> str:
        return format_duration(self.start)


def stored_sentences(d: dict) -> list[dict]:
    """The timed sentences of an analysis. Analyses stored before `sentences` was part of the
    JSON have only Whisper's segments: those are split at sentence punctuation, each piece
    timed in proportion to its length within the segment (an estimate, only for old attempts)."""
    if isinstance(d.get("sentences"), list) and d["sentences"]:
        return d["sentences"]
    out = []
    for seg in (d.get("transcript") or {}).get("segments") or []:
        text = (seg.get("text") or "").strip()
        parts = [p for p in SENTENCE_END.split(text) if p.strip()] or ([text] if text else [])
        start, end = float(seg.get("start") or 0), float(seg.get("end") or 0)
        total = sum(len(p) for p in parts) or 1
        at = start
        for part in parts:
            length = (end - start) * len(part) / total
            out.append({"start": round(at, 2), "end": round(at + length, 2), "text": part.strip()})
            at += length
    return out


def sentence_views(d: dict, language: str) -> list[SentenceView]:
    titles = component_titles(language)
    pitfall_names = pitfall_titles(language)
    raw = stored_sentences(d)
    views = []
    fillers = list((d.get("fillers") or {}).get("items") or [])
    long_pauses = list((d.get("pauses") or {}).get("long") or [])
    for i, s in enumerate(raw):
        start, end = float(s.get("start") or 0), float(s.get("end") or 0)
        text = s.get("text") or ""
        next_start = float(raw[i + 1]["start"]) if i + 1 < len(raw) else float("inf")
        view = SentenceView(i, start, end, text, _pieces(text, fillers, start, end))
        for cid, comp in (d.get("components") or {}).items():
            if any(_same(ev, start, text) for ev in comp.get("evidence") or []):
                view.component_ids.append(cid)
                view.components.append(titles.get(cid, cid))
        for hit in d.get("pitfalls") or []:
            # A pitfall is timed at its trigger words; its sentence is found by sentence_start.
            at = {"text": hit.get("text"), "start": hit.get("sentence_start", hit.get("start"))}
            if _same(at, start, text):
                name = pitfall_names.get(hit.get("id"), hit.get("id") or "")
                if name not in view.pitfalls:
                    view.pitfalls.append(name)
        for pause in long_pauses:
            if end - SAME_START_S <= float(pause.get("start") or -1) < next_start:
                view.pause_after = float(pause.get("duration") or 0)
        views.append(view)
    return views


def _same(item: dict, start: float, text: str) -> bool:
    return item.get("text") == text or abs(float(item.get("start") or -99) - start) < SAME_START_S


def _pieces(text: str, fillers: list[dict], start: float, end: float) -> list[Piece]:
    """The sentence split into plain text and the fillers heard in it (marked in the page)."""
    mine = [f["text"] for f in fillers if start - 0.1 <= float(f.get("start") or -1) <= end + 0.1]
    pieces, rest = [], text
    for word in mine:
        match = re.search(
            rf"(?<![\w]){re.escape(word)}(?![\w])" if word.isascii() else re.escape(word),
            rest,
            re.IGNORECASE,
        )
        if not match:
            continue
        if match.start():
            pieces.append(Piece(rest[: match.start()]))
        pieces.append(Piece(match.group(0), filler=True))
        rest = rest[match.end() :]
    if rest:
        pieces.append(Piece(rest))
    return pieces


@cache
def pitfall_titles(language: str) -> dict[str, str]:
    """Pitfall id -> title, from the language's rubric (English ids where it has none)."""
    for lang in dict.fromkeys((language, DEFAULT_LANGUAGE)):
        rubric = languages.get(lang).data("components.json")
        if rubric is None:
            continue
        return {p["id"]: p.get("title", p["id"]) for p in rubric.get("pitfalls", [])}
    return {}


# --------------------------------------------------------------------------------- report
@dataclass
class TipView:
    number: int
    message: str
    start: float | None
    end: float | None
    sentence: str | None
    say_instead: str | None

    @property
    def clock(self) -> str | None:
        return None if self.start is None else format_duration(self.start)


@dataclass
class Row:
    label: str
    value: str
    band: str
    verdict: str  # ok / low / high / unknown / "" (not judged)
    verdict_text: str
    note: str = ""


HISTORY_KEYS = ("attempt_id", "label", "created_at")


def normalized(record: dict) -> dict:
    """The record as this version writes it (`result.from_json`: validated, an older record
    upgraded: feedback language, pace, component titles), with its history keys kept. A record
    that does not validate is shown as stored rather than not at all."""
    return _normalized(record, _typed(record))


def _typed(record: dict) -> AnalysisResult | None:
    """The typed record (history keys left out), or None when it does not validate."""
    from ..result import ResultError, from_json

    try:
        return from_json({k: v for k, v in record.items() if k not in HISTORY_KEYS})
    except ResultError:
        return None


def _normalized(record: dict, typed: AnalysisResult | None) -> dict:
    if typed is None:
        return record
    return {**typed.to_json(), **{k: record[k] for k in HISTORY_KEYS if k in record}}


def _verdict(d: dict, typed: AnalysisResult | None, language: str) -> str:
    """The line under the score: the terminal report's (report.verdict: the length first, then
    the missing or thin parts, then the score band), so the page never says "start from the
    outline" for a complete but short introduction the terminal calls too short. A record that
    does not validate gets its score band."""
    from ..report import report_labels
    from ..report import verdict as report_verdict

    texts = report_texts(language)
    if typed is not None:
        return report_verdict(typed, texts, report_labels(language))
    basis = d.get("score_basis") or "content and delivery"
    if basis != "content and delivery":
        return basis
    bands = sorted(texts["verdicts"], key=lambda v: -v["min_score"])
    return next(v["text"] for v in bands if d.get("score", 0) >= v["min_score"])


def subpoint_names(language: str) -> dict[str, dict[str, str]]:
    """component id -> sub-point id -> its name, from languages/<lang>/checks.json."""
    from .. import languages

    for code in dict.fromkeys((language, DEFAULT_LANGUAGE)):
        data = languages.get(code).data("checks.json")
        if data:
            return {
                cid: {sp["id"]: sp.get("name", sp["id"]) for sp in c.get("subpoints", [])}
                for cid, c in (data.get("components") or {}).items()
            }
    return {}


def report_view(record: dict) -> dict:
    """Everything the report template shows, for one stored analysis (plus `attempt_id`,
    `label`, `created_at` when it comes from the history)."""
    typed = _typed(record)  # validated once: the page's JSON and its verdict
    d = _normalized(record, typed)
    language = report_language(d)
    L = labels(language)
    texts_language = language if language == feedback_language(d) else DEFAULT_LANGUAGE
    texts = report_texts(texts_language)
    basis = d.get("score_basis") or "content and delivery"
    verdict = _verdict(d, typed, texts_language)
    sentences = sentence_views(d, language)
    titles = component_titles(language)
    names = subpoint_names(language)
    return {
        "L": L,
        "lang": language,
        "d": d,
        "attempt_id": d.get("attempt_id"),
        "label": d.get("label"),
        "file_name": _file_name(d.get("file") or ""),
        "duration": format_duration(metrics.DURATION.value(d) or 0),  # judged: the speech
        "target": format_duration(d.get("target_s") or 0),
        "score": d.get("score"),
        "score_class": _score_class(d.get("score") or 0),
        "verdict": verdict,
        "basis": basis,
        "tips": _tips(d, sentences),
        "nothing_urgent": texts.get("nothing_urgent") or L["nothing_urgent"],
        "sentences": sentences,
        "components": [
            {
                "id": cid,
                "title": comp.get("title") or titles.get(cid, cid),
                "covered": bool(comp.get("covered")),
                "seconds": comp.get("seconds") or 0,
                "evidence": comp.get("evidence") or [],
                "strength": comp.get("strength"),
                "checks": [
                    {
                        "name": names.get(cid, {}).get(sid, sid),
                        "present": bool(check.get("present")),
                    }
                    for sid, check in (comp.get("checks") or {}).items()
                ],
                "denied_by": comp.get("denied_by"),
            }
            for cid, comp in (d.get("components") or {}).items()
        ],
        "order": d.get("order") or {},
        "order_titles": [titles.get(c, c) for c in (d.get("order") or {}).get("sequence") or []],
        "pitfalls": [
            {
                "title": pitfall_titles(language).get(h.get("id"), h.get("id")),
                "text": h.get("text") or "",
                "start": float(h.get("start") or 0),
                "clock": format_duration(float(h.get("start") or 0)),
            }
            for h in d.get("pitfalls") or []
        ],
        "rows": delivery_rows(d, L, L),
        "timeline": timeline_svg(d, sentences, L, titles),
        "engine": f"{d.get('engine') or ''} {d.get('model') or ''}".strip(),
    }


def _file_name(path: str) -> str:
    return re.split(r"[\\/]", path)[-1]


def _score_class(score: int) -> str:
    return "good" if score >= 65 else "mid" if score >= 40 else "weak"


def _tips(d: dict, sentences: list[SentenceView]) -> list[TipView]:
    out = []
    for n, tip in enumerate((d.get("tips") or [])[:3], 1):
        start = tip.get("start")
        end = None
        if start is not None:
            start = float(start)
            # The sentence that holds the tip's time (a pitfall's is inside its sentence).
            match = next((s for s in sentences if s.start - SAME_START_S < start < s.end), None)
            end = match.end if match else start + PLAY_FALLBACK_S
        out.append(
            TipView(n, tip["message"], start, end, tip.get("sentence"), tip.get("say_instead"))
        )
    return out


def _band_units() -> tuple[str, ...]:
    """The units of the reference bands (metrics.py's, in the English the record stores them
    in), longest first, so "per 100 words" is not read as a shorter one."""
    targets = Targets()
    units = {m.band_of(targets).unit for m in metrics.DELIVERY if m is not metrics.DURATION}
    return tuple(sorted(units, key=len, reverse=True))


BAND_UNITS = _band_units()


def band_text(band: str | None, L: dict, *, seconds: bool = False) -> str:
    """A stored band ("120-160 words/min (Street & Brady 1982)") for the page: durations as m:ss,
    the unit and the source in the page's language where it has words for them (its labels'
    band_units, band_words and sources)."""
    if not band:
        return ""
    match = _BAND_EDGES.match(current_band(band))
    if not match:
        return band
    low, high, rest = match.groups()
    unit = next((u for u in BAND_UNITS if rest.startswith(u)), "")
    if not unit:
        unit = rest.split(" (", 1)[0]
    source = rest[len(unit) :].strip()
    if source.startswith("(") and source.endswith(")"):
        source = source[1:-1]
    if seconds:
        low, high, unit = format_duration(float(low)), format_duration(float(high)), ""
        for english, own in (L.get("band_words") or {}).items():  # "target 3:00 +-15%"
            source = source.replace(english, own)
    else:
        unit = (L.get("band_units") or {}).get(unit, unit)
    source = (L.get("sources") or {}).get(source, source)
    text = f"{low}{L.get('range_dash', '–')}{high} {unit}".strip()
    if source:
        text += L.get("band_source", " ({source})").format(source=source)
    return text


def delivery_rows(d: dict, L: dict, language: str) -> list[Row]:
    j, bands = d.get("judgements") or {}, d.get("bands") or {}

    def judged(key: str) -> tuple[str, str]:
        verdict = j.get(key)
        if verdict is None:
            return "", ""
        return verdict, L.get(f"j_{verdict}", verdict)

    rows = [
        Row(
            L["m_duration"],
            fmt(
                L["duration_value"],
                speech=format_duration(metrics.DURATION.value(d) or 0),
                recording=format_duration(d.get("duration_s") or 0),
            ),
            band_text(bands.get("duration"), L, seconds=True),
            *judged("duration"),
        )
    ]
    if d.get("wpm") is not None:
        rows.append(
            Row(
                L["m_pace"],
                f"{number(d['wpm'])} {L['u_wpm']}",
                band_text(bands.get("wpm"), L),
                *judged("wpm"),
            )
        )
        if d.get("articulation_wpm") is not None:
            rows.append(
                Row(
                    L["m_articulation"], f"{number(d['articulation_wpm'])} {L['u_wpm']}", "", "", ""
                )
            )
    if d.get("chars_per_min") is not None:
        rows.append(
            Row(
                L["m_chars"],
                f"{number(d['chars_per_min'])} {L['u_cpm']}",
                band_text(bands.get("chars_per_min"), L),
                *judged("chars_per_min"),
            )
        )
    if d.get("morae_per_min") is not None:
        rows.append(
            Row(
                L["m_morae"],
                f"{number(d['morae_per_min'])} {L['u_mpm']}",
                band_text(bands.get("morae_per_min"), L),
                *judged("morae_per_min"),
            )
        )
    windows = [w for w in d.get("pace_windows") or [] if w.get("rate", w.get("wpm")) is not None]
    if len(windows) > 1:
        unit = L["u_cpm"] if (windows[0].get("unit") or "").startswith("chars") else L["u_wpm"]
        rows.append(
            Row(
                L["m_pace_windows"],
                " · ".join(number(w.get("rate", w.get("wpm"))) for w in windows) + f" {unit}",
                "",
                "",
                "",
            )
        )
    p = d.get("pauses") or {}
    value = fmt(L["pauses_value"], count=p.get("count", 0), long=p.get("long_count", 0))
    if p.get("longest_at") is not None:
        value += ", " + fmt(
            L["pauses_longest"],
            seconds=number(p.get("longest_s"), 1),
            time=format_duration(p["longest_at"]),
        )
    rows.append(
        Row(
            L["m_pauses"],
            value,
            fmt(
                L["pauses_band"],
                min=f"{p.get('min_pause_s', 0):g}",
                long=f"{p.get('long_pause_s', 0):g}",
            ),
            "",
            "",
        )
    )
    f = d.get("fillers") or {}
    if j.get("fillers") == "unknown" or f.get("count") is None:
        rows.append(Row(L["m_fillers"], L["not_counted"], "", "unknown", L["j_unknown"]))
    else:
        if f.get("per_100_words") is not None:
            value = fmt(L["fillers_value"], count=f["count"], rate=number(f["per_100_words"], 1))
        else:
            value = fmt(L["fillers_value_min"], count=f["count"], rate=number(f.get("per_min"), 1))
        kinds = _counts(
            L["held_filler"] if i.get("how") == ACOUSTIC else i.get("text")
            for i in f.get("items") or []
        )
        rows.append(
            Row(
                L["m_fillers"],
                value + (f": {kinds}" if kinds else ""),
                band_text(bands.get("fillers"), L),
                *judged("fillers"),
                note=L["fillers_lower_bound"],
            )
        )
    pitch = (d.get("pitch") or {}).get("spread_semitones")
    if pitch is not None:
        rows.append(
            Row(
                L["m_pitch"],
                f"{number(pitch, 1)} {L['u_semitones']}",
                band_text(bands.get("pitch"), L),
                *judged("pitch"),
            )
        )
    loud = (d.get("loudness") or {}).get("spread_db")
    if loud is not None:
        rows.append(
            Row(
                L["m_loudness"],
                f"{number(loud, 1)} {L['u_db']}",
                band_text(bands.get("loudness"), L),
                *judged("loudness"),
            )
        )
    return rows


def _counts(items) -> str:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return ", ".join(f"{k} ×{v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


# -------------------------------------------------------------------------------- timeline
def timeline_svg(d: dict, sentences: list[SentenceView], L: dict, titles: dict) -> Markup:
    """The recording over time, drawn on the server: the parts of the outline (one lane), the
    pace per 30-second window against the target band, long pauses and pitfalls. Every shape
    has a <title> (the tooltip and what a screen reader reads) and the lanes are labelled."""
    duration = max(float(d.get("duration_s") or 0), 1.0)
    width = SVG_W - SVG_LEFT - SVG_RIGHT

    def x(t: float) -> float:
        return round(SVG_LEFT + width * max(0.0, min(t, duration)) / duration, 1)

    out = [
        f'<svg class="timeline" viewBox="0 0 {SVG_W} {SVG_H}" role="img" '
        f'aria-labelledby="tl-title tl-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="tl-title">{escape(L["timeline"])}</title>',
        f'<desc id="tl-desc">{escape(L["timeline_desc"])}</desc>',
    ]
    # Lane labels.
    for y, key in (
        (ROW_PARTS + ROW_PARTS_H / 2, "timeline_parts"),
        (ROW_PACE + ROW_PACE_H / 2, "timeline_pace"),
        (ROW_MARKS + 10, "timeline_pauses"),
    ):
        out.append(f'<text class="lane" x="4" y="{y + 4:.0f}">{escape(L[key])}</text>')
    out.append(
        f'<text class="lane pitfall-lane" x="4" y="{ROW_MARKS + 28}">'
        f"{escape(L['timeline_pitfalls'])}</text>"
    )
    # Parts: one rectangle per evidence sentence, coloured by component, named inside.
    for cid, comp in (d.get("components") or {}).items():
        for ev in comp.get("evidence") or []:
            x0, x1 = x(float(ev.get("start") or 0)), x(float(ev.get("end") or 0))
            name = titles.get(cid, cid)
            tip = f"{name} {format_duration(float(ev.get('start') or 0))}: {ev.get('text', '')}"
            out.append(
                f'<rect class="part c-{escape(cid)}" data-start="{float(ev.get("start") or 0)}" '
                f'data-end="{float(ev.get("end") or 0)}" x="{x0}" y="{ROW_PARTS}" '
                f'width="{max(x1 - x0, 2):.1f}" '
                f'height="{ROW_PARTS_H}"><title>{escape(tip)}</title></rect>'
            )
            if x1 - x0 > 8 * len(name) * (2 if not name.isascii() else 1) * 0.6:
                out.append(
                    f'<text class="part-label" x="{x0 + 4}" '
                    f'y="{ROW_PARTS + 17}">{escape(name)}</text>'
                )
    # Pace: the target band, then one bar per 30-second window.
    windows = [w for w in d.get("pace_windows") or [] if w.get("rate", w.get("wpm")) is not None]
    judged_chars = bool(windows) and (windows[0].get("unit") or "").startswith("chars")
    band_key = "chars_per_min" if judged_chars else "wpm"
    band = _BAND.match((d.get("bands") or {}).get(band_key) or "")
    low, high = (float(band.group(1)), float(band.group(2))) if band else (None, None)
    rates = [float(w.get("rate", w.get("wpm"))) for w in windows]
    floor = min(rates + [low if low is not None else min(rates, default=0)]) * 0.8
    ceiling = max(rates + [high or 0]) * 1.1 or 1.0
    if ceiling - floor < 1e-9:
        floor, ceiling = 0.0, ceiling + 1

    def y(rate: float) -> float:
        return round(ROW_PACE + ROW_PACE_H * (1 - (rate - floor) / (ceiling - floor)), 1)

    if low is not None:
        target = fmt(L["timeline_target"], low=f"{low:g}", high=f"{high:g}")
        out.append(
            f'<rect class="band" x="{SVG_LEFT}" y="{y(high)}" width="{width}" '
            f'height="{y(low) - y(high):.1f}"><title>{escape(target)}</title></rect>'
        )
        for edge in (low, high):
            out.append(
                f'<text class="axis" x="{SVG_LEFT - 4}" y="{y(edge) + 4}" '
                f'text-anchor="end">{edge:g}</text>'
            )
    unit = L["u_cpm"] if judged_chars else L["u_wpm"]
    # One level per 30-second window (a step line), so that the band stays visible behind it.
    for w, rate in zip(windows, rates, strict=True):
        x0, x1 = x(float(w.get("start") or 0)), x(float(w.get("end") or 0))
        state = "ok" if low is None or low <= rate <= high else "off"
        tip = f"{format_duration(w['start'])}–{format_duration(w['end'])}: {rate:.0f} {unit}"
        out.append(
            f'<rect class="pace {state}" x="{x0 + 1}" y="{y(rate) - 3}" '
            f'width="{max(x1 - x0 - 2, 1):.1f}" height="6"><title>{escape(tip)}</title></rect>'
            f'<text class="bar-label" x="{(x0 + x1) / 2:.1f}" y="{y(rate) - 7}" '
            f'text-anchor="middle">{rate:.0f} {escape(unit)}</text>'
        )
    # Long pauses (grey) and pitfalls (red triangles).
    for pause in (d.get("pauses") or {}).get("long") or []:
        x0, x1 = x(float(pause["start"])), x(float(pause["end"]))
        seconds = number(pause.get("duration"), 1)
        tip = f"{fmt(L['long_pause'], seconds=seconds)} @ {format_duration(pause['start'])}"
        out.append(
            f'<rect class="pause" x="{x0}" y="{ROW_MARKS}" width="{max(x1 - x0, 2):.1f}" '
            'height="14">'
            f"<title>{escape(tip)}</title></rect>"
        )
    names = pitfall_titles(L["lang"])
    for hit in d.get("pitfalls") or []:
        at = float(hit.get("start") or 0)
        cx = x(at)
        when = format_duration(at)
        name = names.get(hit.get("id"), hit.get("id"))
        tip = f"{L['pitfall']} {when}: {name}: {hit.get('text', '')}"
        out.append(
            f'<path class="pitfall-mark" data-start="{at}" d="M{cx} {ROW_MARKS + 16} l-7 12 h14 z">'
            f"<title>{escape(tip)}</title></path>"
        )
    # Time axis: a tick every 30 s (every minute past 5 minutes).
    step = PACE_WINDOW_S if duration <= 300 else 60.0
    t = 0.0
    while t <= duration + 0.01:
        out.append(
            f'<line class="tick" x1="{x(t)}" x2="{x(t)}" y1="{ROW_PARTS}" y2="{SVG_H - 14}"/>'
            f'<text class="axis" x="{x(t)}" y="{SVG_H - 2}" '
            f'text-anchor="middle">{format_duration(t)}</text>'
        )
        t += step
    out.append("</svg>")
    return Markup("".join(out))


# -------------------------------------------------------------------------------- progress
# progress.py's metric keys -> the page's word for them.
METRIC_LABELS = {
    "score": "col_score",
    "duration": "m_duration",
    "pace": "m_pace",
    "long_pauses": "m_long_pauses",
    "fillers": "m_fillers",
    "components": "col_parts",
}


def metric_title(key: str, fallback: str, L: dict) -> str:
    return L.get(METRIC_LABELS.get(key, ""), fallback)


def progress_charts(progress, L: dict) -> list[Markup]:
    """One small SVG line chart per progress series (oldest attempt left), the target band
    shaded, the personal best ringed on the score chart."""
    best = progress.best
    ids = [a.id for a in progress.attempts]
    charts = []
    for s in progress.series:
        known = [(i, v) for i, v in enumerate(s.values) if v is not None]
        band = s.band
        if not known:
            continue
        lows = [v for _, v in known] + ([band.low, band.high] if band else [])
        vmin, vmax = min(lows), max(lows)
        if s.key == "score":
            vmin, vmax = 0.0, 100.0
        if vmax - vmin < 1e-9:
            vmin, vmax = vmin - 1, vmax + 1
        inner_w = CHART_W - CHART_LEFT - CHART_PAD
        inner_h = CHART_H - 2 * CHART_PAD - 14
        n = max(len(ids) - 1, 1)

        def cx(i: int, inner_w=inner_w, n=n) -> float:
            return round(CHART_LEFT + inner_w * (i / n if len(ids) > 1 else 0.5), 1)

        def cy(v: float, vmin=vmin, vmax=vmax, inner_h=inner_h) -> float:
            return round(CHART_PAD + inner_h * (1 - (v - vmin) / (vmax - vmin)), 1)

        value_text = s.fmt
        band_words = _band_words(band, s.key, L) if band else ""
        unit = (L.get("band_units") or {}).get(s.unit, s.unit)
        title = fmt(L["chart_title"], title=metric_title(s.key, s.title, L), unit=unit)
        parts = [
            f'<svg class="chart" viewBox="0 0 {CHART_W} {CHART_H}" role="img" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
            f"<desc>{escape(fmt(L['chart_desc'], title=title, band=band_words))}</desc>"
        ]
        if band is not None:
            parts.append(
                f'<rect class="band" x="{CHART_LEFT}" y="{cy(min(band.high, vmax))}" '
                f'width="{inner_w}" '
                f'height="{max(cy(max(band.low, vmin)) - cy(min(band.high, vmax)), 1.5):.1f}"/>'
            )
        edges = [vmin, vmax]
        for v in (band.low, band.high) if band else ():
            if all(abs(cy(v) - cy(e)) >= CHART_LABEL_GAP for e in edges):
                edges.append(v)  # a band edge gets a label unless it would overlap another
        for v in edges:
            parts.append(
                f'<text class="axis" x="{CHART_LEFT - 4}" y="{cy(v) + 4}" '
                f'text-anchor="end">{escape(value_text(v))}</text>'
            )
        points = " ".join(f"{cx(i)},{cy(v)}" for i, v in known)
        parts.append(f'<polyline class="line" points="{points}"/>')
        for i, v in known:
            is_best = s.key == "score" and best is not None and ids[i] == best.id
            parts.append(
                f'<circle class="{"best" if is_best else "dot"}" cx="{cx(i)}" cy="{cy(v)}" '
                f'r="{6 if is_best else 4}">'
                f"<title>#{ids[i]}: {escape(value_text(v))}"
                f"{' (' + escape(L['best_marker']) + ')' if is_best else ''}</title></circle>"
            )
            if is_best:
                # Under the ring when it sits at the top (100 would run into "100" on the axis),
                # and starting at the ring on the first attempt (not over the y labels).
                y = cy(v) + 20 if cy(v) - 10 < CHART_PAD + CHART_LABEL_GAP else cy(v) - 10
                anchor = "start" if i == 0 else "middle"
                parts.append(
                    f'<text class="best-label" x="{cx(i)}" y="{y}" '
                    f'text-anchor="{anchor}">{escape(L["best_marker"])}</text>'
                )
        # Every k-th attempt's id, so that "#9#10#11#12" never run together.
        step = max(1, math.ceil(CHART_X_LABEL_W / max(cx(1) - cx(0), 1e-9))) if len(ids) > 1 else 1
        for i, attempt_id in enumerate(ids):
            if i % step:
                continue
            parts.append(
                f'<text class="axis" x="{cx(i)}" y="{CHART_H - 4}" '
                f'text-anchor="middle">#{attempt_id}</text>'
            )
        parts.append("</svg>")
        charts.append({"title": title, "band": band_words, "svg": Markup("".join(parts))})
    return charts


def _band_words(band, key: str, L: dict) -> str:
    """A target band of compare and progress, its unit in the page's language."""
    dash = L.get("range_dash", "–")
    if key == "components":  # every part of the outline: "4 of 4", 4要素中4
        return fmt(L["parts_band"], total=f"{band.high:g}")
    if band.unit == "s" or key == "duration":
        return f"{format_duration(band.low)}{dash}{format_duration(band.high)}"
    unit = (L.get("band_units") or {}).get(band.unit, band.unit)
    if band.low == band.high:
        return f"{band.low:g} {unit}"
    return f"{band.low:g}{dash}{band.high:g} {unit}"


__all__ = [
    "labels",
    "report_view",
    "progress_charts",
    "sentence_views",
    "stored_sentences",
    "timeline_svg",
    "band_text",
    "ui_language",
    "COMPONENT_ORDER",
]


def compare_view(comparison, language: str) -> dict:
    """The comparison page: `Comparison.to_dict()` plus the texts the terminal table shows and
    the titles of parts and pitfalls."""
    data = comparison.to_dict()
    titles = component_titles(language)
    pitfalls = pitfall_titles(language)
    L = labels(language)
    for row, change in zip(data["metrics"], comparison.changes, strict=True):
        row["title"] = metric_title(change.key, change.title, L)
        row["text_before"], row["text_after"] = change.text_before, change.text_after
        row["band_text"] = _band_words(change.band, change.key, L) if change.band else ""
        delta = change.delta
        if delta is None:
            row["change_text"] = ""
        elif change.key == "duration":
            row["change_text"] = ("+" if delta >= 0 else "-") + format_duration(abs(delta))
        else:
            row["change_text"] = f"{delta:+.1f}" if change.key == "fillers" else f"{delta:+.0f}"
    for key in ("gained", "lost"):
        data["components"][f"{key}_titles"] = [titles.get(c, c) for c in data["components"][key]]
    for key in ("fixed", "new", "still"):
        data["pitfalls"][f"{key}_titles"] = [pitfalls.get(p, p) for p in data["pitfalls"][key]]
    return data
