"""A class at a time: one table of every recording's result, as CSV and as one HTML page.

Built from analysis records (`analyze --json` lines: one result, or `{"file", "error"}`, per
recording), so `speechcoach summary results.jsonl` gives the same table as the batch that wrote
them. One `Row` per recording, then one summary line per column (how many covered each part,
the median pace, the most common pitfall).

Component strength: a record that says `components.<id>.strength` (full / partial / missing) is
read as it says; an older record that only says `covered` counts as full when covered and
missing when not, since it never judged "partial".
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import statistics
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import quote

from . import languages
from .config import format_duration
from .errors import SpeechcoachError
from .result import AnalysisResult, Component, ResultError, from_json

FULL, PARTIAL, MISSING, NOT_CHECKED = "full", "partial", "missing", "not checked"
STRENGTHS = (FULL, PARTIAL, MISSING)
# Component and pitfall names stay English in the table, as the report's labels do, so one
# class of mixed languages has one vocabulary to sort and count: the English rubric's titles,
# in its order.
COMPONENT_NAMES = languages.component_titles(languages.FALLBACK)


@cache
def pitfall_names() -> dict[str, str]:
    """Pitfall ids -> the names the English report prints (its rubric's titles): the summary and
    the report must not call one pitfall two things."""
    rubric = languages.get(languages.FALLBACK).data("components.json") or {}
    return {p["id"]: p.get("title", p["id"]) for p in rubric.get("pitfalls", ())}


PITFALL_SEPARATOR = "; "
MAX_TIED_NAMES = 2  # the summary names at most this many pitfalls tied for most common
# A spreadsheet runs a cell that starts with one of these as a formula ("CSV injection"): a
# file named "=HYPERLINK(...).m4a" must stay text. Only text cells are guarded; numbers are
# written as numbers.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class SummaryError(SpeechcoachError):
    """A results file could not be read as analysis records, or a summary could not be written."""


@dataclass(frozen=True)
class Row:
    """One recording's line in the class table."""

    file: str
    language: str | None = None
    duration_s: float | None = None
    speech_s: float | None = None
    pace: float | None = None  # in `pace_unit`: the rate the pace was judged by
    pace_unit: str | None = None  # "words/min" or "chars/min"
    fillers_per_min: float | None = None
    pauses: int | None = None
    long_pauses: int | None = None
    components: dict[str, str] = field(default_factory=dict)  # id -> full/partial/missing
    pitfalls: tuple[str, ...] = ()  # ids, in the order they were said (each kind once)
    score: int | None = None
    error: str | None = None
    attempt_id: int | None = None
    report: str | None = None  # a link (relative URL) to this recording's own report

    @property
    def ok(self) -> bool:
        return self.error is None


def row_from_record(record: dict | AnalysisResult, report: str | None = None) -> Row:
    """The table row of one analysis record (`analyze --json`'s object, or `{"file", "error"}`
    for a file that failed); `attempt_id` is read from the dict when the batch saved it."""
    if isinstance(record, dict) and record.get("error"):
        return Row(
            file=str(record.get("file", "")),
            error=str(record["error"]),
            attempt_id=record.get("attempt_id"),
        )
    attempt_id = record.get("attempt_id") if isinstance(record, dict) else None
    r = from_json(record)
    pace = getattr(r, r.pace.metric, None) if r.pace else None
    return Row(
        file=r.file,
        language=r.language,
        duration_s=r.duration_s,
        speech_s=r.speech_s,
        pace=pace,
        pace_unit=r.pace.unit if pace is not None else None,
        fillers_per_min=r.fillers.per_min if r.fillers.count is not None else None,
        pauses=r.pauses.count,
        long_pauses=r.pauses.long_count,
        components={cid: strength(c) for cid, c in r.components.items()},
        pitfalls=tuple(dict.fromkeys(p.id for p in r.pitfalls)),
        score=r.score,
        attempt_id=attempt_id,
        report=report,
    )


def strength(component: Component) -> str:
    """full / partial / missing: the record's own `strength`, else from `covered` (see above)."""
    if component.strength in STRENGTHS:
        return component.strength
    return FULL if component.covered else MISSING


# ------------------------------------------------------------------ the table


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    numeric: bool = False


def component_ids(rows: Iterable[Row]) -> list[str]:
    """The rubric's components first, in the order spoken in a good intro, then any others."""
    seen = dict.fromkeys(COMPONENT_NAMES)
    for row in rows:
        seen.update(dict.fromkeys(row.components))
    return list(seen)


def columns(rows: list[Row]) -> list[Column]:
    return [
        Column("file", "file"),
        Column("language", "language"),
        Column("duration_s", "duration (s)", True),
        Column("speech_s", "speech (s)", True),
        Column("pace", "pace", True),
        Column("pace_unit", "pace unit"),
        Column("fillers_per_min", "fillers per min", True),
        Column("pauses", "pauses", True),
        Column("long_pauses", "long pauses", True),
        *(Column(f"component:{cid}", COMPONENT_NAMES.get(cid, cid)) for cid in component_ids(rows)),
        Column("pitfalls", "pitfalls"),
        Column("score", "score", True),
        Column("error", "error"),
        Column("attempt_id", "attempt id", True),
    ]


def cell(row: Row, key: str):
    """The value of one cell: a number, a string, or None (empty)."""
    if key.startswith("component:"):
        if not row.ok:
            return None
        return row.components.get(key.split(":", 1)[1], NOT_CHECKED)
    if key == "pitfalls":
        return PITFALL_SEPARATOR.join(pitfall_names().get(p, p) for p in row.pitfalls) or None
    return getattr(row, key)


def summary_line(rows: list[Row], cols: list[Column]) -> dict[str, str]:
    """One summary per column: counts, medians, the most common pitfall."""
    done = [r for r in rows if r.ok]
    failed = len(rows) - len(done)
    out = {c.key: "" for c in cols}
    out["file"] = f"{len(rows)} recordings, {len(done)} analysed" + (
        f", {failed} failed" if failed else ""
    )
    out["language"] = ", ".join(
        f"{lang} {n}" for lang, n in Counter(r.language or "?" for r in done).most_common()
    )
    for key in ("fillers_per_min", "pauses", "long_pauses", "score"):
        out[key] = _median_text([getattr(r, key) for r in done])
    for key in ("duration_s", "speech_s"):
        seconds = [getattr(r, key) for r in done if getattr(r, key) is not None]
        if seconds:
            median = statistics.median(seconds)
            out[key] = f"median {format_duration(median)} ({median:.1f} s)"
    paces = {}
    for r in done:
        if r.pace is not None:
            paces.setdefault(r.pace_unit, []).append(r.pace)
    out["pace"] = "; ".join(
        f"median {_number(statistics.median(v))} {unit} ({len(v)})" for unit, v in paces.items()
    )
    for c in cols:
        if c.key.startswith("component:"):
            counts = Counter(cell(r, c.key) for r in done)
            checked = len(done) - counts[NOT_CHECKED]
            out[c.key] = f"{counts[FULL]} of {checked} full, {counts[PARTIAL]} partial" + (
                f" ({counts[NOT_CHECKED]} not checked)" if counts[NOT_CHECKED] else ""
            )
    pitfalls = Counter(p for r in done for p in r.pitfalls)
    if pitfalls:
        top = max(pitfalls.values())
        names = [pitfall_names().get(p, p) for p, n in pitfalls.most_common() if n == top]
        if len(names) > MAX_TIED_NAMES:  # a tie of many says little: name two, count the rest
            names = names[:MAX_TIED_NAMES] + [f"{len(names) - MAX_TIED_NAMES} more tied"]
        out["pitfalls"] = f"most common: {' / '.join(names)} ({top} of {len(done)})"
    else:
        out["pitfalls"] = "none found" if done else ""
    out["error"] = f"{failed} failed" if failed else "none failed"
    return out


def _median_text(values: list) -> str:
    values = [v for v in values if v is not None]
    return f"median {_number(statistics.median(values))}" if values else ""


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


# ------------------------------------------------------------------ reading records


def read_records(path: Path) -> list[dict]:
    """The records of a JSON Lines file written by `analyze --json`, in order."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise SummaryError(f"{path}: cannot read it ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise SummaryError(
            f"{path}: not UTF-8 text; give the JSON Lines file `speechcoach analyze --json` wrote"
        ) from exc
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SummaryError(
                f"{path}:{number}: not a JSON line ({exc.msg}); give the file "
                "`speechcoach analyze --json` wrote, one object per line"
            ) from exc
        if not isinstance(record, dict) or "file" not in record:
            raise SummaryError(
                f'{path}:{number}: not an analysis record (no "file" field); give the file '
                "`speechcoach analyze --json` wrote"
            )
        if not record.get("error"):
            try:
                from_json(record)
            except ResultError as exc:
                raise SummaryError(
                    f"{path}:{number}: {exc}; give the file `speechcoach analyze --json` wrote"
                ) from exc
        records.append(record)
    if not records:
        raise SummaryError(f"{path}: no analysis records in it")
    return records


# ------------------------------------------------------------------ CSV


def to_csv(rows: list[Row]) -> str:
    """The table as CSV text: a header, a row per recording, a blank line, the summary line.

    The blank line keeps the summary out of the block a spreadsheet sorts or filters.
    """
    cols = columns(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # QUOTE_MINIMAL, "\r\n" line ends: what spreadsheets expect
    writer.writerow([c.title for c in cols])
    for row in rows:
        writer.writerow([_csv_cell(cell(row, c.key)) for c in cols])
    writer.writerow([])
    line = summary_line(rows, cols)
    writer.writerow([_csv_cell(f"summary: {line['file']}")] + [line[c.key] for c in cols[1:]])
    return buffer.getvalue()


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    return str(value)


def write_csv(rows: list[Row], path: Path) -> None:
    """UTF-8 with a byte-order mark, so Excel reads Japanese names as Japanese."""
    _write_atomic(Path(path), to_csv(rows).encode("utf-8-sig"))


# ------------------------------------------------------------------ HTML


def to_html(rows: list[Row], title: str = "Class summary") -> str:
    """One self-contained page (inline CSS and JS, nothing fetched), sortable by any column."""
    cols = columns(rows)
    esc = html.escape
    head = "".join(
        f'<th scope="col" data-numeric="{int(c.numeric)}"><button type="button">'
        f"{esc(c.title.removesuffix(' (s)'))}</button></th>"  # shown as m:ss on the page
        for c in cols
    )
    body = "\n".join(_html_row(row, cols) for row in rows)
    line = summary_line(rows, cols)
    foot = "".join(f"<td>{esc(line[c.key])}</td>" for c in cols)
    return _PAGE.format(
        title=esc(title),
        count=len(rows),
        head=head,
        body=body,
        foot=foot,
        style=_STYLE,
        script=_SCRIPT,
    )


def _html_row(row: Row, cols: list[Column]) -> str:
    cells = []
    for c in cols:
        value = cell(row, c.key)
        sort = "" if value is None else str(value)
        shown = _html_value(row, c.key, value)
        strength_cell = value in (*STRENGTHS, NOT_CHECKED)
        classes = f' class="part-{value.replace(" ", "-")}"' if strength_cell else ""
        cells.append(f'<td data-sort="{html.escape(sort)}"{classes}>{shown}</td>')
    return f'<tr class="{"ok" if row.ok else "failed"}">' + "".join(cells) + "</tr>"


def _html_value(row: Row, key: str, value) -> str:
    esc = html.escape
    if value is None:
        return ""
    if key == "file":
        name = esc(Path(row.file).name)
        full = esc(row.file)
        if row.report:
            return f'<a href="{esc(quote(row.report, safe="/#?=&"))}" title="{full}">{name}</a>'
        return f'<span title="{full}">{name}</span>'
    if key in ("duration_s", "speech_s"):
        return esc(format_duration(value))
    if key == "pitfalls":
        return "<br>".join(esc(pitfall_names().get(p, p)) for p in row.pitfalls)
    return esc(str(value))


def write_html(rows: list[Row], path: Path, title: str = "Class summary") -> None:
    _write_atomic(Path(path), to_html(rows, title).encode("utf-8"))


def _write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file, so a failure never leaves half a summary."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        raise SummaryError(f"{path}: cannot write the summary ({exc.strerror or exc})") from exc


class ClassSummary:
    """Collects a batch's records in input order and writes the CSV and/or HTML at the end."""

    def __init__(self, csv_path: Path | None = None, html_path: Path | None = None):
        self.csv_path, self.html_path = csv_path, html_path
        for path in self.paths:
            check_writable(path)
        self.records: list[dict] = []
        self.reports: dict[str, Path] = {}  # record["file"] -> its own HTML report, if written

    @property
    def paths(self) -> list[Path]:
        return [p for p in (self.csv_path, self.html_path) if p is not None]

    def add(self, record: dict) -> None:
        self.records.append(record)

    def write(self) -> list[Path]:
        rows = [row_from_record(r, self._link(r.get("file"))) for r in self.records]
        if self.csv_path:
            write_csv(rows, self.csv_path)
        if self.html_path:
            write_html(rows, self.html_path)
        return self.paths

    def _link(self, file) -> str | None:
        """The report's address relative to the class page, so the two move together."""
        report = self.reports.get(str(file))
        if report is None or self.html_path is None:
            return None
        start = Path(self.html_path).resolve().parent
        return Path(os.path.relpath(Path(report).resolve(), start)).as_posix()


def check_writable(path: Path) -> None:
    """Fail before a long batch, not after it, when the summary cannot be written."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise SummaryError(f"{path}: is a folder; give a file name such as {path / 'class.csv'}")
    if not parent.is_dir():
        raise SummaryError(f"{path}: the folder {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise SummaryError(f"{path}: not writable; choose another place for the summary")


_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; vertical-align: top; }
th button { font: inherit; font-weight: bold; border: 0; background: none; cursor: pointer; }
th[aria-sort="ascending"] button::after { content: " \\25B2"; }
th[aria-sort="descending"] button::after { content: " \\25BC"; }
td[data-sort] { white-space: nowrap; }
td.part-full { background: #e3f4e3; } td.part-partial { background: #fdf3d6; }
td.part-missing { background: #fbe1e1; } td.part-not-checked { color: #888; }
tr.failed td { color: #a00; }
tfoot td { background: #f2f2f2; font-style: italic; white-space: normal; }
"""

# Sorts the body rows by the clicked column (numbers as numbers, empty cells last); the
# summary line sits in <tfoot> and never moves.
_SCRIPT = """
document.querySelectorAll("thead th").forEach(function (th, index) {
  th.querySelector("button").addEventListener("click", function () {
    var numeric = th.dataset.numeric === "1";
    var descending = th.getAttribute("aria-sort") === "ascending";
    document.querySelectorAll("thead th").forEach(function (o) { o.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var body = document.querySelector("tbody");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[index].dataset.sort, y = b.cells[index].dataset.sort;
      if (x === "" || y === "") { return (x === "") - (y === ""); }
      var order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<h1>{title}</h1>
<p>{count} recordings. Click a column title to sort. Pace is words per minute over the
speaking span (Japanese: characters per minute); fillers are a lower bound (Whisper leaves many
out); a part is <em>full</em>, <em>partial</em> or <em>missing</em> as the report judged it.</p>
<table>
<thead><tr>{head}</tr></thead>
<tbody>
{body}
</tbody>
<tfoot><tr>{foot}</tr></tfoot>
</table>
<script>{script}</script>
</body>
</html>
"""
