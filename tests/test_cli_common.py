"""Bad input through the real CLI: one clear line on stderr, no traceback, the right exit code.
These need no Whisper model: every file fails before transcription."""

import json

import pytest
from click.testing import CliRunner

from speechcoach.cli import main


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args):
    return runner.invoke(main, list(args))


def test_missing_file(runner, tmp_path):
    result = run(runner, "analyze", str(tmp_path / "nope.wav"), "--no-save")
    assert result.exit_code == 1
    assert "nope.wav: no such file" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_empty_file(runner, tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    result = run(runner, "analyze", str(empty), "--no-save")
    assert result.exit_code == 1
    assert "the file is empty (0 bytes)" in result.stderr


def test_not_audio(runner, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("this is not a recording\n" * 20)
    result = run(runner, "analyze", str(text), "--no-save")
    assert result.exit_code == 1
    assert "notes.txt: no audio track found; is it a recording?" in result.stderr
    assert "Traceback" not in result.stderr


def test_json_error_line_in_place_of_the_file(runner, tmp_path):
    result = run(
        runner, "analyze", str(tmp_path / "a.wav"), str(tmp_path / "b.mp3"), "--json", "--no-save"
    )
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(tmp_path / "a.wav"), str(tmp_path / "b.mp3")]
    assert all("no such file" in line["error"] for line in lines)


def test_folder_without_audio(runner, tmp_path):
    (tmp_path / "readme.txt").write_text("x")
    result = run(runner, "analyze", str(tmp_path), "--no-save")
    assert result.exit_code == 1
    assert "no audio files found" in result.stderr


def test_debug_shows_the_traceback(runner, tmp_path):
    result = run(runner, "--debug", "analyze", str(tmp_path / "nope.wav"), "--no-save")
    assert result.exit_code != 0
    assert result.exception is not None  # re-raised for the developer


@pytest.mark.parametrize(
    "args",
    [
        ["analyze"],
        ["analyze", "x.wav", "--target", "soon"],
        ["analyze", "x.wav", "--engine", "nope"],
    ],
)
def test_usage_errors_exit_2(runner, args):
    result = run(runner, *args)
    assert result.exit_code == 2


def test_every_command_has_help(runner):
    for name, command in main.commands.items():
        result = run(runner, name, "--help")
        assert result.exit_code == 0, name
        assert command.help or command.short_help, f"{name} has no help text"


def test_a_model_that_must_be_downloaded_offline_says_what_to_do(tmp_path, home):
    import os
    import subprocess
    import sys

    from conftest import DATA

    # HF_HUB_OFFLINE makes the hub client fail at once, as it does on a machine with no network.
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "speechcoach",
            "analyze",
            str(DATA / "known_en.wav"),
            "--model",
            "small",
            "--no-save",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1
    assert "model 'small' is not on this machine and could not be downloaded" in result.stderr
    assert "--model tiny.en" in result.stderr and "Traceback" not in result.stderr


def test_language_codes_are_checked_before_any_model_loads(runner, tmp_path):
    result = run(runner, "analyze", str(tmp_path / "x.wav"), "--language", "english")
    assert result.exit_code == 2
    assert "'english' is not a Whisper language code" in result.stderr


@pytest.mark.parametrize(
    "setting",
    ['target = "0s"', "pause_min_s = -1", "target_tolerance = 2", "bands = 5", "target = true"],
)
def test_impossible_settings_are_refused_in_one_line(runner, home, setting):
    (home / "config.toml").write_text(setting + "\n")
    result = run(runner, "analyze", str(home / "x.wav"), "--no-save")
    assert result.exit_code == 1
    assert "config.toml:" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["0s", "0", "0.0001s", "99999999m", "1:99", "1:5", "2:30:00"])
def test_an_absurd_or_malformed_target_is_a_usage_error(runner, tmp_path, value):
    # Issue 12 item 21: usage errors exit 2 everywhere (a zero target exited 1).
    result = run(runner, "analyze", str(tmp_path / "x.wav"), "--target", value)
    assert result.exit_code == 2
    assert "Invalid value for '--target'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["10s", "90s", "2:30", "3m", "30m"])
def test_sane_targets_are_accepted(value):
    from speechcoach.config import check_target_s, parse_duration

    assert check_target_s(parse_duration(value)) > 0


def test_the_same_file_twice_is_reported_once(runner, tmp_path):
    missing = str(tmp_path / "a.wav")
    result = run(runner, "analyze", missing, missing, "--json", "--no-save")
    assert len(result.stdout.splitlines()) == 1


def test_hidden_metadata_twins_in_a_folder_are_skipped(runner, tmp_path):
    (tmp_path / "._intro.m4a").write_bytes(
        b"\x00\x05\x16\x07" * 64
    )  # what macOS leaves on shared drives
    result = run(runner, "analyze", str(tmp_path), "--no-save")
    assert result.exit_code == 1 and "no audio files found" in result.stderr


def test_a_model_that_cannot_load_stops_the_batch_with_one_message(runner):
    from conftest import DATA

    files = [str(DATA / "known_en.wav"), str(DATA / "known_en.flac")]
    result = run(runner, "analyze", *files, "--model", "no-such-model", "--json", "--no-save")
    assert result.exit_code == 1
    assert result.stderr.count("unknown model 'no-such-model'") == 1
    assert [json.loads(line)["file"] for line in result.stdout.splitlines()] == files


def test_an_unusable_home_folder_is_one_line(runner, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SPEECHCOACH_HOME", str(blocker / "home"))
    result = run(runner, "analyze", str(tmp_path / "x.wav"), "--model", "base")
    assert "Traceback" not in result.stderr
    result = run(runner, "models")
    assert result.exit_code == 1 and "cannot create the speechcoach folder" in result.stderr
