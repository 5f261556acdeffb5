"""The class summary: CSV a spreadsheet opens cleanly, and one self-contained HTML page.

`tests/data/class/results.jsonl` is real `analyze --json` output of schema 1 (known_en.wav,
samples/intro_weak_en.mp3, corrupt.mp3, known_ja.wav) with the file names changed to the hard
cases (Japanese, a comma, quotes and markup, a would-be formula), and the weak intro's project
marked `"strength": "partial"` as issue 10's analyser writes it.
"""

from __future__ import annotations

import csv
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from speechcoach.cli import main
from speechcoach.summary import read_records, row_from_record, to_html

DATA = Path(__file__).parent / "data"
RESULTS = DATA / "class" / "results.jsonl"
HEADER = [
    "file",
    "language",
    "duration (s)",
    "speech (s)",
    "pace",
    "pace unit",
    "fillers per min",
    "pauses",
    "long pauses",
    "Why Japan",
    "Why change jobs",
    "Recent project",
    "Situation, plan, goals",
    "pitfalls",
    "score",
    "error",
    "attempt id",
]


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 byte-order mark"
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def test_summary_csv_reads_back_with_every_row_in_order_and_a_summary_line(tmp_path):
    out = tmp_path / "class.csv"
    result = CliRunner().invoke(main, ["summary", str(RESULTS), "--csv", str(out)])
    assert result.exit_code == 0, result.output
    table = read_csv(out)
    assert table[0] == HEADER
    rows = [dict(zip(HEADER, line, strict=True)) for line in table[1:5]]
    assert [r["file"] for r in rows] == [
        "class/田中 花子.wav",
        'class/weak, "quoted" <img src=x onerror=alert(1)> intro.mp3',
        'class/=HYPERLINK("x").mp3',  # starts with "c": no guard needed
        "class/鈴木.wav",
    ]
    tanaka, weak, broken, suzuki = rows
    assert (tanaka["language"], tanaka["pace"], tanaka["pace unit"]) == ("en", "133.5", "words/min")
    assert (tanaka["score"], tanaka["attempt id"], tanaka["error"]) == ("80", "1", "")
    assert [tanaka[c] for c in HEADER[9:13]] == ["full"] * 4
    # "strength" is read when the record has it; else covered -> full, not covered -> missing
    assert [weak[c] for c in HEADER[9:13]] == ["full", "full", "partial", "missing"]
    assert "Speaking badly of an employer" in weak["pitfalls"].split("; ")
    # The names the report prints for the same pitfalls (one vocabulary for teacher and student).
    assert "Culture or anime as the reason for Japan" in weak["pitfalls"].split("; ")
    assert "Salary as the reason to change" in weak["pitfalls"].split("; ")
    assert weak["fillers per min"] == "5.6"
    assert broken["error"].startswith("class/=HYPERLINK")
    assert broken["score"] == broken["Why Japan"] == ""
    assert (suzuki["language"], suzuki["pace"], suzuki["pace unit"]) == ("ja", "329.9", "chars/min")
    assert table[5] == []  # the blank line keeps the summary out of a spreadsheet's sort range
    summary = dict(zip(HEADER, table[6], strict=True))
    assert summary["file"] == "summary: 4 recordings, 3 analysed, 1 failed"
    assert summary["Why Japan"] == "3 of 3 full, 0 partial"
    assert summary["Recent project"] == "1 of 3 full, 1 partial"
    assert summary["pace"] == "median 139.8 words/min (2); median 329.9 chars/min (1)"
    assert summary["score"] == "median 41"
    assert summary["error"] == "1 failed"
    assert summary["pitfalls"].startswith("most common: ")
    assert len(table) == 7


def test_a_cell_a_spreadsheet_would_run_as_a_formula_stays_text(tmp_path):
    out = tmp_path / "class.csv"
    records = read_records(RESULTS)
    records[0]["file"] = '=HYPERLINK("http://example.invalid","x")'
    from speechcoach.summary import write_csv

    write_csv([row_from_record(r) for r in records], out)
    assert read_csv(out)[1][0] == '\'=HYPERLINK("http://example.invalid","x")'


