"""Issue 12, messages that said the wrong thing: a read-only or full history folder, a home that
is a file, a history.db that is a folder, lost schema bookkeeping, a GPU that is not there. Real
SQLite files on real tmpfs mounts (read-only, full), the real CLI."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DATA
from mounts import fill, remount_read_only, tmpfs
from test_store import V1_SCHEMA, make_analysis, make_audio

from speechcoach.cli import main
from speechcoach.store import History

KNOWN = DATA / "known_en.wav"


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args, **kwargs):
    return runner.invoke(main, [str(a) for a in args], **kwargs)


def no_traceback(result) -> None:
    assert "Traceback" not in result.output + (result.stderr or "")
    assert result.exception is None or isinstance(result.exception, SystemExit)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT * FROM attempts ORDER BY id").fetchall()
    finally:
        conn.close()


def save(folder: Path, tmp_path: Path, count: int = 2) -> None:
    with History.open(folder / "history.db") as history:
        for n in range(count):
            audio = make_audio(tmp_path, f"take{n}.wav")
            history.save(make_analysis(audio, score=50 + n), audio)


def an_export(tmp_path: Path, pad: int) -> Path:
    analysis = make_analysis(make_audio(tmp_path, "new.wav"))
    analysis["transcript"]["text"] = "word " * pad
    data = {
        "format": "speechcoach-history",
        "format_version": 1,
        "attempts": [{"created_at": "2026-02-01T10:00:00+00:00", "analysis": analysis}],
    }
    path = tmp_path / "new.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# --------------------------------------------------------------- 15. a read-only home folder
def test_a_read_only_home_still_reads_and_names_the_folder(runner, tmp_path, monkeypatch):
    with tmpfs(tmp_path / "ro", 1024) as home:
        save(home, tmp_path)
        remount_read_only(home)
        monkeypatch.setenv("SPEECHCOACH_HOME", str(home))
        listed = run(runner, "history", "--json")
        assert listed.exit_code == 0, listed.output
        assert len(listed.stdout.splitlines()) == 2
        assert run(runner, "show").exit_code == 0
        assert run(runner, "export").exit_code == 0
        forgot = run(runner, "forget", "1", "--yes")
        assert forgot.exit_code == 1
        assert f"its folder {home} is on a read-only file system" in forgot.stderr
        assert "chmod u+w" not in forgot.stderr
        no_traceback(forgot)
        imported = run(runner, "import", an_export(tmp_path, 10))
        assert imported.exit_code == 1 and "read-only file system" in imported.stderr


# ------------------------------------------------------- 16. the disk fills during a save
def test_a_full_disk_during_a_save_says_so_and_loses_nothing(runner, tmp_path, monkeypatch):
    with tmpfs(tmp_path / "disk", 512) as home:
        save(home, tmp_path)
        fill(home)
        monkeypatch.setenv("SPEECHCOACH_HOME", str(home))
        result = run(runner, "import", an_export(tmp_path, 50_000))
        assert result.exit_code == 1
        assert "no space left on device" in result.stderr
        assert "nothing was lost" in result.stderr
        assert "report it" not in result.stderr
        no_traceback(result)
        listed = run(runner, "history", "--json")  # reading still works on the full disk
        assert listed.exit_code == 0, listed.output
        assert len(listed.stdout.splitlines()) == 2


def test_a_full_disk_during_a_migration_says_so_and_loses_nothing(runner, tmp_path, monkeypatch):
    with tmpfs(tmp_path / "disk", 1024) as home:
        db = home / "history.db"
        conn = sqlite3.connect(db)
        conn.executescript(V1_SCHEMA)
        for n in range(4):
            analysis = make_analysis(make_audio(tmp_path, f"t{n}.wav"))
            analysis["transcript"]["text"] = "word " * 5000
            conn.execute(
                "INSERT INTO attempts (created_at, audio_path, engine, model, score, analysis) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    f"2025-01-1{n}T09:00:00+00:00",
                    str(tmp_path / f"t{n}.wav"),
                    "faster-whisper",
                    "tiny.en",
                    50,
                    json.dumps(analysis),
                ),
            )
        conn.commit()
        conn.close()
        size = db.stat().st_size
        free = os.statvfs(home).f_bavail * os.statvfs(home).f_frsize
        # Room for the backup copy, not for the migration's rewrite of every row.
        (home / "filler").write_bytes(b"\0" * (free - size - 8192))
        before = rows(db)
        monkeypatch.setenv("SPEECHCOACH_HOME", str(home))
        result = run(runner, "forget", "1", "--yes")  # any command that writes migrates first
        assert result.exit_code == 1
        assert "no space left on device" in result.stderr, result.stderr
        assert "nothing was lost" in result.stderr
        no_traceback(result)
        (home / "filler").unlink()
        assert rows(db) == before  # rolled back: the v1 rows as they were (WAL mode aside)
        with History.open() as history:  # once there is room, the migration completes
            assert history.count() == 4


# ---------------------------------------------------------- 17. SPEECHCOACH_HOME is a file
def test_a_home_that_is_a_file_is_named_as_such(runner, tmp_path, monkeypatch):
    file = tmp_path / "speechcoach-home"
    file.write_text("oops")
    monkeypatch.setenv("SPEECHCOACH_HOME", str(file))
    for args in (["history"], ["analyze", KNOWN, "--language", "en"]):
        result = run(runner, *args)
        assert result.exit_code == 1
        assert f"SPEECHCOACH_HOME {file} is a file, not a folder" in result.stderr
        assert "reinstall" not in result.stderr
        no_traceback(result)


# ------------------------------------------------------------ 18. history.db is a folder
def test_a_history_db_that_is_a_folder_is_named_as_such(runner, home):
    (home / "history.db").mkdir()
    result = run(runner, "history")
    assert result.exit_code == 1
    assert "history.db is a folder, not a history database file" in result.stderr
    no_traceback(result)


# -------------------------------------------------- 19. schema bookkeeping emptied or dropped
@pytest.mark.parametrize(
    "damage", ["DELETE FROM schema_migrations", "DROP TABLE schema_migrations"]
)
def test_lost_schema_bookkeeping_is_repaired(runner, home, tmp_path, damage):
    save(home, tmp_path, count=3)
    conn = sqlite3.connect(home / "history.db")
    conn.execute(damage)
    conn.commit()
    conn.close()
    result = run(runner, "history", "--json")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 3
    assert "schema bookkeeping was missing; restored it" in result.stderr
    again = run(runner, "history")
    assert again.exit_code == 0 and again.stderr == ""
    conn = sqlite3.connect(home / "history.db")
    assert [r[0] for r in conn.execute("SELECT version FROM schema_migrations")] == [1, 2]
    conn.close()


# --------------------------------------------------------------- 20. --device cuda, no GPU
def test_cuda_without_a_gpu_says_so_and_suggests_the_cpu(runner, tmp_path):
    import ctranslate2

    if ctranslate2.get_cuda_device_count() > 0:
        pytest.skip("this machine has a usable CUDA GPU: --device cuda works here")
    result = run(runner, "analyze", KNOWN, "--device", "cuda", "--language", "en", "--no-save")
    assert result.exit_code == 1
    assert "no usable CUDA device or driver was found" in result.stderr
    assert "--device cpu" in result.stderr
    assert "reinstall" not in result.stderr
    no_traceback(result)
