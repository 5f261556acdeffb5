"""Files the user keeps: written whole or not at all, and OS errors said in words.

A file is written to a temporary name in its own folder, flushed to disk, then renamed over the
target: on a full disk or a kill the earlier file stays exactly as it was.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from .errors import SpeechcoachError

SQLITE_MAGIC = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database


def is_sqlite_file(path: Path) -> bool:
    """True if `path` is an SQLite database (by its header, whatever its name)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def os_problem(exc: OSError) -> str:
    """What went wrong, in the words a user acts on ("no space left on device", ...)."""
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        return "no space left on device"
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or str(exc)


def atomic_write_text(path: Path, text: str, *, encoding: str = "utf-8") -> None:
    """Write `text` to `path` so that `path` is either the old file or the complete new one.

    Raises SpeechcoachError (naming the file, saying the old one is untouched) on failure."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    existed = path.exists()
    try:
        mode = path.stat().st_mode & 0o7777 if existed else _default_mode()
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _write_error(path, exc, existed) from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _write_error(path, exc, existed) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(folder)


def _write_error(path: Path, exc: OSError, existed: bool) -> SpeechcoachError:
    kept = f"the earlier {path.name} was left as it was" if existed else "nothing was written"
    return SpeechcoachError(f"cannot write {path}: {os_problem(exc)}; {kept}")


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_folder(folder: Path) -> None:
    # The rename itself must reach the disk too, or a power cut could bring the old name back.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
