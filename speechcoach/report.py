"""The terminal report, rendered from an analysis dict (`Analysis.to_dict()`), so a stored
attempt is shown exactly as a fresh one, without re-transcribing.

One record behind every line: the headline, the verdict, "fix first" and the content table all
read the same components, strengths and score. Lines wrap at word boundaries (any character in
Japanese) to the terminal's width; tables keep their columns, and a band that does not fit
beside its value goes under it."""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import cache
from pathlib import Path

import click

from . import languages
from .config import format_duration
from .errors import SpeechcoachError
from .result import judged_language

log = logging.getLogger(__name__)

# The report's sentences (verdicts, labels) per language, in languages/<lang>/report.json;
# a language without a file, or a label missing from one, reads English.
REPORT_FILE = "report.json"


def render_report(
    d: dict,
    *,
    color: bool = False,
    details: bool = True,
    show_all: bool = False,
    width: int | None = None,
) -> str:
    """The full report for one analysis dict: headline and verdict, the three things to fix
    first (then the others, one line each, or all in full with `show_all`), then the details.

    Everything is in the language the feedback was given in (`feedback_language`) and wrapped at
    word boundaries to `width` columns (default: the terminal's, else DEFAULT_WIDTH).
    """
    style = _Style(color)
    language = feedback_language(d)
    texts = report_texts(language)
    labels = report_labels(language)
    width = width or terminal_width()
    lines = [style.bold(line) for line in _wrap(_headline(d, labels), width, "", "  ")]
    lines += _wrap(verdict(d, texts, labels), width, "  ", "  ")
    for warning in d.get("warnings") or ():
        lines += _wrap(f"{labels['warning']}: {warning}", width, "  ", "    ")
    if d.get("unreliable_share"):
        share = f"{100 * d['unreliable_share']:.0f} %"
        lines += _wrap(labels["unreliable"].format(share=share), width, "  ", "    ")
    lines.append("")
    lines += _fixes(d, style, texts, labels, width, show_all)
    if details:
        lines += ["", style.bold(labels["delivery"])] + _delivery(d, style, labels, width)
        lines += ["", style.bold(labels["content"])] + _content(
            d, style, record_titles(d), labels, width
        )
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
    "speech": "speech",
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


def _headline(d: dict, labels: dict) -> str:
    covered = sum(1 for c in d["components"].values() if c["covered"])
    pace = labels["wpm_short"].format(n=f"{d['wpm']:.0f}") if d.get("wpm") else labels["pace_na"]
    if d.get("chars_per_min") and (
        "chars_per_min" in (d.get("judgements") or {}) or not d.get("wpm")
    ):  # the pace that was judged, for a mixed intro
        pace = labels["chars_value"].format(n=f"{d['chars_per_min']:.0f}")
    parts = (
        labels["parts"].format(covered=covered, total=len(d["components"]))
        if d["components"]
        else labels["content_not_checked"]
    )
    return labels["headline"].format(
        name=Path(d["file"]).name,
        length=format_duration(d.get("speech_s") or d["duration_s"]),  # judged on the speech
        target=format_duration(d["target_s"]),
        pace=pace,
        parts=parts,
        score=d["score"],
    )


# An intro under this share of the target is "too short" whatever else it does (the score
# itself is capped below 60 there: scoring.length_cap).
TOO_SHORT_SHARE = 0.40
TOO_LONG_SHARE = 1.60


def verdict(d: dict, texts: dict, labels: dict) -> str:
    """The line under the headline, from the same record as the headline, the table and the
    tips: never "a good base" for an intro far too short, never "misses parts" when none is."""
    basis = d.get("score_basis", "content and delivery")
    if basis != "content and delivery":
        return labels["score_on"].format(basis=basis)
    length, target = d.get("speech_s") or d["duration_s"], d["target_s"]
    values = {"length": format_duration(length), "target": format_duration(target)}
    if target and length < TOO_SHORT_SHARE * target:
        return labels["verdict_too_short"].format(**values)
    if target and length > TOO_LONG_SHARE * target:
        return labels["verdict_too_long"].format(**values)
    titles = record_titles(d)
    comps = d["components"]
    missing = [titles.get(c, c) for c, comp in comps.items() if not comp["covered"]]
    thin = [
        titles.get(c, c)
        for c, comp in comps.items()
        if comp["covered"] and comp.get("strength") == "partial"
    ]
    band = _score_band(d["score"], texts)
    if band["min_score"] >= GOOD_SCORE:
        if missing:
            return labels["verdict_good_missing"].format(missing=_join(missing, labels))
        return band["text"]
    if missing and d["score"] < OUTLINE_SCORE and len(missing) >= 2:
        return band["text"]  # "start from the outline"
    if missing:
        return labels["verdict_missing"].format(missing=_join(missing, labels))
    if thin:
        return labels["verdict_partial"].format(parts=_join(thin, labels))
    return labels["verdict_delivery"]


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
    d: dict, style: _Style, texts: dict, labels: dict, width: int, show_all: bool
) -> list[str]:
    tips = d["tips"]
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
            lines.append(_fit(f"  {n}. {when}{tip['message']}", width))
    return lines


