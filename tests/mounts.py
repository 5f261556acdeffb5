"""Real small file systems for failure tests: a tmpfs of a few kilobytes is a disk that fills up,
a tmpfs remounted read-only is a folder nobody (root included) can write to.

Mounting needs root (or CAP_SYS_ADMIN); where it is refused the test is skipped with that reason,
never passed."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=False)


@contextlib.contextmanager
def tmpfs(where: Path, size_kb: int) -> Iterator[Path]:
    """A tmpfs of `size_kb` KiB mounted at `where` (created) for the duration of the block."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("a real full disk needs a tmpfs mount, which needs root")
    done = _run("mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0755", "tmpfs", str(where))
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        _run("umount", "-l", str(where))


def remount_read_only(where: Path) -> None:
    done = _run("mount", "-o", "remount,ro", str(where))
    assert done.returncode == 0, done.stderr


def fill(folder: Path, name: str = "filler") -> None:
    """Take every byte left on the file system holding `folder`."""
    with open(folder / name, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
        except OSError:
            pass
    with contextlib.suppress(OSError):
        # The last partial block may still be free; take it byte by byte.
        with open(folder / (name + "2"), "wb", buffering=0) as handle:
            while True:
                handle.write(b"\0")
                handle.flush()
