"""The terminal report, rendered from an analysis dict (`Analysis.to_dict()`), so a stored
attempt is shown exactly as a fresh one, without re-transcribing."""

from __future__ import annotations

import logging
import unicodedata
from functools import cache
from pathlib import Path

import click

from . import languages
from .config import format_duration
from .errors import SpeechcoachError
from .result import judged_language

log = logging.getLogger(__name__)

# The report's sentences (verdict lines) per language, in languages/<lang>/report.json; the
# table labels stay English. A language without a file reads English.
REPORT_FILE = "report.json"
EVIDENCE_CHARS = 70
TITLE_COLUMNS = 24  # terminal columns for a component title in the content table


def render_report(d: dict, *, color: bool = False, details: bool = True) -> str:
    """The full report for one analysis dict: verdict, three fixes, then the details.

    The verdict and the component titles are in the language the feedback was given in
    (`feedback_language`); the labels stay English.
    """
    style = _Style(color)
    language = feedback_language(d)
    texts = report_texts(language)
    basis = d.get("score_basis", "content and delivery")
    verdict = (
        _verdict(d["score"], texts) if basis == "content and delivery" else f"Score on {basis}."
    )
    lines = [_headline(d, style), "  " + verdict, ""]
    lines += _fixes(d, style, texts)
    if details:
        lines += ["", style.bold("Delivery")] + _delivery(d, style)
        lines += ["", style.bold("Content")] + _content(d, style, record_titles(d))
    return "\n".join(lines)


def feedback_language(d: dict) -> str:
    """The language of an analysis's feedback, as the analysis decided it (languages.py);
    `result.from_json` fills it in for records stored before it was recorded."""
    return d.get("feedback_language") or judged_language(
        d.get("language"), d.get("judgements") or {}
    )


@cache
def report_texts(language: str) -> dict:
    """The report's sentences for `language` (languages/<language>/report.json), else English."""
    for code in dict.fromkeys((language, languages.FALLBACK)):
        texts = languages.get(code).data(REPORT_FILE)
        if texts is not None:
            return texts
    raise SpeechcoachError(
        f"speechcoach/languages/{languages.FALLBACK}/{REPORT_FILE} is missing; "
        "reinstall speechcoach"
    )


def component_titles(language: str) -> dict[str, str]:
    """Component titles by id in `language` (its rubric's; English where it has none)."""
    return languages.component_titles(language)


def record_titles(d: dict) -> dict[str, str]:
    """Component titles by id, in the feedback language: those the record holds."""
    fallback = languages.component_titles(feedback_language(d))
    return {
        cid: (c.get("title") if isinstance(c, dict) else None) or fallback.get(cid, cid)
        for cid, c in (d.get("components") or {}).items()
    } | {cid: t for cid, t in fallback.items() if cid not in (d.get("components") or {})}


def render_error(d: dict) -> str:
    return f"{d['file']}: {d['error']}"


class _Style:
    def __init__(self, color: bool):
        self.color = color

    def bold(self, text: str) -> str:
        return click.style(text, bold=True) if self.color else text

    def verdict(self, text: str, verdict: str) -> str:
        colors = {
            "ok": "green",
            "low": "yellow",
            "high": "yellow",
            "unknown": None,
            True: "green",
            False: "red",
        }
        fg = colors.get(verdict)
        return click.style(text, fg=fg) if self.color and fg else text


def _headline(d: dict, style: _Style) -> str:
    covered = sum(1 for c in d["components"].values() if c["covered"])
    pace = f"{d['wpm']:.0f} wpm" if d.get("wpm") else "pace n/a"
    if d.get("chars_per_min") and (
        "chars_per_min" in (d.get("judgements") or {}) or not d.get("wpm")
    ):
        pace = f"{d['chars_per_min']:.0f} chars/min"  # the pace that was judged, for a mixed intro
    parts = f"{covered}/{len(d['components'])} parts" if d["components"] else "content not checked"
    name = Path(d["file"]).name
    return style.bold(
        f"{name}: {format_duration(d['speech_s'])} of {format_duration(d['target_s'])}, {pace}, {parts} - score {d['score']}/100"
    )


def _verdict(score: int, texts: dict) -> str:
    return next(
        v["text"]
        for v in sorted(texts["verdicts"], key=lambda v: -v["min_score"])
        if score >= v["min_score"]
    )


def _fixes(d: dict, style: _Style, texts: dict) -> list[str]:
    tips = d["tips"][:3]
    if not tips:
        return [style.bold("Fix first"), "  " + texts["nothing_urgent"]]
    lines = [style.bold("Fix first")]
    for n, tip in enumerate(tips, 1):
        when = f"[{format_duration(tip['start'])}] " if tip.get("start") is not None else ""
        lines.append(f"  {n}. {when}{tip['message']}")
        if tip.get("sentence"):
            lines.append(f'     You said: "{tip["sentence"]}"')
        if tip.get("say_instead"):
            lines.append(f'     Say instead: "{tip["say_instead"]}"')
    return lines


def _row(label: str, value: str, note: str = "") -> str:
    return f"  {label:<14}{value:<34} {note}".rstrip()