def _when(tip: dict) -> str:
    """ "[0:12] " before a tip with a time, unless its message already says the time."""
    if tip.get("start") is None:
        return ""
    stamp = format_duration(tip["start"])
    return "" if stamp in tip["message"] else f"[{stamp}] "


def _tip_lines(n: int, tip: dict, labels: dict, width: int, quotes: dict) -> list[str]:
    lead = f"  {n}. "
    lines = _wrap(f"{_when(tip)}{tip['message']}", width, lead, " " * len(lead))
    sentence = tip.get("sentence")
    quote = quotes.get((tip.get("id"), tip.get("start"))) or sentence
    if quote and _quote_core(quote) not in tip["message"]:  # never the same quote twice
        lines += _wrap(
            f"{labels['you_said']}: " + labels["quote"].format(text=quote),
            width,
            " " * len(lead),
            " " * (len(lead) + 2),
        )
    if tip.get("say_instead"):
        lines += _wrap(
            f"{labels['say_instead']}: " + labels["quote"].format(text=tip["say_instead"]),
            width,
            " " * len(lead),
            " " * (len(lead) + 2),
        )
    return lines


def _quote_core(quote: str) -> str:
    return quote.strip("…").strip()


def _pitfall_quotes(d: dict) -> dict:
    """(tip id, start) -> the window of the sentence that shows the pitfall."""
    return {
        (f"pitfall:{h['id']}", h.get("start")): h.get("quote") or h.get("text")
        for h in d.get("pitfalls") or ()
    }


# ---------------------------------------------------------------------------- delivery


def _delivery(d: dict, style: _Style, labels: dict, width: int) -> list[str]:
    j, bands = d["judgements"], d["bands"]
    rows: list[tuple[str, str, str]] = [
        (
            labels["duration"],
            f"{format_duration(d['duration_s'])} ({labels['speech']} "
            f"{format_duration(d['speech_s'])})",
            style.verdict(
                _band_note(j.get("duration"), bands.get("duration", ""), labels), j.get("duration")
            ),
        )
    ]
    # A mixed intro has both paces; only the one of the language mostly spoken is judged.
    if d.get("wpm") is not None:
        articulation = (
            f" ({labels['articulation']} {d['articulation_wpm']:.0f})"
            if d.get("articulation_wpm") is not None
            else ""
        )
        rows.append(
            (
                labels["pace"],
                labels["wpm_value"].format(n=f"{d['wpm']:.0f}") + articulation,
                _judged(j, bands, "wpm", style, labels),
            )
        )
    if d.get("chars_per_min") is not None:
        rows.append(
            (
                labels["pace"],
                labels["chars_value"].format(n=f"{d['chars_per_min']:.0f}"),
                _judged(j, bands, "chars_per_min", style, labels),
            )
        )
    if d.get("morae_per_min") is not None:
        morae = j.get("morae_per_min")
        note = _band_note(morae, bands.get("morae_per_min", ""), labels)
        value = labels["morae_value"].format(n=f"{d['morae_per_min']:.0f}")
        rows.append(("", value, style.verdict(note, morae)))
    windows = [w for w in d["pace_windows"] if _window_rate(w) is not None]
    if len(windows) > 1:
        unit = windows[0].get("unit") or "words/min"  # stored before units: words per minute
        rows.append(
            (
                labels["pace_by_window"],
                " ".join(f"{_window_rate(w):.0f}" for w in windows),
                labels["per_window"].format(unit=labels["band_text"].get(unit, unit)),
            )
        )
    p = d["pauses"]
    value = labels["pauses_value"].format(
        pauses=_plural(p["count"], labels["pause"]), long=p["long_count"]
    )
    if p["longest_at"] is not None:
        value += labels.get("list_separator", ", ") + labels["longest"].format(
            seconds=f"{p['longest_s']:.1f}", at=format_duration(p["longest_at"])
        )
    rows.append(
        (
            labels["pauses"],
            value,
            labels["pause_band"].format(min=f"{p['min_pause_s']:g}", long=f"{p['long_pause_s']:g}"),
        )
    )
    rows += _filler_rows(d, style, labels)
    if d["pitch"]["spread_semitones"] is not None:
        rows.append(
            (
                labels["pitch"],
                labels["pitch_value"].format(spread=f"{d['pitch']['spread_semitones']:.1f}"),
                style.verdict(
                    _band_note(j.get("pitch"), bands.get("pitch", ""), labels), j.get("pitch")
                ),
            )
        )
    if d["loudness"]["spread_db"] is not None:
        rows.append(
            (
                labels["loudness"],
                labels["loudness_value"].format(spread=f"{d['loudness']['spread_db']:.1f}"),
                style.verdict(
                    _band_note(j.get("loudness"), bands.get("loudness", ""), labels),
                    j.get("loudness"),
                ),
            )
        )
    return _table(rows, width)


