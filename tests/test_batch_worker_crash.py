"""Issue 12 item 12: `analyze --jobs` survives a worker process that dies (killed here with a real
SIGKILL, as the OOM killer or a native crash would). The pool restarts, the files in flight are
retried one at a time, and only a file during which a worker dies twice gets an error."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import DATA

REPO = Path(__file__).resolve().parents[1]
FILES = 5
WAIT_S = 240  # generous: two spawned workers load a model each on a shared 2-core machine


def _workers(parent: int) -> list[int]:
    """The pool's worker processes: children of `parent` started by multiprocessing's spawn
    (the resource tracker is a child too, and is left alone)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
            found.append(int(entry.name))
    return found


class _Lines:
    """stderr read line by line in a thread, so the test can wait for a message."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for line in stream:
            self.lines.append(line)

    def wait_for(self, text: str, proc) -> None:
        deadline = time.monotonic() + WAIT_S
        while not any(text in line for line in self.lines):
            assert proc.poll() is None, "".join(self.lines)
            assert time.monotonic() < deadline, f"no {text!r} in: {''.join(self.lines)}"
            time.sleep(0.05)

    @property
    def text(self) -> str:
        self.thread.join(timeout=30)
        return "".join(self.lines)


def _kill_one_worker(proc) -> None:
    deadline = time.monotonic() + WAIT_S
    while not (workers := _workers(proc.pid)):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    os.kill(workers[0], signal.SIGKILL)


@pytest.mark.slow
def test_a_dead_worker_costs_one_file_at_most(home, tmp_path):
    files = []
    for n in range(FILES):
        link = tmp_path / f"student{n}.wav"
        link.write_bytes((DATA / "known_en.wav").read_bytes() + bytes(n))  # distinct files
        files.append(link)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "speechcoach",
            "analyze",
            *map(str, files),
            "--jobs",
            "2",
            "--json",
            "--no-save",
            "--language",
            "en",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"},
    )
    stderr = _Lines(proc.stderr)
    try:
        stderr.wait_for("[1/", proc)  # the workers are up and busy with the next files
        _kill_one_worker(proc)  # first death: the files in flight are retried alone
        stderr.wait_for("retrying", proc)
        _kill_one_worker(proc)  # second death, during a retry: that file gets the error
        out, _ = proc.communicate(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = stderr.text
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["file"] for line in lines] == [str(f) for f in files]  # input order, all there
    failed = [line for line in lines if "error" in line]
    assert len(failed) == 1, err
    assert "died twice" in failed[0]["error"]
    assert all(line["word_count"] > 40 for line in lines if "error" not in line)
    assert proc.returncode == 1
    assert "Traceback" not in err and "BrokenProcessPool" not in err
    assert "leaked semaphore" not in err
