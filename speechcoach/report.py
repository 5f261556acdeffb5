"""The terminal report, rendered from the typed analysis record (`result.AnalysisResult`), so a
stored attempt is shown exactly as a fresh one, without re-transcribing.

One record behind every line: the headline, the verdict, "fix first" and the content table all
read the same components, strengths and score. Lines wrap at word boundaries (any character in
Japanese) to the terminal's width; tables keep their columns, and a band that does not fit
beside its value goes under it."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import click

from . import languages, metrics
from .bands import current_band, format_duration
from .errors import SpeechcoachError
from .result import AnalysisResult, Order, PaceWindow, Tip, from_json, judged_language, parse
from .types import ACOUSTIC

log = logging.getLogger(__name__)

# The report's sentences (verdicts, labels) per language, in languages/<lang>/report.json;
# a language without a file, or a label missing from one, reads English.
REPORT_FILE = "report.json"


def render_report(
    record: AnalysisResult | Mapping,
    *,
    color: bool = False,
    details: bool = True,
    show_all: bool = False,
    width: int | None = None,
) -> str:
    """The full report for one analysis record: headline and verdict, the three things to fix
    first (then the others, one line each, or all in full with `show_all`), then the details.

    Everything is in the language the feedback was given in (`feedback_language`) and wrapped at
    word boundaries to `width` columns (default: the terminal's, else DEFAULT_WIDTH). A JSON
    dict (a stored or imported record) is read through `result.from_json` first.
    """
    d = from_json(record)
    style = _Style(color)
    language = d.feedback_language
    texts = report_texts(language)
    labels = report_labels(language)
    width = width or terminal_width()
    lines = [style.bold(line) for line in _wrap(_headline(d, labels), width, "", "  ")]
    lines += _wrap(verdict(d, texts, labels), width, "  ", "  ")
    for warning in d.warnings:
        lines += _wrap(f"{labels['warning']}: {warning}", width, "  ", "    ")
    if d.unreliable_share:
        share = f"{100 * d.unreliable_share:.0f} %"
        lines += _wrap(labels["unreliable"].format(share=share), width, "  ", "    ")
    lines.append("")
    lines += _fixes(d, style, texts, labels, width, show_all)
    if details:
        lines += ["", style.bold(labels["delivery"])] + _delivery(d, style, labels, width)
        lines += ["", style.bold(labels["content"])] + _content(d, style, _titles(d), labels, width)
    return "\n".join(lines)


# Used when the output is not a terminal (a file, a pipe, a test).
DEFAULT_WIDTH = 100
MIN_WIDTH = 40
FIX_FIRST = 3  # tips shown in full before "N more"


def terminal_width() -> int:
    import shutil

    columns = shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return max(MIN_WIDTH, columns)


# English labels of the report; languages/<lang>/report.json may translate them ("labels").
LABELS = {
    "fix_first": "Fix first",
    "you_said": "You said",
    "say_instead": "Say instead (an example)",
    "more": "{n} more",
    "more_hint": "(all of them in full: --all)",
    "nothing_urgent": None,  # the language's report.json "nothing_urgent"
    "delivery": "Delivery",
    "content": "Content",
    "duration": "Duration",
    "duration_value": "{speech} of speech (recording {recording})",
    "pace": "Pace",
    "pace_by_window": "Pace by 30 s",
    "per_window": "{unit} per window",
    "articulation": "articulation",
    "pauses": "Pauses",
    "pause": ["pause", "pauses"],
    "pauses_value": "{pauses}, {long} long",
    "longest": "longest {seconds} s at {at}",
    "pause_band": "pause >= {min} s, long >= {long} s",
    "fillers": "Fillers",
    "fillers_value": "{count} ({per_min}/min, {per_100} per 100 words)",
    "fillers_value_min": "{count} ({per_min}/min)",
    "fillers_lower_bound": "(a lower bound: Whisper leaves out many um/uh)",
    "held_filler": "held voice ('eeee' between words)",  # a filler heard, not written (ACOUSTIC)
    "verdicts": {},  # verdict words: "ok", "low", "high" as they are in English
    "band_text": {},  # words of the stored (English) bands -> the report's language
    "wpm_value": "{n} words/min",
    "chars_value": "{n} chars/min",
    "morae_value": "{n} morae/min",
    "wpm_short": "{n} wpm",
    "yes": "yes",
    "no": "NO ",
    "quote": '"{text}"',
    "not_counted": "not counted",
    "no_filler_list": "no filler list for this language",
    "none_found": "none found",
    "pitch": "Pitch",
    "pitch_value": "{spread} semitones spread",
    "loudness": "Loudness",
    "loudness_value": "{spread} dB spread",
    "not_judged": "(not judged: the intro is mostly in the other language)",
    "not_found": "not found",
    "denied": "you said it is missing",
    "lacks": "lacks",
    "strength": {"full": "full", "partial": "partial", "missing": "missing"},
    "order": "Order",
    "coherent": "coherent",
    "jumbled": "jumbled",
    "order_not_judged": "not judged",
    "part": "Part",
    "time_on_part": "time",
    "evidence_head": "[when] strongest evidence (strength)",
    "pitfall": "Pitfall",
    "not_checked": "Not checked: no rubric for this language yet.",
    "parts": "{covered}/{total} parts",
    "content_not_checked": "content not checked",
    "headline": "{name}: {length} of {target}, {pace}, {parts} - score {score}/100",
    "pace_na": "pace n/a",
    "warning": "Warning",
    "unreliable": "Whisper was unsure of {share} of the speech; those parts are not used as "
    "evidence (see transcript.segments[].unreliable in --json).",
    "score_on": "Score on {basis}.",
    "verdict_too_short": "Too short: {length} against a target of about {target}. The length "
    "counts first; build the introduction out before polishing anything else.",
    "verdict_too_long": "Too long: {length} against a target of about {target}. Cut to the "
    "points that matter for this position first.",
    "verdict_missing": "Needs work: {missing} missing.",
    "verdict_partial": "Needs work: every part is there, but {parts} lack detail (see below).",
    "verdict_delivery": "Needs work: the content holds; the delivery below costs the points.",
    "verdict_good_missing": "A good base, but {missing} missing: add it first.",
}


@cache
def report_labels(language: str) -> dict:
    """The report's labels in `language`: its report.json "labels" over the English ones."""
    own = report_texts(language).get("labels") or {}
    labels = {**LABELS, **own}
    labels["nothing_urgent"] = report_texts(language)["nothing_urgent"]
    return labels


def feedback_language(d: AnalysisResult | Mapping) -> str:
    """The language of an analysis's feedback, as the analysis decided it (languages.py);
    `result.from_json` fills it in for records stored before it was recorded. Takes the record
    or its JSON (the web app's views hold the JSON)."""
    if isinstance(d, AnalysisResult):
        return d.feedback_language or judged_language(d.language, d.judgements)
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


def _titles(d: AnalysisResult) -> dict[str, str]:
    """Component titles by id, in the feedback language: those the record holds."""
    fallback = languages.component_titles(d.feedback_language)
    return {cid: c.title or fallback.get(cid, cid) for cid, c in d.components.items()} | {
        cid: t for cid, t in fallback.items() if cid not in d.components
    }


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


def _headline(d: AnalysisResult, labels: dict) -> str:
    pace = labels["wpm_short"].format(n=f"{d.wpm:.0f}") if d.wpm else labels["pace_na"]
    if d.chars_per_min and (
        metrics.CHARS_PER_MIN.key in d.judgements or not d.wpm
    ):  # the pace that was judged, for a mixed intro
        pace = labels[metrics.CHARS_PER_MIN.shown].format(n=f"{d.chars_per_min:.0f}")
    parts = (
        labels["parts"].format(covered=len(d.covered), total=len(d.components))
        if d.components
        else labels["content_not_checked"]
    )
    return labels["headline"].format(
        name=Path(d.file).name,
        length=format_duration(d.speech_s or d.duration_s),  # judged on the speech
        target=format_duration(d.target_s),
        pace=pace,
        parts=parts,
        score=d.score,
    )


# An intro under this share of the target is "too short" whatever else it does (the score
# itself is capped below 60 there: scoring.length_cap).
TOO_SHORT_SHARE = 0.40
TOO_LONG_SHARE = 1.60


def verdict(d: AnalysisResult, texts: dict, labels: dict) -> str:
    """The line under the headline, from the same record as the headline, the table and the
    tips: never "a good base" for an intro far too short, never "misses parts" when none is."""
    basis = d.score_basis or FULL_BASIS  # records before score_basis were scored in full
    if basis != FULL_BASIS:
        return labels["score_on"].format(basis=basis)
    length, target = d.speech_s or d.duration_s, d.target_s
    values = {"length": format_duration(length), "target": format_duration(target)}
    if target and length < TOO_SHORT_SHARE * target:
        return labels["verdict_too_short"].format(**values)
    if target and length > TOO_LONG_SHARE * target:
        return labels["verdict_too_long"].format(**values)
    titles = _titles(d)
    comps = d.components
    missing = [titles.get(c, c) for c, comp in comps.items() if not comp.covered]
    thin = [
        titles.get(c, c) for c, comp in comps.items() if comp.covered and comp.strength == "partial"
    ]
    band = _score_band(d.score, texts)
    if band["min_score"] >= GOOD_SCORE:
        if missing:
            return labels["verdict_good_missing"].format(missing=_join(missing, labels))
        return band["text"]
    if missing and d.score < OUTLINE_SCORE and len(missing) >= 2:
        return band["text"]  # "start from the outline"
    if missing:
        return labels["verdict_missing"].format(missing=_join(missing, labels))
    if thin:
        return labels["verdict_partial"].format(parts=_join(thin, labels))
    return labels["verdict_delivery"]


FULL_BASIS = "content and delivery"  # scoring's basis when both could be judged
GOOD_SCORE = 65  # the "good base" band of report.json
OUTLINE_SCORE = 40  # under it, with two parts or more missing: back to the outline


def _score_band(score: int, texts: dict) -> dict:
    return next(
        v
        for v in sorted(texts["verdicts"], key=lambda v: -v["min_score"])
        if score >= v["min_score"]
    )


def _join(items: list[str], labels: dict) -> str:
    return labels.get("list_separator", ", ").join(items)


def _fixes(
    d: AnalysisResult, style: _Style, texts: dict, labels: dict, width: int, show_all: bool
) -> list[str]:
    tips = d.tips
    if not tips:
        return [style.bold(labels["fix_first"]), "  " + labels["nothing_urgent"]]
    quotes = _pitfall_quotes(d)
    lines = [style.bold(labels["fix_first"])]
    full = tips if show_all else tips[:FIX_FIRST]
    for n, tip in enumerate(full, 1):
        lines += _tip_lines(n, tip, labels, width, quotes)
    rest = [] if show_all else tips[FIX_FIRST:]
    if rest:
        lines.append(_fit(f"  {labels['more'].format(n=len(rest))} {labels['more_hint']}", width))
        for n, tip in enumerate(rest, FIX_FIRST + 1):
            when = _when(tip)
            lines.append(_fit(f"  {n}. {when}{tip.message}", width))
    return lines


def _when(tip: Tip | Mapping) -> str:
    """ "[0:12] " before a tip with a time, unless its message already says the time. Takes a
    tip of the record, or its JSON."""
    if isinstance(tip, Mapping):
        tip = parse(tip, Tip, "tip")
    if tip.start is None:
        return ""
    stamp = format_duration(tip.start)
    return "" if stamp in tip.message else f"[{stamp}] "


def _tip_lines(n: int, tip: Tip, labels: dict, width: int, quotes: dict) -> list[str]:
    lead = f"  {n}. "
    lines = _wrap(f"{_when(tip)}{tip.message}", width, lead, " " * len(lead))
    quote = quotes.get((tip.id, tip.start)) or tip.sentence
    if quote and _quote_core(quote) not in tip.message:  # never the same quote twice
        lines += _wrap(
            f"{labels['you_said']}: " + labels["quote"].format(text=quote),
            width,
            " " * len(lead),
            " " * (len(lead) + 2),
        )
    if tip.say_instead:
        lines += _wrap(
            f"{labels['say_instead']}: " + labels["quote"].format(text=tip.say_instead),
            width,
            " " * len(lead),
            " " * (len(lead) + 2),
        )
    return lines


def _quote_core(quote: str) -> str:
    return quote.strip("…").strip()


def _pitfall_quotes(d: AnalysisResult) -> dict:
    """(tip id, start) -> the window of the sentence that shows the pitfall."""
    return {(f"pitfall:{h.id}", h.start): h.quote or h.text for h in d.pitfalls}


# ---------------------------------------------------------------------------- delivery


Row = tuple[str, str, str]  # label, value, band note


def _delivery(d: AnalysisResult, style: _Style, labels: dict, width: int) -> list[str]:
    """The delivery table: one row per measure the record holds, each as metrics.py defines it."""
    rows = [_duration_row(d, style, labels)]
    # A mixed intro has both paces; only the one of the language mostly spoken is judged.
    rows += _metric_rows(d, (metrics.WPM, metrics.CHARS_PER_MIN, metrics.MORAE), style, labels)
    rows += _window_rows(d, labels)
    rows.append(_pause_row(d, labels))
    rows += _filler_rows(d, style, labels)
    rows += _metric_rows(d, (metrics.PITCH, metrics.LOUDNESS), style, labels)
    return _table(rows, width)


def _duration_row(d: AnalysisResult, style: _Style, labels: dict) -> Row:
    # The judged length first, beside its band; the recording, silences included, after it.
    value = labels["duration_value"].format(
        speech=format_duration(d.speech_s or d.duration_s), recording=format_duration(d.duration_s)
    )
    return (labels["duration"], value, _note(d, metrics.DURATION, style, labels))


def _metric_rows(
    d: AnalysisResult, shown: tuple[metrics.Metric, ...], style: _Style, labels: dict
) -> list[Row]:
    rows = []
    for metric in shown:
        value = metric.value(d)
        if value is None:
            continue
        text = labels[metric.shown].format(n=metric.fmt(value), spread=metric.fmt(value))
        if metric is metrics.WPM and d.articulation_wpm is not None:
            text += f" ({labels['articulation']} {d.articulation_wpm:.0f})"
        label = labels[metric.label] if metric.label else ""
        rows.append((label, text, _note(d, metric, style, labels)))
    return rows


def _note(d: AnalysisResult, metric: metrics.Metric, style: _Style, labels: dict) -> str:
    """The verdict and band of one measure; a pace the intro was not judged by says so."""
    verdict = d.judgements.get(metric.key)
    if verdict is None and metric.key in metrics.PACE_METRICS:
        return labels["not_judged"]
    return style.verdict(_band_note(verdict, d.bands.get(metric.key, ""), labels), verdict)


def _window_rows(d: AnalysisResult, labels: dict) -> list[Row]:
    windows = [w for w in d.pace_windows if _window_rate(w) is not None]
    if len(windows) < 2:
        return []
    unit = windows[0].unit or metrics.WPM.unit  # stored before units: words per minute
    return [
        (
            labels["pace_by_window"],
            " ".join(f"{_window_rate(w):.0f}" for w in windows),
            labels["per_window"].format(unit=labels["band_text"].get(unit, unit)),
        )
    ]


def _pause_row(d: AnalysisResult, labels: dict) -> Row:
    p = d.pauses
    value = labels["pauses_value"].format(
        pauses=_plural(p.count, labels["pause"]), long=p.long_count
    )
    if p.longest_at is not None:
        value += labels.get("list_separator", ", ") + labels["longest"].format(
            seconds=f"{p.longest_s:.1f}", at=format_duration(p.longest_at)
        )
    band = labels["pause_band"].format(min=f"{p.min_pause_s:g}", long=f"{p.long_pause_s:g}")
    return (labels["pauses"], value, band)


def _filler_rows(d: AnalysisResult, style: _Style, labels: dict) -> list[Row]:
    f, verdict = d.fillers, d.judgements.get(metrics.FILLERS_PER_MIN.key)
    if verdict == "unknown" or f.count is None:
        return [(labels["fillers"], labels["not_counted"], labels["no_filler_list"])]
    per_min = f"{f.per_min:.1f}" if f.per_min is not None else "-"
    value = (
        labels["fillers_value"].format(
            count=f.count, per_min=per_min, per_100=f"{f.per_100_words:.1f}"
        )
        if f.per_100_words is not None
        else labels["fillers_value_min"].format(count=f.count, per_min=per_min)
    )
    kinds = _counts(labels["held_filler"] if i.how == ACOUSTIC else i.text for i in f.items)
    note = _band_note(verdict, d.bands.get(metrics.FILLERS_PER_MIN.key, ""), labels)
    note += (f"; {kinds}" if kinds else "") + " " + labels["fillers_lower_bound"]
    return [(labels["fillers"], value, style.verdict(note, verdict))]


def _band_note(verdict: str | None, band: str, labels: dict) -> str:
    """ "low: 2:33-3:27 (target 3:00 +-15%)", with the verdict and the unit in the report's
    language (the record stores the band in English)."""
    word = labels["verdicts"].get(verdict or "", verdict or "")
    band = current_band(band)
    for english, own in labels["band_text"].items():  # units and sources, longest first
        band = band.replace(english, own)
    return f"{word}: {band}" if word else band


def _table(rows: list[Row], width: int) -> list[str]:
    """Label, value and band in aligned columns; a band that does not fit beside its value goes
    on the next line, under the value, wrapped at word boundaries: never run together."""
    label_w = max(_width(r[0]) for r in rows) + 2
    value_w = min(max(_width(r[1]) for r in rows) + 2, max(20, width - label_w - 30))
    out = []
    for label, value, note in rows:
        head = "  " + _pad(label, label_w)
        if _width(value) + 2 > value_w:  # a long value gets its own line
            out += _wrap(value, width, head, " " * (2 + label_w))
            if note:
                out += _wrap(note, width, " " * (2 + label_w + 2), " " * (2 + label_w + 2))
            continue
        line = head + _pad(value, value_w)
        if not note:
            out.append(line.rstrip())
        elif _width(line) + _width(note) <= width:
            out.append(line + note)
        else:
            out.append(line.rstrip())
            out += _wrap(note, width, " " * (2 + label_w + 2), " " * (2 + label_w + 2))
    return out


def _window_rate(w: PaceWindow) -> float | None:
    return w.rate if w.rate is not None else w.wpm


def _counts(items) -> str:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return ", ".join(f"{k} x{v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


def _plural(n: int, forms) -> str:
    """ "1 pause", "2 pauses"; a language with one form (Japanese) gives it as a string."""
    if isinstance(forms, str):
        return f"{n}{forms}"
    return f"{n} {forms[0] if n == 1 else forms[1]}"


# ---------------------------------------------------------------------------- content


def _content(
    d: AnalysisResult, style: _Style, titles: dict[str, str], labels: dict, width: int
) -> list[str]:
    if not d.components:
        return ["  " + labels["not_checked"]]
    title_w = max(_width(titles.get(cid, cid)) for cid in d.components) + 2
    lead = " " * (2 + 4 + title_w + 7)
    # The columns say what they are: the time spent on a part is no timestamp.
    time_head = labels["time_on_part"]
    rows = [
        _fit(
            "  "
            + " " * 4
            + _pad(labels["part"], title_w)
            + " " * max(0, 5 - _width(time_head))
            + time_head
            + "  "
            + labels["evidence_head"],
            width,
        )
    ]
    for cid, comp in d.components.items():
        mark = style.verdict(labels["yes"] if comp.covered else labels["no"], comp.covered)
        head = f"  {mark} {_pad(titles.get(cid, cid), title_w)}"
        strength = labels["strength"].get(comp.strength or "", "")
        if comp.covered and comp.evidence:
            ev = comp.evidence[0]
            seconds = f"{format_duration(comp.seconds):>5}  "
            text = f"[{format_duration(ev.start)}] " + labels["quote"].format(text=ev.text)
            if strength:
                text += f" ({strength})"
            rows += _wrap(text, width, head + seconds, lead)
            lacking = [
                _subpoint_name(d, cid, sub) for sub, c in comp.checks.items() if not c.present
            ]
            if lacking:
                rows += _wrap(f"{labels['lacks']}: {_join(lacking, labels)}", width, lead, lead)
        elif comp.denied_by:
            den = comp.denied_by
            text = f"{labels['denied']}: [{format_duration(den.start)}] " + labels["quote"].format(
                text=den.text
            )
            rows += _wrap(text, width, head + "    -  ", lead)
        else:
            rows.append(f"{head}    -  {labels['not_found']}")
    order = d.order
    sequence = " -> ".join(titles.get(c, c) for c in order.sequence) or "-"
    state = _order_state(order, style, labels)
    rows += _wrap(f"{labels['order']}: {sequence}  {state}", width, "  ", "         ")
    if order.note:
        rows += _wrap(order.note, width, "         ", "         ")
    names = _pitfall_names(d.feedback_language)
    for hit in d.pitfalls:
        quote = hit.quote or hit.text
        name = names.get(hit.id, hit.id)
        rows += _wrap(
            f"{labels['pitfall']}: {name} [{format_duration(hit.start)}] "
            + labels["quote"].format(text=quote),
            width,
            "  ",
            "    ",
        )
    return rows


MIN_ORDERED_PARTS = 2  # with fewer parts there is no order to call coherent (scoring agrees)


def _order_state(order: Order, style: _Style, labels: dict) -> str:
    if len(order.sequence) < MIN_ORDERED_PARTS and order.ok:
        return labels["order_not_judged"]
    return style.verdict(labels["coherent"] if order.ok else labels["jumbled"], order.ok)


@cache
def _pitfall_names(language: str) -> dict[str, str]:
    """Pitfall ids -> their plain names in the language's rubric (read as data: `show` must not
    load numpy), English where the language has none."""
    for code in dict.fromkeys((language, languages.FALLBACK)):
        rubric = languages.get(code).data("components.json")
        if rubric:
            return {p["id"]: p["title"] for p in rubric.get("pitfalls", ())}
    return {}


def _subpoint_name(d: AnalysisResult, cid: str, sub: str) -> str:
    from .checks import load_checks

    rules = load_checks(d.feedback_language)
    if rules is None or cid not in rules.subpoints:
        return sub
    return next((s.name for s in rules.subpoints[cid] if s.id == sub), sub)


# ---------------------------------------------------------------------------- layout


def _char_width(c: str) -> int:
    return 2 if unicodedata.east_asian_width(c) in "WF" else 1


def _width(text: str) -> int:
    """Terminal columns of `text` (a kanji or kana takes two; colour codes none)."""
    return sum(_char_width(c) for c in click.unstyle(text))


def _pad(text: str, columns: int) -> str:
    """`text` padded to `columns` terminal columns."""
    return text + " " * max(0, columns - _width(text))


# Japanese line breaking (kinsoku): these never start a line.
NO_LINE_START = frozenset("。、，．」』）】！？ー・：).,;:!?]")
# A short label in brackets, "(一部)", is never broken across lines.
SHORT_GROUP = re.compile(r"[(（][^()（）\s]{1,6}[)）]")


def _atoms(text: str) -> list[str]:
    """Pieces a line may break between: words (with their trailing space), and every wide
    character on its own (Japanese has no spaces)."""
    atoms: list[str] = []
    word = ""
    i = 0
    while i < len(text):
        c = text[i]
        i += 1
        group = SHORT_GROUP.match(text, i - 1)
        if group and _char_width(group.group(0)[1]) == 2:  # 「(一部)」 stays on one line
            if word:
                atoms.append(word)
                word = ""
            atoms.append(group.group(0))
            i = group.end()
        elif c in NO_LINE_START and atoms and not word:  # 。、」 never open a line
            atoms[-1] += c
        elif c == " ":
            atoms.append(word + " ")
            word = ""
        elif _char_width(c) == 2:
            if word:
                atoms.append(word)
                word = ""
            atoms.append(c)
        else:
            word += c
    if word:
        atoms.append(word)
    return atoms


def _wrap(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    """`text` wrapped at word boundaries (any character for wide scripts) to `width` columns,
    the first line after `first`, the others after `rest`. A word longer than a line is cut."""
    lines: list[str] = []
    line, prefix = "", first
    for atom in _atoms(text):
        if line and _width(prefix + line + atom.rstrip()) > width:
            lines.append((prefix + line).rstrip())
            line, prefix = "", rest
            atom = atom.lstrip()
        while _width(prefix + atom.rstrip()) > width and len(atom) > 1:  # a very long word
            room = max(1, width - _width(prefix))
            lines.append(prefix + atom[:room])
            atom, prefix = atom[room:], rest
        line += atom
    lines.append((prefix + line).rstrip())
    return lines


def _fit(text: str, width: int) -> str:
    """One line of at most `width` columns, ending in "…" when cut."""
    if _width(text) <= width:
        return text
    out = ""
    for c in text:
        if _width(out + c) > width - 1:
            break
        out += c
    return out.rstrip() + "…"