def _filler_rows(d: dict, style: _Style, labels: dict) -> list[tuple[str, str, str]]:
    f, j = d["fillers"], d["judgements"]
    if j.get("fillers") == "unknown" or f.get("count") is None:
        return [(labels["fillers"], labels["not_counted"], labels["no_filler_list"])]
    per_min = f"{f['per_min']:.1f}" if f.get("per_min") is not None else "-"
    value = (
        labels["fillers_value"].format(
            count=f["count"], per_min=per_min, per_100=f"{f['per_100_words']:.1f}"
        )
        if f.get("per_100_words") is not None
        else labels["fillers_value_min"].format(count=f["count"], per_min=per_min)
    )
    kinds = _counts(item["text"] for item in f["items"])
    note = _band_note(j.get("fillers"), d["bands"].get("fillers", ""), labels)
    note += (f"; {kinds}" if kinds else "") + " " + labels["fillers_lower_bound"]
    return [(labels["fillers"], value, style.verdict(note, j.get("fillers")))]


def _band_note(verdict: str | None, band: str, labels: dict) -> str:
    """ "low: 2:33-3:27 (target 3:00 +-15%)", with the verdict and the unit in the report's
    language (the record stores the band in English)."""
    word = labels["verdicts"].get(verdict or "", verdict or "")
    for english, own in labels["band_text"].items():  # units and sources, longest first
        band = band.replace(english, own)
    return f"{word}: {band}" if word else band


def _table(rows: list[tuple[str, str, str]], width: int) -> list[str]:
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


def _judged(j: dict, bands: dict, metric: str, style: _Style, labels: dict) -> str:
    if metric not in j:
        return labels["not_judged"]
    return style.verdict(_band_note(j[metric], bands.get(metric, ""), labels), j[metric])


def _window_rate(w: dict) -> float | None:
    return w.get("rate", w.get("wpm"))


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


def _content(d: dict, style: _Style, titles: dict[str, str], labels: dict, width: int) -> list[str]:
    if not d["components"]:
        return ["  " + labels["not_checked"]]
    title_w = max(_width(titles.get(cid, cid)) for cid in d["components"]) + 2
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
    for cid, comp in d["components"].items():
        mark = style.verdict(labels["yes"] if comp["covered"] else labels["no"], comp["covered"])
        head = f"  {mark} {_pad(titles.get(cid, cid), title_w)}"
        strength = labels["strength"].get(comp.get("strength") or "", "")
        if comp["covered"] and comp["evidence"]:
            ev = comp["evidence"][0]
            seconds = f"{format_duration(comp['seconds']):>5}  "
            text = f"[{format_duration(ev['start'])}] " + labels["quote"].format(text=ev["text"])
            if strength:
                text += f" ({strength})"
            rows += _wrap(text, width, head + seconds, lead)
            lacking = [
                _subpoint_name(d, cid, sub)
                for sub, c in (comp.get("checks") or {}).items()
                if not c.get("present")
            ]
            if lacking:
                rows += _wrap(f"{labels['lacks']}: {_join(lacking, labels)}", width, lead, lead)
        elif comp.get("denied_by"):
            den = comp["denied_by"]
            text = f"{labels['denied']}: [{format_duration(den['start'])}] " + labels[
                "quote"
            ].format(text=den["text"])
            rows += _wrap(text, width, head + "    -  ", lead)
        else:
            rows.append(f"{head}    -  {labels['not_found']}")
    order = d["order"]
    sequence = " -> ".join(titles.get(c, c) for c in order["sequence"]) or "-"
    state = _order_state(order, style, labels)
    rows += _wrap(f"{labels['order']}: {sequence}  {state}", width, "  ", "         ")
    if order.get("note"):
        rows += _wrap(order["note"], width, "         ", "         ")
    names = _pitfall_names(feedback_language(d))
    for hit in d["pitfalls"]:
        quote = hit.get("quote") or hit["text"]
        name = names.get(hit["id"], hit["id"])
        rows += _wrap(
            f"{labels['pitfall']}: {name} [{format_duration(hit['start'])}] "
            + labels["quote"].format(text=quote),
            width,
            "  ",
            "    ",
        )
    return rows


MIN_ORDERED_PARTS = 2  # with fewer parts there is no order to call coherent (scoring agrees)


def _order_state(order: dict, style: _Style, labels: dict) -> str:
    if len(order["sequence"]) < MIN_ORDERED_PARTS and order["ok"]:
        return labels["order_not_judged"]
    return style.verdict(labels["coherent"] if order["ok"] else labels["jumbled"], order["ok"])


@cache
def _pitfall_names(language: str) -> dict[str, str]:
    """Pitfall ids -> their plain names in the language's rubric (read as data: `show` must not
    load numpy), English where the language has none."""
    for code in dict.fromkeys((language, languages.FALLBACK)):
        rubric = languages.get(code).data("components.json")
        if rubric:
            return {p["id"]: p["title"] for p in rubric.get("pitfalls", ())}
    return {}


def _subpoint_name(d: dict, cid: str, sub: str) -> str:
    from .checks import load_checks

    rules = load_checks(feedback_language(d))
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
