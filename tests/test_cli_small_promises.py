"""Issue 12, minor items: duplicates said, imported dates checked, --plot checked before any
output and no empty chart, SIGTERM said like Ctrl-C, and a saved analysis says where it went."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DATA
from test_store import make_analysis, make_audio

from speechcoach.cli import main
from speechcoach.store import History

REPO = Path(__file__).resolve().parents[1]
KNOWN = DATA / "known_en.wav"


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args, **kwargs):
    return runner.invoke(main, [str(a) for a in args], **kwargs)


# ------------------------------------------------------------------- 22. the same file twice
def test_a_file_given_twice_is_analysed_once_and_said(runner, tmp_path):
    missing = tmp_path / "a.wav"
    link = tmp_path / "link.wav"
    link.symlink_to(KNOWN)
    for as_json in (["--json"], []):
        result = run(runner, "analyze", missing, missing, *as_json, "--no-save")
        assert f"note: {missing} is given twice; analysed once" in result.stderr
        assert result.stderr.count("no such file") == 1


def test_a_link_to_a_file_already_given_is_named(tmp_path):
    from speechcoach.audio import find_audio_files

    link = tmp_path / "link.wav"
    link.symlink_to(KNOWN)
    duplicates: list = []
    assert find_audio_files([KNOWN, link], duplicates=duplicates) == [KNOWN]
    assert duplicates == [(link, KNOWN)]


# ------------------------------------------------------------ 23. imported dates are dates
@pytest.mark.parametrize(
    "created_at",
    ["yesterday-ish", "2026-13-40T10:00:00+00:00", "2026-01-05", "2026-01-05T10:00:00"],
)
def test_an_import_with_a_made_up_date_is_refused(runner, home, tmp_path, created_at):
    export = {
        "format": "speechcoach-history",
        "format_version": 1,
        "attempts": [
            {"created_at": created_at, "analysis": make_analysis(make_audio(tmp_path, "a.wav"))}
        ],
    }
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    result = run(runner, "import", path)
    assert result.exit_code == 1
    assert '"created_at"' in result.stderr and "nothing was imported" in result.stderr
    with History.open() as history:
        assert history.count() == 0


def test_an_import_with_real_dates_still_works(runner, home, tmp_path):
    export = {
        "format": "speechcoach-history",
        "format_version": 1,
        "attempts": [
            {"created_at": when, "analysis": make_analysis(make_audio(tmp_path, f"{n}.wav"))}
            for n, when in enumerate(["2026-01-05T10:00:00+00:00", "2026-01-06T10:00:00.123Z"])
        ],
    }
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    assert run(runner, "import", path).exit_code == 0


# ------------------------------------------------------------------ 24. progress --plot
def test_plot_into_a_missing_folder_fails_before_printing_anything(runner, home, tmp_path):
    with History.open() as history:
        history.save(make_analysis(make_audio(tmp_path, "a.wav")), tmp_path / "a.wav")
    result = run(runner, "progress", "--plot", tmp_path / "nowhere" / "p.png")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "the folder" in result.stderr and "does not exist" in result.stderr


def test_plot_with_no_attempts_writes_no_empty_chart(runner, home, tmp_path):
    chart = tmp_path / "p.png"
    result = run(runner, "progress", "--plot", chart)
    assert not chart.exists()
    assert "no attempts yet, so no chart was written" in result.stderr


# --------------------------------------------- 26 and 31: SIGTERM, and where an attempt went
@pytest.mark.slow
def test_a_saved_analysis_says_its_attempt_number_once(home, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "SPEECHCOACH_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "speechcoach", "analyze", str(KNOWN), "--language", "en"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("saved as attempt #1; see: speechcoach history") == 1
    unsaved = subprocess.run(
        [
            sys.executable,
            "-m",
            "speechcoach",
            "analyze",
            str(KNOWN),
            "--language",
            "en",
            "--no-save",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
    )
    assert "saved as attempt" not in unsaved.stderr


@pytest.mark.slow
def test_sigterm_during_a_batch_says_what_was_finished(home, tmp_path):
    files = []
    for n in range(4):
        path = tmp_path / f"s{n}.wav"
        path.write_bytes(KNOWN.read_bytes() + bytes(n))
        files.append(str(path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "speechcoach", "analyze", *files, "--language", "en", "--no-save"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"},
    )
    err = ""
    deadline = time.monotonic() + 240
    while "[2/4]" not in err:  # the first file is analysed and reported
        line = proc.stderr.readline()
        assert line or proc.poll() is None, err
        err += line
        assert time.monotonic() < deadline, err
    proc.send_signal(signal.SIGTERM)
    out, rest = proc.communicate(timeout=120)
    err += rest
    assert proc.returncode == 143, err
    assert "terminated (SIGTERM): 1 of 4 files analysed and reported above; 3 not analysed" in err
    assert "Traceback" not in err
    assert "s0.wav" in out and "s1.wav" not in out  # the finished report, and only that one
