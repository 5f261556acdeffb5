"""Issue 12, security and tracebacks: other people's text never drives the terminal, and odd but
real inputs (a BOM, a Latin-1 config, a huge id, a non-UTF-8 file name...) get one line, not a
traceback. The real CLI, in a subprocess where the locale or the pipe matters."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DATA
from test_store import make_analysis, make_audio

from speechcoach.cli import main
from speechcoach.store import History
from speechcoach.terminal import clean_text

REPO = Path(__file__).resolve().parents[1]
# Clear screen, set the window title, write the clipboard (OSC 52), a bell, a backspace.
HOSTILE = "\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZWNobyBwd25lZA==\x07\b\x9b31m"
CONTROL_BYTES = ("\x1b", "\x07", "\x08", "\x9b")


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args, **kwargs):
    return runner.invoke(main, [str(a) for a in args], **kwargs)


def cli(*args, env=None, **kwargs) -> subprocess.CompletedProcess:
    """The installed entry point in a fresh process, output piped (bytes kept as bytes)."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "speechcoach", *map(str, args)],
        capture_output=True,
        env=full_env,
        cwd=REPO,
        timeout=300,
        **kwargs,
    )


def no_traceback(result) -> None:
    text = result.output + (result.stderr or "") if hasattr(result, "output") else ""
    assert "Traceback" not in text
    assert result.exception is None or isinstance(result.exception, SystemExit)


# -------------------------------------------------------- 6. no terminal control from text
@pytest.fixture
def hostile_import(home, tmp_path) -> Path:
    analysis = make_analysis(tmp_path / f"take{HOSTILE}.wav", pitfalls=("badmouth",))
    analysis["transcript"]["text"] = f"Hello {HOSTILE} world"
    analysis["tips"][0]["message"] = f"Fix this {HOSTILE} now"
    analysis["tips"][0]["sentence"] = f"My boss {HOSTILE}"
    analysis["pitfalls"][0]["text"] = f"My boss {HOSTILE}"
    export = {
        "format": "speechcoach-history",
        "format_version": 1,
        "attempts": [
            {
                "id": 7,
                "created_at": "2026-01-05T10:00:00+00:00",
                "audio_path": f"/tmp/take{HOSTILE}.wav",
                "engine": "faster-whisper",
                "model": "tiny.en",
                "label": f"v1 {HOSTILE}",
                "analysis": analysis,
            }
        ],
    }
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "command", [["history"], ["show", "7"], ["history", "--json"], ["forget", "7"]]
)
def test_imported_text_cannot_drive_the_terminal(hostile_import, home, command):
    env = {"SPEECHCOACH_HOME": str(home)}
    imported = cli("import", hostile_import, env=env)
    assert imported.returncode == 0, imported.stderr
    done = cli(*command, env=env)
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode() + done.stderr.decode()
    assert "v1" in out or "take" in out or "Hello" in out  # the text itself is still there
    for byte in CONTROL_BYTES:
        assert byte not in out, (command, byte, out[:500])
    if command == ["history", "--json"]:
        assert json.loads(done.stdout.decode().splitlines()[0])["id"] == 7


def test_clean_text_keeps_the_tools_own_styling_on_a_terminal_only():
    styled = "\x1b[1mbold\x1b[0m \x1b[32mgreen\x1b[0m\r\x1b[K"
    assert clean_text(styled, tty=True) == styled
    assert clean_text(styled, tty=False) == "bold green"
    assert clean_text(HOSTILE + "ok\tyes\n", tty=True) == "31mok\tyes\n"
    assert clean_text("日本語 é", tty=False) == "日本語 é"


# ------------------------------------------------- 7. BOMs and files that are not UTF-8
def test_a_config_file_that_is_not_utf8_is_one_line(runner, home, tmp_path):
    latin1 = tmp_path / "config.toml"
    latin1.write_bytes('target = "90s"  # durée\n'.encode("latin-1"))
    for args in (["--config", latin1], []):
        shutil.copy(latin1, home / "config.toml")
        result = run(runner, *args, "progress")  # progress reads the config
        assert result.exit_code == 1
        assert "is not UTF-8 text" in result.stderr
        no_traceback(result)


def test_a_config_file_with_a_bom_is_read(runner, home, tmp_path):
    config = tmp_path / "notepad.toml"
    config.write_bytes(b'\xef\xbb\xbftarget = "90s"\n')
    from speechcoach.config import load_targets

    assert load_targets(config).duration_s == 90.0
    result = run(runner, "--config", config, "progress")
    assert result.exit_code == 0, result.output


def test_an_import_file_with_a_bom_is_read(runner, home, tmp_path):
    with History.open() as history:
        history.save(make_analysis(make_audio(tmp_path, "a.wav")), tmp_path / "a.wav")
    exported = run(runner, "export").stdout
    target = tmp_path / "bom.json"
    target.write_bytes(b"\xef\xbb\xbf" + exported.encode("utf-8"))
    (home / "history.db").unlink()
    result = run(runner, "import", target)
    assert result.exit_code == 0, result.output
    assert "imported 1 new" in result.stderr


# ------------------------------------------------------------------ 8. ids beyond SQLite's
@pytest.mark.parametrize("command", ["show", "forget", "compare"])
def test_an_id_beyond_two_to_the_63_is_simply_not_there(runner, home, tmp_path, command):
    with History.open() as history:
        for name in ("a.wav", "b.wav"):
            history.save(make_analysis(make_audio(tmp_path, name)), tmp_path / name)
    huge = 2**64 + 5
    result = run(runner, command, huge, *(["--yes"] if command == "forget" else []))
    assert result.exit_code == 1
    assert f"no attempt #{huge}" in result.stderr
    no_traceback(result)


# ------------------------------------------------------------- 9. non-UTF-8 file names
NON_UTF8 = os.fsdecode(b"caf\xe9 take.wav")  # Latin-1 bytes, as an old USB stick names them


def test_a_non_utf8_name_is_stored_and_printed_under_a_strict_utf8_locale(home, tmp_path):
    audio = tmp_path / NON_UTF8
    audio.write_bytes(b"RIFF fake audio bytes")
    with History.open() as history:
        saved = history.save(make_analysis(audio), audio, label=NON_UTF8)
    env = {"SPEECHCOACH_HOME": str(home), "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": ""}
    for command in (["history"], ["history", "--json"], ["show", str(saved.id)]):
        done = cli(*command, env=env)
        assert done.returncode == 0, done.stderr.decode()
        assert b"Traceback" not in done.stderr
        done.stdout.decode("utf-8")  # valid UTF-8
    line = json.loads(cli("history", "--json", env=env).stdout)
    assert line["audio_path"].endswith("caf\\xe9 take.wav")


@pytest.mark.slow
def test_analyze_saves_a_recording_with_a_non_utf8_name(home, tmp_path):
    audio = tmp_path / NON_UTF8
    shutil.copy(DATA / "known_en.wav", audio)
    env = {"SPEECHCOACH_HOME": str(home), "LC_ALL": "C.UTF-8", "OMP_NUM_THREADS": "1"}
    done = cli("analyze", audio, "--language", "en", "--json", env=env)
    assert done.returncode == 0, done.stderr.decode()
    assert b"Traceback" not in done.stderr and b"not saved" not in done.stderr
    result = json.loads(done.stdout)
    assert result["attempt_id"] >= 1 and "\ufffd" in result["file"]
    listed = cli("history", env=env)
    assert listed.returncode == 0 and "caf\\xe9 take.wav" in listed.stdout.decode()