def _delivery(d: dict, style: _Style) -> list[str]:
    j, bands = d["judgements"], d["bands"]
    rows = [
        _row(
            "Duration",
            f"{format_duration(d['speech_s'])} of speech (recording {format_duration(d['duration_s'])})",
            style.verdict(
                f"{j.get('duration', '')}: {bands.get('duration', '')}", j.get("duration")
            ),
        )
    ]
    # A mixed intro has both paces; only the one of the language mostly spoken is judged.
    if d.get("wpm") is not None:
        articulation = (
            f" (articulation {d['articulation_wpm']:.0f})"
            if d.get("articulation_wpm") is not None
            else ""
        )
        rows.append(
            _row("Pace", f"{d['wpm']:.0f} words/min{articulation}", _judged(j, bands, "wpm", style))
        )
    if d.get("chars_per_min") is not None:
        rows.append(
            _row(
                "Pace",
                f"{d['chars_per_min']:.0f} chars/min",
                _judged(j, bands, "chars_per_min", style),
            )
        )
    if d.get("morae_per_min") is not None:
        morae = j.get("morae_per_min")
        note = f"{morae}: {bands.get('morae_per_min')}" if morae else bands.get("morae_per_min", "")
        rows.append(_row("", f"{d['morae_per_min']:.0f} morae/min", style.verdict(note, morae)))
    windows = [w for w in d["pace_windows"] if _window_rate(w) is not None]
    if len(windows) > 1:
        unit = windows[0].get("unit") or "words/min"  # stored before units: words per minute
        rows.append(
            _row(
                "Pace by 30 s",
                " ".join(f"{_window_rate(w):.0f}" for w in windows),
                f"{unit} per window",
            )
        )
    p = d["pauses"]
    where = (
        f", longest {p['longest_s']:.1f} s at {format_duration(p['longest_at'])}"
        if p["longest_at"] is not None
        else ""
    )
    rows.append(
        _row(
            "Pauses",
            f"{p['count']} pauses, {p['long_count']} long{where}",
            f"pause >= {p['min_pause_s']:g} s, long >= {p['long_pause_s']:g} s",
        )
    )
    f = d["fillers"]
    rate = (
        f" ({f['per_100_words']:.1f} per 100 words)"
        if f.get("per_100_words") is not None
        else f" ({f['per_min']:.1f}/min)"
        if f.get("per_min") is not None
        else ""
    )
    kinds = _counts(item["text"] for item in f["items"])
    if j.get("fillers") == "unknown":
        rows.append(_row("Fillers", "not counted", "no filler list for this language"))
    else:
        rows.append(
            _row(
                "Fillers",
                f"{f['count']}{rate}",
                style.verdict(f"{j.get('fillers')}: {kinds or 'none found'}", j.get("fillers")),
            )
        )
        rows.append(_row("", "", "(a lower bound: Whisper leaves out many um/uh)"))
    if d["pitch"]["spread_semitones"] is not None:
        rows.append(
            _row(
                "Pitch",
                f"{d['pitch']['spread_semitones']:.1f} semitones spread",
                style.verdict(f"{j.get('pitch')}: {bands.get('pitch')}", j.get("pitch")),
            )
        )
    if d["loudness"]["spread_db"] is not None:
        rows.append(
            _row(
                "Loudness",
                f"{d['loudness']['spread_db']:.1f} dB spread",
                style.verdict(f"{j.get('loudness')}: {bands.get('loudness')}", j.get("loudness")),
            )
        )
    return rows


def _judged(j: dict, bands: dict, metric: str, style: _Style) -> str:
    if metric not in j:
        return "(not judged: the intro is mostly in the other language)"
    return style.verdict(f"{j[metric]}: {bands.get(metric)}", j[metric])


def _window_rate(w: dict) -> float | None:
    return w.get("rate", w.get("wpm"))


def _counts(items) -> str:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return ", ".join(f"{k} x{v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


def _content(d: dict, style: _Style, titles: dict[str, str]) -> list[str]:
    if not d["components"]:
        return ["  Not checked: no rubric for this language yet."]
    rows = []
    for cid, comp in d["components"].items():
        mark = style.verdict("yes" if comp["covered"] else "NO ", comp["covered"])
        title = titles.get(cid, cid)
        if comp["covered"] and comp["evidence"]:
            ev = comp["evidence"][0]
            rows.append(
                f'  {mark} {_pad(title, TITLE_COLUMNS)}{comp["seconds"]:>4.0f} s  [{format_duration(ev["start"])}] "{_clip(ev["text"])}"'
            )
        else:
            rows.append(f"  {mark} {_pad(title, TITLE_COLUMNS)}   - s  not found")
    order = d["order"]
    sequence = " -> ".join(titles.get(c, c) for c in order["sequence"]) or "none"
    rows.append(
        f"  Order: {sequence}  {style.verdict('coherent' if order['ok'] else 'jumbled', order['ok'])}"
    )
    if order.get("note"):
        rows.append(f"         {order['note']}")
    for hit in d["pitfalls"]:
        rows.append(
            f'  Pitfall {hit["id"]} at {format_duration(hit["start"])}: "{_clip(hit["text"])}"'
        )
    return rows


def _pad(text: str, columns: int) -> str:
    """`text` padded to `columns` terminal columns (a kanji or kana takes two)."""
    width = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, columns - width)


def _clip(text: str) -> str:
    return text if len(text) <= EVIDENCE_CHARS else text[: EVIDENCE_CHARS - 3] + "..."