class _Table(HTMLParser):
    """The page's tags and cell texts, to check it is one escaped, self-contained table."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.cells: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "td":
            self._in_cell = True
            self.cells.append("")

    def handle_endtag(self, tag):
        if tag == "td":
            self._in_cell = False

    def handle_data(self, data):
        if self._in_cell:
            self.cells[-1] += data


def test_summary_html_is_self_contained_and_escapes_every_name(tmp_path):
    out = tmp_path / "class.html"
    result = CliRunner().invoke(main, ["summary", str(RESULTS), "--html", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    parser = _Table()
    parser.feed(page)
    tags = [t for t, _ in parser.tags]
    assert "img" not in tags, "a file name's markup must be shown, not rendered"
    assert tags.count("script") == 1 and tags.count("style") == 1
    assert not [a for t, a in parser.tags if a.get("src") or t == "link"], "nothing fetched"
    assert tags.count("tr") == 1 + 4 + 1  # head, a row per recording, the summary line
    assert 'weak, "quoted" <img src=x onerror=alert(1)> intro.mp3' in parser.cells
    assert "田中 花子.wav" in parser.cells and "鈴木.wav" in parser.cells
    assert "partial" in parser.cells


def test_rows_link_to_their_report_when_there_is_one():
    records = read_records(RESULTS)
    rows = [row_from_record(records[0], report="reports/田中 花子.html")]
    page = to_html(rows)
    assert 'href="reports/%E7%94%B0%E4%B8%AD%20%E8%8A%B1%E5%AD%90.html"' in page


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json\n", "results.jsonl:1: not a JSON line"),
        ('{"score": 3}\n', 'results.jsonl:1: not an analysis record (no "file" field)'),
        ("\n", "results.jsonl: no analysis records in it"),
    ],
)
def test_a_file_that_is_not_analyze_output_is_one_clear_line(tmp_path, content, message):
    source = tmp_path / "results.jsonl"
    source.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(main, ["summary", str(source), "--csv", str(tmp_path / "c.csv")])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "c.csv").exists()


def test_summary_needs_an_output_and_a_writable_place(tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["summary", str(RESULTS)]).exit_code == 2
    result = runner.invoke(main, ["summary", str(RESULTS), "--csv", str(tmp_path / "no" / "c.csv")])
    assert result.exit_code == 1
    assert "does not exist; create it first" in result.output


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.mark.slow
@pytest.mark.browser
def test_analyze_a_folder_writes_the_class_csv_and_a_page_that_sorts_and_links(tmp_path):
    """The teacher's one command: a folder of recordings in, one CSV and one page out; the page,
    in headless Chromium, sorts by score and each row opens that recording's own report."""
    from playwright.sync_api import sync_playwright

    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(DATA / "known_en.wav", folder / "01 田中.wav")
    shutil.copy(DATA / "corrupt.mp3", folder / "02 broken.mp3")
    shutil.copy(DATA.parent.parent / "samples" / "intro_weak_en.mp3", folder / "03 weak.mp3")
    csv_out, html_out, reports = tmp_path / "class.csv", tmp_path / "class.html", tmp_path / "r"
    result = CliRunner().invoke(
        main,
        ["analyze", str(folder), "--language", "en", "--csv", str(csv_out)]
        + ["--html", str(html_out), "--html-dir", str(reports)],
    )
    assert result.exit_code == 1, result.output  # one file failed; the summary is still written
    table = read_csv(csv_out)
    rows = [dict(zip(HEADER, line, strict=True)) for line in table[1:4]]
    assert [Path(r["file"]).name for r in rows] == ["01 田中.wav", "02 broken.mp3", "03 weak.mp3"]
    assert [r["attempt id"] for r in rows] == ["1", "", "2"]
    assert "not a readable audio file" in rows[1]["error"]
    assert "class summary of 3 recordings" in result.output
    scores = {Path(r["file"]).name: int(r["score"]) for r in rows if r["score"]}
    # The order the page must sort into comes from the scores the CSV holds (a 0:24 clip and a
    # 1:07 one: which scores lower is the scorer's business, not this test's).
    assert scores["03 weak.mp3"] != scores["01 田中.wav"]
    ascending = sorted(scores, key=scores.get)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(html_out.as_uri())
        names = page.locator("tbody tr td:first-child")
        assert names.all_inner_texts() == ["01 田中.wav", "02 broken.mp3", "03 weak.mp3"]
        page.get_by_role("button", name="score").click()  # ascending; the failed file last
        assert names.all_inner_texts() == [*ascending, "02 broken.mp3"]
        page.get_by_role("button", name="score").click()
        assert names.all_inner_texts()[:2] == ascending[::-1]
        assert page.locator("tfoot td").first.inner_text().startswith("3 recordings")
        assert requests == [html_out.as_uri()], "the page loads nothing else"
        page.get_by_role("link", name="03 weak.mp3").click()
        page.wait_for_load_state()
        assert page.url.startswith((reports / "03 weak.html").as_uri().rsplit("/", 1)[0])
        assert "weak" in page.url and "Speaking badly" in page.content()
        assert page.get_by_role("link", name="02 broken.mp3").count() == 0
        browser.close()


def test_summary_help_offers_only_options_it_has():
    """`summary --help` once pointed at --html-dir, an option only `analyze` has."""
    runner = CliRunner()
    summary_help = runner.invoke(main, ["summary", "--help"], terminal_width=200).output
    assert "--html-dir" not in summary_help
    assert runner.invoke(main, ["summary", str(RESULTS), "--html-dir", "x"]).exit_code == 2
    analyze_help = runner.invoke(main, ["analyze", "--help"], terminal_width=200).output
    assert "with --html-dir, each row links" in analyze_help
