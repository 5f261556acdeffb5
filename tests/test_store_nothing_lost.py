"""Issue 12, data loss: exports written whole or not at all, the history database never
overwritten, numbers in config.toml checked before any work, schema backups that are complete or
absent, and one damaged attempt that does not take the others down. Real SQLite files, the real
CLI, real full disks (a tiny tmpfs)."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from mounts import fill, tmpfs
from test_store import V1_SCHEMA, make_analysis, make_audio

from speechcoach.cli import main
from speechcoach.config import load_targets
from speechcoach.errors import SpeechcoachError
from speechcoach.store import History

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args, **kwargs):
    return runner.invoke(main, [str(a) for a in args], **kwargs)


def save_attempts(tmp_path: Path, count: int, home: Path | None = None, pad: int = 0) -> list[int]:
    ids = []
    with History.open(None if home is None else home / "history.db") as history:
        for n in range(count):
            audio = make_audio(tmp_path, f"take{n}-{os.urandom(4).hex()}.wav")
            analysis = make_analysis(audio, score=40 + n)
            if pad:
                analysis["transcript"]["text"] = "word " * pad
            ids.append(history.save(analysis, audio, label=f"take {n}").id)
    return ids


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def no_traceback(result) -> None:
    assert "Traceback" not in result.output + (result.stderr or "")
    assert result.exception is None or isinstance(result.exception, SystemExit)


# ------------------------------------------------------------------ 1. export on a full disk
def test_export_on_a_full_disk_leaves_the_earlier_export_intact(runner, home, tmp_path):
    save_attempts(tmp_path, 1)
    with tmpfs(tmp_path / "disk", 64) as disk:
        out = disk / "mine.json"
        first = run(runner, "export", out)
        assert first.exit_code == 0, first.output
        before = sha(out)
        save_attempts(tmp_path, 6, pad=2000)  # the new export is far larger than what is left
        fill(disk)
        result = run(runner, "export", out, "--force")
        assert result.exit_code == 1
        assert "no space left on device" in result.stderr
        assert "earlier mine.json was left as it was" in result.stderr
        no_traceback(result)
        assert sha(out) == before
        json.loads(out.read_text(encoding="utf-8"))  # still the complete earlier export
        assert sorted(p.name for p in disk.iterdir() if p.name.startswith(".")) == []


# ------------------------------------------------- 2. never write an export over a database
def test_export_refuses_to_overwrite_the_history_database(runner, home, tmp_path):
    save_attempts(tmp_path, 2)
    db = home / "history.db"
    before = History.open().count()
    result = run(runner, "export", db, "--force")
    assert result.exit_code == 1
    assert "is the history database itself" in result.stderr
    no_traceback(result)
    with History.open() as history:
        assert history.count() == before == 2


def test_export_refuses_to_overwrite_any_sqlite_file(runner, home, tmp_path):
    other = tmp_path / "notes.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    before = sha(other)
    result = run(runner, "export", other, "--force")
    assert result.exit_code == 1
    assert "is an SQLite database, not an export" in result.stderr
    assert sha(other) == before


# --------------------------------------------------- 3. numbers in config.toml, checked first
@pytest.mark.parametrize(
    "line",
    [
        "long_pause_s = inf",
        "pause_min_s = nan",
        "target = nan",
        "target = inf",
        "target = -inf",
        "target_tolerance = nan",
        "target = 1e9",
        "long_pause_s = 1e6",
        "[bands]\nwpm = [120, inf]",
        "[bands]\nwpm = [nan, 160]",
        "[bands]\nwpm = [-5, 160]",
    ],
)
def test_config_numbers_must_be_finite_and_sane(runner, home, tmp_path, line):
    (home / "config.toml").write_text(line + "\n", encoding="utf-8")
    with pytest.raises(SpeechcoachError, match="config.toml"):
        load_targets()
    # Through the CLI, before the audio is even looked at: one line, exit 1.
    result = run(runner, "analyze", tmp_path / "missing.wav", "--no-save")
    assert result.exit_code == 1
    assert "config.toml" in result.stderr and "no such file" not in result.stderr
    no_traceback(result)


def test_a_sane_config_still_loads(home):
    (home / "config.toml").write_text(
        'target = "90s"\nlong_pause_s = 2.5\n[bands]\nwpm = [130, 170]\n', encoding="utf-8"
    )
    targets = load_targets()
    assert (targets.duration_s, targets.long_pause_s, targets.wpm.low) == (90.0, 2.5, 130.0)


# ------------------------------------------------------- 4. schema backups: complete or absent
def _v1_database(db: Path, audio: Path, pad: int) -> None:
    conn = sqlite3.connect(db)
    conn.executescript(V1_SCHEMA)
    analysis = make_analysis(audio)
    analysis["transcript"]["text"] = "word " * pad
    conn.execute(
        "INSERT INTO attempts (created_at, audio_path, engine, model, score, analysis) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            "2025-01-10T09:00:00+00:00",
            str(audio),
            "faster-whisper",
            "tiny.en",
            62,
            json.dumps(analysis),
        ),
    )
    conn.commit()
    conn.close()


def test_a_backup_cut_short_by_a_full_disk_leaves_nothing_behind(runner, tmp_path, monkeypatch):
    audio = make_audio(tmp_path, "take.wav")
    with tmpfs(tmp_path / "disk", 256) as disk:
        db = disk / "history.db"
        _v1_database(db, audio, pad=30_000)  # ~150 KB: the copy cannot fit beside it
        fill(disk)
        before = sha(db)
        monkeypatch.setenv("SPEECHCOACH_HOME", str(disk))
        result = run(runner, "history")
        assert result.exit_code == 1
        assert "no space left on device" in result.stderr
        assert "nothing was lost" in result.stderr
        no_traceback(result)
        left = sorted(p.name for p in disk.iterdir() if not p.name.startswith("filler"))
        assert left == ["history.db"], left  # no 0-byte .bak, no -journal, no partial copy
        assert sha(db) == before


def test_leftovers_of_a_killed_backup_are_removed_and_never_advised(runner, home, tmp_path):
    db = home / "history.db"
    _v1_database(db, make_audio(tmp_path, "take.wav"), pad=10)
    # What a backup killed midway (an earlier version, or this one) leaves behind.
    (home / "history.db.bak-v1-20250101T000000000000Z").write_bytes(b"")
    (home / "history.db.bak-v1-20250101T000000000000Z-journal").write_bytes(b"\0" * 512)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
    )
    partial = home / f".history.db.partial-{int(dead.stdout)}-20250101T000000000000Z"
    partial.write_bytes(b"\0" * 100)
    result = run(runner, "history")
    assert result.exit_code == 0, result.output
    assert not partial.exists()
    # Now damage the database: the advice names only a complete backup, never the 0-byte one
    # or a journal.
    db.write_bytes(b"not a database at all" * 100)
    damaged = run(runner, "history")
    assert damaged.exit_code == 1
    no_traceback(damaged)
    assert "-journal" not in damaged.stderr
    assert "20250101T000000000000Z" not in damaged.stderr
    assert "restore the backup" in damaged.stderr  # the one made before the migration


def test_a_damaged_database_with_only_broken_backups_advises_none(runner, home):
    (home / "history.db").write_bytes(b"garbage" * 200)
    (home / "history.db.bak-v1-20250101T000000Z").write_bytes(b"")
    (home / "history.db.bak-v1-20250101T000000Z-journal").write_bytes(b"\0" * 512)
    result = run(runner, "history")
    assert result.exit_code == 1
    assert "restore the backup" not in result.stderr
    assert "move it aside" in result.stderr


# ------------------------------------------------ 5. one damaged attempt, the others served
@pytest.fixture
def one_damaged(home, tmp_path) -> list[int]:
    ids = save_attempts(tmp_path, 3)
    conn = sqlite3.connect(home / "history.db")
    conn.execute("UPDATE attempts SET analysis = ? WHERE id = ?", ('{"score": 5', ids[1]))
    conn.commit()
    conn.close()
    return ids


def test_history_and_progress_skip_and_name_a_damaged_attempt(runner, one_damaged):
    first, broken, last = one_damaged
    listed = run(runner, "history", "--json")
    assert listed.exit_code == 0, listed.output
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == [last, first]
    assert f"attempt #{broken} is damaged" in listed.stderr
    assert listed.stderr.count(f"#{broken} is damaged") == 1
    trend = run(runner, "progress")
    assert trend.exit_code == 0, trend.output
    assert f"attempt #{broken} is damaged" in trend.stderr
    shown = run(runner, "show", broken)
    assert shown.exit_code == 1
    assert f"forget {broken}" in shown.stderr
    no_traceback(shown)
    assert run(runner, "show", last).exit_code == 0


def test_export_saves_every_healthy_attempt_and_counts_the_skipped(runner, one_damaged, tmp_path):
    first, broken, last = one_damaged
    out = tmp_path / "mine.json"
    result = run(runner, "export", out)
    assert result.exit_code == 0, result.output
    assert "exported 2 attempts; skipped 1 damaged" in result.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [a["id"] for a in data["attempts"]] == [first, last]
    forgot = run(runner, "forget", broken)
    assert forgot.exit_code == 0, forgot.output
    assert run(runner, "history").stderr == ""


# ------------------------------------------------ 25. no silent overwrite, no silent delete
def test_export_does_not_overwrite_an_existing_file_without_force(runner, home, tmp_path):
    save_attempts(tmp_path, 1)
    out = tmp_path / "mine.json"
    out.write_text("my notes\n", encoding="utf-8")
    refused = run(runner, "export", out)
    assert refused.exit_code == 1
    assert "add --force to overwrite it" in refused.stderr
    assert out.read_text(encoding="utf-8") == "my notes\n"
    forced = run(runner, "export", out, "--force")
    assert forced.exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8"))["attempts"]


def _on_a_terminal(args: list[str], answer: str, env: dict) -> tuple[int, str]:
    """Run the CLI with a real pseudo-terminal as stdin, answer its question: (code, stderr)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "speechcoach", *args],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=REPO,
    )
    os.close(slave)
    os.write(master, answer.encode())
    _, err = proc.communicate(timeout=120)
    os.close(master)
    return proc.returncode, err.decode()


def test_forget_asks_on_a_terminal_and_yes_skips_the_question(home, tmp_path):
    ids = save_attempts(tmp_path, 2)
    env = {**os.environ, "SPEECHCOACH_HOME": str(home), "PYTHONPATH": str(REPO)}
    code, err = _on_a_terminal(["forget", str(ids[0])], "n\n", env)
    assert code == 1 and "delete 1 attempt(s) (#" in err and "nothing was deleted" in err
    with History.open() as history:
        assert history.count() == 2
    code, err = _on_a_terminal(["forget", str(ids[0])], "y\n", env)
    assert code == 0 and f"forgot attempt #{ids[0]}" in err
    code, err = _on_a_terminal(["forget", "--yes", str(ids[1])], "", env)
    assert code == 0 and "delete" not in err and f"forgot attempt #{ids[1]}" in err
    with History.open() as history:
        assert history.count() == 0
