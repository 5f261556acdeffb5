"""The history commands through the real CLI (CliRunner) on real SQLite files: history, show,
compare, progress (terminal chart and PNG), forget, export/import, and the failure cases."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DATA
from test_store import make_analysis, make_audio

from speechcoach.cli import main
from speechcoach.config import Targets
from speechcoach.progress import progress
from speechcoach.report import render_report
from speechcoach.store import History

HISTORY_COMMANDS = ("history", "show", "compare", "progress", "forget", "export", "import")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MIN_PNG_BYTES = 10_000  # five labelled panels; an empty canvas is a few hundred bytes


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args, **kwargs):
    return runner.invoke(main, [str(a) for a in args], **kwargs)


@pytest.fixture
def three_attempts(home, tmp_path) -> list[dict]:
    """Three attempts, each better than the last, as a user practising would save them."""
    attempts = [
        ("v1", make_analysis(tmp_path / "v1.wav", score=48, duration_s=105, wpm=185, fillers_per_min=7.5, long_pauses=4,
                             covered=("japan",), pitfalls=("badmouth", "culture_reason"))),
        ("v2", make_analysis(tmp_path / "v2.wav", score=62, duration_s=140, wpm=172, fillers_per_min=5.5, long_pauses=3,
                             covered=("japan", "project"), pitfalls=("culture_reason",))),
        ("v3, slower", make_analysis(tmp_path / "v3.wav", score=81, duration_s=171, wpm=151, fillers_per_min=2.4, long_pauses=1,
                                     covered=("japan", "project", "plan"), pitfalls=())),
    ]
    with History.open() as history:
        for label, analysis in attempts:
            audio = make_audio(tmp_path, Path(analysis["file"]).name)
            assert history.save(analysis, audio, label=label).id == len(history.list())
    return [analysis for _, analysis in attempts]


# -------------------------------------------------------------------------------------- history
def test_history_lists_the_attempts_newest_first(runner, three_attempts):
    result = run(runner, "history")
    assert result.exit_code == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split()[:4] == ["ID", "When", "Score", "Length"]
    assert [row.split()[0] for row in rows] == ["#3", "#2", "#1"]
    assert "81     2:51/3:00  151 wpm  2.4       3/4    0         v3, slower  v3.wav" in rows[0]


def test_history_json_and_limit(runner, three_attempts):
    result = run(runner, "history", "--json")
    listed = json.loads(result.stdout)
    assert [(a["id"], a["label"], a["score"]) for a in listed] == [(3, "v3, slower", 81), (2, "v2", 62), (1, "v1", 48)]
    assert "analysis" not in listed[0]
    assert [a["id"] for a in json.loads(run(runner, "history", "--json", "-n", "1").stdout)] == [3]


def test_history_when_there_is_none(runner):
    result = run(runner, "history")
    assert (result.exit_code, result.stdout) == (0, "No attempts yet: `speechcoach analyze FILE` or `speechcoach record` saves one.\n")


# ----------------------------------------------------------------------------------------- show
def test_show_renders_the_stored_report_without_the_recording(runner, three_attempts, tmp_path):
    for wav in tmp_path.glob("v*.wav"):
        wav.unlink()  # nothing left to transcribe: the report must come from the database
    result = run(runner, "show", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == render_report(three_attempts[1]) + "\n"
    assert result.stderr.startswith('attempt #2 "v2", analysed ')
    newest = run(runner, "show")
    assert newest.stdout == render_report(three_attempts[2]) + "\n"


def test_show_json_is_the_stored_analysis(runner, three_attempts):
    shown = json.loads(run(runner, "show", "1", "--json").stdout)
    assert shown == {**three_attempts[0], "attempt_id": 1, "label": "v1"}


def test_show_an_unknown_id_is_one_line_and_exit_1(runner, three_attempts, home):
    result = run(runner, "show", "99")
    assert result.exit_code == 1
    assert result.stderr == f"error: no attempt #99 in {home / 'history.db'}; `speechcoach history` lists the attempts and their ids\n"
    assert result.stdout == ""


def test_show_with_an_empty_history(runner):
    result = run(runner, "show")
    assert (result.exit_code, result.stderr) == (1, "error: no attempts yet: `speechcoach analyze FILE` or `speechcoach record` saves one\n")


# -------------------------------------------------------------------------------------- compare
def test_compare_defaults_to_the_last_two(runner, three_attempts):
    result = run(runner, "compare")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("Attempt #2 -> #3\n")
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ") and line.split()}
    assert rows["Score"].split() == ["Score", "62/100", "81/100", "+19", "better"]
    assert rows["Duration"].split()[1:] == ["2:20", "of", "3:00", "2:51", "of", "3:00", "+0:31", "better", "target", "2:33-3:27"]
    assert rows["Pace"].split()[1:6] == ["172", "words/min", "151", "words/min", "-21"]
    assert rows["Fillers"].split()[1:6] == ["5.5/min", "(3.2/100", "w)", "2.4/min", "(1.6/100"]
    assert '  Parts gained:   "Situation, plan, goals"\n' in out
    assert "  Parts lost:     none\n  Pitfalls fixed: culture_reason\n  Pitfalls new:   none\n" in out
    assert out.endswith('Biggest improvement: you now cover "Situation, plan, goals".\n'
                        "Biggest remaining gap: Say career change: it is missing.\n")


def test_compare_json(runner, three_attempts):
    data = json.loads(run(runner, "compare", "--json").stdout)
    assert (data["before"]["id"], data["after"]["id"]) == (2, 3)
    metrics = {m["key"]: m for m in data["metrics"]}
    assert {k: m["verdict"] for k, m in metrics.items()} == {
        "score": "better", "duration": "better", "pace": "better", "long_pauses": "better", "fillers": "better", "components": "better"}
    assert (metrics["score"]["change"], metrics["duration"]["change"], metrics["pace"]["band"]["low"]) == (19, 31, 120)
    assert data["components"] == {"gained": ["plan"], "lost": []}
    assert data["pitfalls"] == {"fixed": ["culture_reason"], "new": [], "still": []}


def test_compare_chosen_attempts(runner, three_attempts):
    both = json.loads(run(runner, "compare", "1", "3", "--json").stdout)
    one = json.loads(run(runner, "compare", "1", "--json").stdout)  # one id: that one and the newest
    assert both == one
    assert both["components"]["gained"] == ["project", "plan"]
    assert both["pitfalls"]["fixed"] == ["badmouth", "culture_reason"]
    # the largest gap closed: duration from 1:45 (42 s under the band) into it
    assert both["biggest_improvement"] == 'Biggest improvement: you now cover "Recent project", "Situation, plan, goals".'
    backwards = json.loads(run(runner, "compare", "3", "1", "--json").stdout)
    assert backwards["components"]["lost"] == ["project", "plan"] and backwards["pitfalls"]["new"] == ["badmouth", "culture_reason"]
    assert backwards["biggest_improvement"] == "Biggest improvement: none; nothing moved closer to its target this time."


def test_compare_a_worse_attempt(runner, three_attempts, tmp_path):
    audio = make_audio(tmp_path, "v4.wav")
    with History.open() as history:
        history.save(make_analysis(audio, score=70, duration_s=230, wpm=150, fillers_per_min=2.0, long_pauses=1,
                                   covered=("japan", "project"), pitfalls=("salary_only",)), audio, label="v4, too long")
    data = json.loads(run(runner, "compare", "--json").stdout)
    verdicts = {m["key"]: m["verdict"] for m in data["metrics"]}
    assert verdicts == {"score": "worse", "duration": "worse", "pace": "same", "long_pauses": "same", "fillers": "better",
                        "components": "worse"}
    assert data["components"]["lost"] == ["plan"] and data["pitfalls"]["new"] == ["salary_only"]
    text = run(runner, "compare").stdout
    assert "  Parts lost:     \"Situation, plan, goals\"\n" in text and "  Pitfalls new:   salary_only\n" in text


def test_compare_needs_two_attempts(runner, tmp_path):
    audio = make_audio(tmp_path, "only.wav")
    with History.open() as history:
        history.save(make_analysis(audio), audio)
    result = run(runner, "compare")
    assert result.exit_code == 1
    assert result.stderr == "error: compare needs two attempts and the history has 1; analyse or record another attempt first\n"


def test_compare_bad_ids(runner, three_attempts):
    newest = run(runner, "compare", "3")
    assert (newest.exit_code, newest.stderr) == (1, "error: attempt #3 is the newest; give two IDs, e.g. `speechcoach compare 2 3`\n")
    assert run(runner, "compare", "1", "42").exit_code == 1
    assert run(runner, "compare", "1", "2", "3").exit_code == 2


# ------------------------------------------------------------------------------------- progress
def test_progress_chart_in_the_terminal(runner, three_attempts):
    result = run(runner, "progress")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("Progress over 3 attempts\nPersonal best: 81/100 (#3, ")
    for heading, trend in [
        ("Score (/100)", "#1 -> #3: 48 -> 81"),
        ("Pace (words/min) - target 120-160 words/min (Street & Brady 1982; practice tools)", "#1 -> #3: 185 -> 151"),
        ("Fillers (per min) - target 0-5 fillers/min", "#1 -> #3: 7.5 -> 2.4"),
        ("Duration (m:ss) - target 2:33-3:27 (target 3:00 +-15%)", "#1 -> #3: 1:45 -> 2:51"),
        ("Parts covered (of 4) - target 4 of 4", "#1 -> #3: 1 -> 3"),
    ]:
        assert heading in out and trend in out
    pace = out.split("Pace (words/min)")[1].split("\n\n")[0].splitlines()
    # top row: 185 (#1) alone; the band's top edge labelled 160; #3 (151) inside the band
    assert pace[1].split() == ["185", "|", "o"]
    assert pace[4].split() == ["160", "|", ":", ":", ":"]
    assert pace[5].split() == ["|", ":", ":", "o"]


def test_progress_json_and_last(runner, three_attempts):
    data = json.loads(run(runner, "progress", "--json").stdout)
    series = {s["key"]: s for s in data["series"]}
    assert series["score"]["values"] == [48, 62, 81]
    assert series["pace"]["values"] == [185, 172, 151] and series["pace"]["band"]["high"] == 160
    assert series["fillers"]["values"] == [7.5, 5.5, 2.4]
    assert series["duration"]["values"] == [105, 140, 171] and series["duration"]["band"]["low"] == 153
    assert series["components"]["values"] == [1, 2, 3]
    assert data["best"] == {"id": 3, "score": 81}
    last_two = json.loads(run(runner, "progress", "--json", "--last", "2").stdout)
    assert [a["id"] for a in last_two["attempts"]] == [2, 3]


def test_progress_axes_are_labelled_with_the_target_bands(three_attempts):
    with History.open() as history:
        labels = {s.key: s.axis_label for s in progress(history.chronological(), Targets()).series}
    assert labels == {
        "score": "Score (/100)",
        "pace": "Pace (words/min)\ntarget 120-160 words/min",
        "fillers": "Fillers (per min)\ntarget 0-5 fillers/min",
        "duration": "Duration (m:ss)\ntarget 2:33-3:27",
        "components": "Parts covered (of 4)\ntarget 4 of 4",
    }


def test_progress_plot_writes_a_png(runner, three_attempts, tmp_path):
    png = tmp_path / "progress.png"
    result = run(runner, "progress", "--plot", png)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"chart written to {png}\n"
    data = png.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > MIN_PNG_BYTES
    import matplotlib.image

    height, width, _ = matplotlib.image.imread(png).shape
    assert height > width > 500  # five stacked panels


def test_progress_plot_to_a_folder_that_does_not_exist(runner, three_attempts, tmp_path):
    target = tmp_path / "missing" / "progress.png"
    result = run(runner, "progress", "--plot", target)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot write the chart to {target} (")
    assert result.stderr.endswith("); choose a writable path with --plot\n")


def test_progress_with_no_attempts(runner):
    result = run(runner, "progress")
    assert (result.exit_code, result.stdout) == (0, "No attempts yet: `speechcoach analyze FILE` or `speechcoach record` saves one.\n")


# ------------------------------------------------------------------------------ forget / export
def test_forget(runner, three_attempts):
    result = run(runner, "forget", "2")
    assert result.exit_code == 0
    assert result.stderr.startswith("forgot attempt #2 (v2.wav, ")
    assert [a["id"] for a in json.loads(run(runner, "history", "--json").stdout)] == [3, 1]
    again = run(runner, "forget", "2")
    assert again.exit_code == 1 and again.stderr.startswith("error: no attempt #2 in ")


def test_export_then_import_elsewhere(runner, three_attempts, tmp_path, monkeypatch):
    exported = tmp_path / "history.json"
    result = run(runner, "export", exported)
    assert (result.exit_code, result.stderr) == (0, "exported 3 attempts\n")
    assert json.loads(run(runner, "export").stdout)["attempts"] == json.loads(exported.read_text())["attempts"]
    before = run(runner, "history", "--json").stdout

    monkeypatch.setenv("SPEECHCOACH_HOME", str(tmp_path / "other-home"))
    result = run(runner, "import", exported)
    assert (result.exit_code, result.stderr) == (0, "imported 3 new, 0 updated, 0 already there\n")
    assert run(runner, "history", "--json").stdout == before
    assert run(runner, "import", exported).stderr == "imported 0 new, 0 updated, 3 already there\n"
    assert run(runner, "import", "-", input=exported.read_text()).exit_code == 0


def test_import_refuses_what_is_not_an_export(runner, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = run(runner, "import", broken)
    assert result.exit_code == 1 and result.stderr.startswith(f"error: {broken} is not valid JSON (")
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}')
    result = run(runner, "import", other)
    assert result.stderr == ('error: not a speechcoach history export (expected "format": "speechcoach-history"); '
                             "make one with `speechcoach export`\n")


# --------------------------------------------------------------------------- a damaged database
@pytest.mark.parametrize("args", [["history"], ["show", "1"], ["compare"], ["progress"], ["forget", "1"], ["export"]])
def test_a_damaged_database_is_one_clear_line_and_left_untouched(runner, home, args):
    db = home / "history.db"
    garbage = b"this is not sqlite " * 500
    db.write_bytes(garbage)
    result = run(runner, *args)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: history database {db} is damaged or is not a speechcoach history (file is not a database); it was left "
        f"untouched. To recover, move it aside (mv '{db}' '{db}.broken') and a new, empty one will be created on the next run\n"
    )
    assert "Traceback" not in result.output
    assert db.read_bytes() == garbage


def test_moving_a_damaged_database_aside_starts_a_new_history(runner, home, tmp_path):
    db = home / "history.db"
    db.write_bytes(b"garbage" * 100)
    assert run(runner, "history").exit_code == 1
    db.rename(home / "history.db.broken")  # what the error says to do
    assert run(runner, "history").exit_code == 0
    assert (home / "history.db.broken").read_bytes() == b"garbage" * 100


@pytest.mark.parametrize("command", HISTORY_COMMANDS)
def test_every_history_command_has_help(runner, command):
    result = run(runner, command, "--help")
    assert result.exit_code == 0
    first_words = " ".join(main.commands[command].help.split()[:5])
    assert first_words in " ".join(result.stdout.split())


# ----------------------------------------------------------------------------- end to end (Whisper)
@pytest.mark.slow
def test_analyzing_a_clip_twice_keeps_one_attempt_and_show_matches_analyze(runner, tmp_path):
    clip = tmp_path / "known_en.wav"
    shutil.copy(DATA / "known_en.wav", clip)
    first = run(runner, "analyze", clip)
    assert first.exit_code == 0, first.stderr
    again = run(runner, "analyze", clip, "--label", "v2, slower")
    assert again.exit_code == 0, again.stderr
    listed = json.loads(run(runner, "history", "--json").stdout)
    assert [(a["id"], a["label"]) for a in listed] == [(1, "v2, slower")]
    assert listed[0]["audio_path"] == str(clip.resolve()) and listed[0]["wpm"] > 0

    clip.unlink()  # `show` needs neither the recording nor Whisper
    shown = run(runner, "show")
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout == again.stdout  # the very report `analyze` printed

    other = tmp_path / "known_en.flac"  # the same words, other bytes: another attempt
    shutil.copy(DATA / "known_en.flac", other)
    third = run(runner, "analyze", other, "--label", "v3")
    assert third.exit_code == 0, third.stderr
    assert [a["label"] for a in json.loads(run(runner, "history", "--json").stdout)] == ["v3", "v2, slower"]
    compared = run(runner, "compare")
    assert compared.exit_code == 0 and compared.stdout.startswith("Attempt #1 -> #2\n")
    assert run(runner, "analyze", other, "--no-save", "--label", "not stored").exit_code == 0
    assert len(json.loads(run(runner, "history", "--json").stdout)) == 2
