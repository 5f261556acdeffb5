"""The terminal report, rendered from an analysis dict (`Analysis.to_dict()`), so a stored
attempt is shown exactly as a fresh one, without re-transcribing."""

from __future__ import annotations

from pathlib import Path

import click

from .config import format_duration

COMPONENT_TITLES = {
    "japan": "Why Japan",
    "career_change": "Why change jobs",
    "project": "Recent project",
    "plan": "Situation, plan, goals",
}
VERDICTS = (  # (minimum score, verdict)
    (85, "Ready: a complete, well-paced introduction. Polish the details below."),
    (65, "A good base: fix the points below before the interview."),
    (40, "Needs work: the introduction misses key parts interviewers listen for."),
    (0, "Start from the outline: say why Japan, why this change, your recent project, and your plan."),
)
EVIDENCE_CHARS = 70


def render_report(d: dict, *, color: bool = False, details: bool = True) -> str:
    """The full report for one analysis dict: verdict, three fixes, then the details."""
    style = _Style(color)
    lines = [_headline(d, style), "  " + _verdict(d["score"]), ""]
    lines += _fixes(d, style)
    if details:
        lines += ["", style.bold("Delivery")] + _delivery(d, style)
        lines += ["", style.bold("Content")] + _content(d, style)
    return "\n".join(lines)


def render_error(d: dict) -> str:
    return f"{d['file']}: {d['error']}"


class _Style:
    def __init__(self, color: bool):
        self.color = color

    def bold(self, text: str) -> str:
        return click.style(text, bold=True) if self.color else text

    def verdict(self, text: str, verdict: str) -> str:
        colors = {"ok": "green", "low": "yellow", "high": "yellow", "unknown": None, True: "green", False: "red"}
        fg = colors.get(verdict)
        return click.style(text, fg=fg) if self.color and fg else text


def _headline(d: dict, style: _Style) -> str:
    covered = sum(1 for c in d["components"].values() if c["covered"])
    pace = f"{d['wpm']:.0f} wpm" if d.get("wpm") else f"{d['chars_per_min']:.0f} chars/min" if d.get("chars_per_min") else "pace n/a"
    parts = f"{covered}/{len(d['components'])} parts" if d["components"] else "content not checked"
    name = Path(d["file"]).name
    return style.bold(f"{name}: {format_duration(d['duration_s'])} of {format_duration(d['target_s'])}, {pace}, {parts} - score {d['score']}/100")


def _verdict(score: int) -> str:
    return next(text for minimum, text in VERDICTS if score >= minimum)


def _fixes(d: dict, style: _Style) -> list[str]:
    tips = d["tips"][:3]
    if not tips:
        return [style.bold("Fix first"), "  Nothing urgent. Record again to check it holds."]
    lines = [style.bold("Fix first")]
    for n, tip in enumerate(tips, 1):
        when = f"[{format_duration(tip['start'])}] " if tip.get("start") is not None else ""
        lines.append(f"  {n}. {when}{tip['message']}")
        if tip.get("sentence"):
            lines.append(f"     You said: \"{tip['sentence']}\"")
        if tip.get("say_instead"):
            lines.append(f"     Say instead: \"{tip['say_instead']}\"")
    return lines


def _row(label: str, value: str, note: str = "") -> str:
    return f"  {label:<14}{value:<34} {note}".rstrip()


def _delivery(d: dict, style: _Style) -> list[str]:
    j, bands = d["judgements"], d["bands"]
    rows = [_row("Duration", f"{format_duration(d['duration_s'])} (speech {format_duration(d['speech_s'])})",
                 style.verdict(f"{j.get('duration', '')}: {bands.get('duration', '')}", j.get("duration")))]
    if d.get("wpm") is not None:
        rows.append(_row("Pace", f"{d['wpm']:.0f} words/min (articulation {d['articulation_wpm']:.0f})",
                         style.verdict(f"{j.get('wpm')}: {bands.get('wpm')}", j.get("wpm"))))
    if d.get("chars_per_min") is not None:
        rows.append(_row("Pace", f"{d['chars_per_min']:.0f} chars/min", style.verdict(f"{j.get('chars_per_min')}: {bands.get('chars_per_min')}", j.get("chars_per_min"))))
    if d.get("morae_per_min") is not None:
        rows.append(_row("", f"{d['morae_per_min']:.0f} morae/min", bands.get("morae_per_min", "")))
    if len(d["pace_windows"]) > 1:
        rows.append(_row("Pace by 30 s", " ".join(f"{w['wpm']:.0f}" for w in d["pace_windows"]), "words/min per window"))
    p = d["pauses"]
    where = f", longest {p['longest_s']:.1f} s at {format_duration(p['longest_at'])}" if p["longest_at"] is not None else ""
    rows.append(_row("Pauses", f"{p['count']} pauses, {p['long_count']} long{where}", f"pause >= {p['min_pause_s']:g} s, long >= {p['long_pause_s']:g} s"))
    f = d["fillers"]
    rate = f" ({f['per_100_words']:.1f} per 100 words)" if f.get("per_100_words") is not None else f" ({f['per_min']:.1f}/min)" if f.get("per_min") is not None else ""
    kinds = _counts(item["text"] for item in f["items"])
    rows.append(_row("Fillers", f"{f['count']}{rate}", style.verdict(f"{j.get('fillers')}: {kinds or 'none found'}", j.get("fillers"))))
    rows.append(_row("", "", "(a lower bound: Whisper leaves out many um/uh)"))
    if d["pitch"]["spread_semitones"] is not None:
        rows.append(_row("Pitch", f"{d['pitch']['spread_semitones']:.1f} semitones spread", style.verdict(f"{j.get('pitch')}: {bands.get('pitch')}", j.get("pitch"))))
    if d["loudness"]["spread_db"] is not None:
        rows.append(_row("Loudness", f"{d['loudness']['spread_db']:.1f} dB spread", style.verdict(f"{j.get('loudness')}: {bands.get('loudness')}", j.get("loudness"))))
    return rows


def _counts(items) -> str:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return ", ".join(f"{k} x{v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


def _content(d: dict, style: _Style) -> list[str]:
    if not d["components"]:
        return ["  Not checked: no rubric for this language yet."]
    rows = []
    for cid, comp in d["components"].items():
        mark = style.verdict("yes" if comp["covered"] else "NO ", comp["covered"])
        title = COMPONENT_TITLES.get(cid, cid)
        if comp["covered"] and comp["evidence"]:
            ev = comp["evidence"][0]
            rows.append(f"  {mark} {title:<24}{comp['seconds']:>4.0f} s  [{format_duration(ev['start'])}] \"{_clip(ev['text'])}\"")
        else:
            rows.append(f"  {mark} {title:<24}   - s  not found")
    order = d["order"]
    sequence = " -> ".join(COMPONENT_TITLES.get(c, c) for c in order["sequence"]) or "none"
    rows.append(f"  Order: {sequence}  {style.verdict('coherent' if order['ok'] else 'jumbled', order['ok'])}")
    if order.get("note"):
        rows.append(f"         {order['note']}")
    for hit in d["pitfalls"]:
        rows.append(f"  Pitfall {hit['id']} at {format_duration(hit['start'])}: \"{_clip(hit['text'])}\"")
    return rows


def _clip(text: str) -> str:
    return text if len(text) <= EVIDENCE_CHARS else text[: EVIDENCE_CHARS - 3] + "..."
