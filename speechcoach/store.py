"""Every attempt, kept: the history of analyses in one SQLite file behind the `History` class.

    with History.open() as history:              # SPEECHCOACH_HOME/history.db
        saved = history.save(analysis, "take3.wav", label="v3, slower")
        print(saved.id, saved.created)             # 3 True  (False: an earlier attempt was updated)
        last_two = history.latest(2)               # newest first
        history.get(3).result.score                 # the typed record (result.AnalysisResult)

Design (sqlite-utils habits):
- the analysis is stored whole, as its JSON dict, next to indexed columns for listing and charts;
- one attempt per (audio content, engine, model): analysing the same recording again updates that
  attempt in place (keeping its id, date and label) unless `new_attempt=True`;
- schema changes are numbered migrations recorded in `schema_migrations`, run in one transaction
  after a backup copy of the file (`history.db.bak-v1-20250101T120000Z`);
- WAL, a busy timeout and `BEGIN IMMEDIATE` so that two processes can write at once, and
  `synchronous=FULL` so that an attempt reported as saved survives a crash right after;
- a damaged file is never deleted or rewritten: the error names it and says how to recover.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import re
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any

from . import languages, metrics
from .config import home_dir
from .errors import StoreError
from .result import AnalysisResult, ResultError, from_json
from .result import problem as result_problem
from .safefile import is_sqlite_file, os_problem
from .terminal import escaped

__all__ = [
    "History",
    "Attempt",
    "Saved",
    "ImportResult",
    "DB_FILENAME",
    "EXPORT_FORMAT",
    "file_sha256",
]

log = logging.getLogger(__name__)

DB_FILENAME = "history.db"
EXPORT_FORMAT = "speechcoach-history"
EXPORT_FORMAT_VERSION = 1
BUSY_TIMEOUT_S = 15.0  # how long a writer waits for another one before giving up
HASH_CHUNK_BYTES = 1 << 20  # 1 MiB: hash recordings of any length in constant memory
_WAL_RETRY_SLEEP_S = 0.05
# Only these mean the file itself is broken (sqlite3 sets sqlite_errorname; the texts cover both).
_DAMAGE_CODES = ("SQLITE_NOTADB", "SQLITE_CORRUPT")
_DAMAGE_TEXTS = ("file is not a database", "database disk image is malformed")
_SIDE_FILES = ("-journal", "-wal", "-shm")  # SQLite's companions of a database file

# The metric columns migration 2 added. Frozen: a later migration that adds a column backfills its
# own.
_V2_METRIC_COLUMNS = (
    "language",
    "score",
    "duration_s",
    "target_s",
    "wpm",
    "chars_per_min",
    "fillers_per_min",
    "long_pauses",
    "components_covered",
    "components_total",
    "pitfalls",
)


# ----------------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Attempt:
    """One stored attempt: the columns, plus the full analysis dict it was saved from."""

    id: int
    created_at: str  # UTC ISO 8601, when the attempt was first saved
    updated_at: str  # UTC ISO 8601, when it was last (re-)analysed
    audio_path: str
    audio_sha256: str | None
    engine: str
    model: str
    label: str | None
    language: str | None
    score: int | None
    duration_s: float | None
    target_s: float | None
    wpm: float | None
    chars_per_min: float | None
    fillers_per_min: float | None
    long_pauses: int | None
    components_covered: int | None
    components_total: int | None
    pitfalls: int | None
    analysis: dict = field(repr=False)

    @cached_property
    def result(self) -> AnalysisResult:
        """The stored analysis as a typed record, upgraded from the version that stored it."""
        try:
            return from_json(self.analysis)
        except ResultError as exc:
            raise StoreError(
                f"attempt #{self.id} {exc.problem}; remove it with `speechcoach forget {self.id}`"
            ) from exc

    @property
    def pace_metric(self) -> str:
        """The pace this attempt was judged by ("wpm" or "chars_per_min"): what the analysis
        chose (a mixed intro follows the script mostly spoken, not Whisper's label), else what a
        record stored before it said tells (languages.recorded_pace)."""
        pace = self.analysis.get("pace")
        if isinstance(pace, dict) and pace.get("metric") in languages.PACE_UNITS:
            return pace["metric"]
        judgements = self.analysis.get("judgements")
        return languages.recorded_pace(
            self.language, judgements if isinstance(judgements, dict) else {}
        )

    @property
    def name(self) -> str:
        """The recording's file name, for tables."""
        return Path(self.audio_path).name

    def summary(self) -> dict:
        """The columns only (what `history --json` prints)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "analysis"}

    def to_dict(self) -> dict:
        """Columns and analysis: one entry of an export."""
        return {**self.summary(), "analysis": self.analysis}


@dataclass(frozen=True)
class Saved:
    """What `History.save` did: `created` is False when an earlier attempt was updated in place."""

    id: int
    created: bool
    path: Path


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    skipped: int


# -------------------------------------------------------------------------------- migrations
def _migration_1(conn: sqlite3.Connection) -> None:
    """The first schema: one row per analysis, the report as JSON."""
    conn.execute(
        """CREATE TABLE attempts (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            audio_path TEXT NOT NULL,
            engine TEXT,
            model TEXT,
            score INTEGER,
            analysis TEXT NOT NULL
        )"""
    )


def _migration_2(conn: sqlite3.Connection) -> None:
    """Content hash (one attempt per recording), label, and metric columns for lists and charts."""
    columns = {
        "updated_at": "TEXT",
        "audio_sha256": "TEXT",
        "copy_no": "INTEGER NOT NULL DEFAULT 0",
        "label": "TEXT",
        "language": "TEXT",
        "duration_s": "REAL",
        "target_s": "REAL",
        "wpm": "REAL",
        "chars_per_min": "REAL",
        "fillers_per_min": "REAL",
        "long_pauses": "INTEGER",
        "components_covered": "INTEGER",
        "components_total": "INTEGER",
        "pitfalls": "INTEGER",
    }
    for name, kind in columns.items():
        conn.execute(f"ALTER TABLE attempts ADD COLUMN {name} {kind}")
    copies: dict[tuple, int] = {}
    for row_id, created_at, audio_path, engine, model, text in conn.execute(
        "SELECT id, created_at, audio_path, engine, model, analysis FROM attempts ORDER BY id"
    ).fetchall():
        analysis = json.loads(text)
        digest = file_sha256(audio_path)
        engine, model = engine or analysis.get("engine") or "", model or analysis.get("model") or ""
        key = (digest, engine, model)
        # Old rows had no uniqueness: number the repeats of one recording 0, 1, 2... (oldest first).
        copy_no = copies[key] = copies.get(key, -1) + 1 if digest else 0
        indexed = _metric_values(analysis)
        conn.execute(
            "UPDATE attempts SET updated_at = ?, audio_sha256 = ?, copy_no = ?, "
            "engine = ?, model = ?, "
            f"{', '.join(f'{c} = ?' for c in _V2_METRIC_COLUMNS)} WHERE id = ?",
            (
                created_at,
                digest,
                copy_no,
                engine,
                model,
                *(indexed[c] for c in _V2_METRIC_COLUMNS),
                row_id,
            ),
        )
    # NULL hashes (recording gone) never collide: such attempts simply cannot be matched again.
    conn.execute(
        "CREATE UNIQUE INDEX attempts_identity ON attempts (audio_sha256, engine, model, copy_no)"
    )
    conn.execute("CREATE INDEX attempts_created ON attempts (created_at)")


# (version, name, function). Append only: never renumber or edit one that has shipped.
MIGRATIONS: list[tuple[int, str, Callable[[sqlite3.Connection], None]]] = [
    (1, "create attempts", _migration_1),
    (2, "content hash, label and metric columns", _migration_2),
]


# ---------------------------------------------------------------------------------- helpers
def file_sha256(path: str | Path) -> str | None:
    """sha256 of a file's bytes, read in chunks; None when the file cannot be read."""
    digest = hashlib.sha256()
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            # A pipe was read by the analysis already: its hash would be that of nothing, and
            # every attempt made through a pipe would then "match" every other one.
            log.info(
                "%s is not a regular file: this attempt will not be matched with later ones", path
            )
            return None
        with open(path, "rb") as handle:
            while chunk := handle.read(HASH_CHUNK_BYTES):
                digest.update(chunk)
    except OSError as exc:
        log.info("cannot hash %s (%s): this attempt will not be matched with later ones", path, exc)
        return None
    return digest.hexdigest()


def _now() -> str:
    # Microseconds: two attempts saved within one second must still sort, and be told apart on
    # import.
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


# The metric columns, each read as metrics.py defines the metric (its place in the record);
# the whole-number ones are stored as INTEGER.
_METRIC_COLUMNS = {
    "score": metrics.SCORE,
    "duration_s": metrics.RECORDING,
    "wpm": metrics.WPM,
    "chars_per_min": metrics.CHARS_PER_MIN,
    "fillers_per_min": metrics.FILLERS_PER_MIN,
    "long_pauses": metrics.LONG_PAUSES,
    "components_covered": metrics.COMPONENTS,
}
_WHOLE_COLUMNS = ("score", "long_pauses", "components_covered")


def _metric_values(analysis: dict) -> dict[str, Any]:
    """The indexed columns of one analysis dict (None where the analysis has no such value),
    in _V2_METRIC_COLUMNS' order."""
    values: dict[str, Any] = {c: m.value(analysis) for c, m in _METRIC_COLUMNS.items()}
    for column in _WHOLE_COLUMNS:
        values[column] = None if values[column] is None else int(round(values[column]))
    components = analysis.get("components") or {}
    target_s = analysis.get("target_s")
    values |= {
        "language": analysis.get("language"),
        "target_s": float(target_s)
        if isinstance(target_s, (int, float)) and not isinstance(target_s, bool)
        else None,
        "components_total": len(components) if components else None,
        "pitfalls": len(analysis["pitfalls"])
        if isinstance(analysis.get("pitfalls"), list)
        else None,
    }
    return {c: values[c] for c in _V2_METRIC_COLUMNS}


def _escaped_strings(value: Any) -> Any:
    """`value` with every string made storable (see terminal.escaped)."""
    if isinstance(value, str):
        return escaped(value)
    if isinstance(value, dict):
        return {escaped(k): _escaped_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped_strings(v) for v in value]
    return value


def _as_dict(analysis: Any) -> dict:
    data = analysis.to_dict() if hasattr(analysis, "to_dict") else analysis
    if not isinstance(data, dict):
        raise TypeError(
            f"expected an analysis dict or an object with .to_dict(), got {type(analysis).__name__}"
        )
    if "error" in data:
        raise ValueError(f"not saving a failed analysis of {data.get('file')}: {data['error']}")
    return data


def _backups(path: Path) -> list[Path]:
    """The complete backups of `path`, oldest first: never a journal, an empty file or a partial
    copy."""
    found = []
    for candidate in sorted(path.parent.glob(f"{path.name}.bak-*")):
        if candidate.name.endswith(_SIDE_FILES) or not _complete_database(candidate):
            continue
        found.append(candidate)
    return found


def _complete_database(path: Path) -> bool:
    if not path.is_file() or not is_sqlite_file(path):
        return False
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        finally:
            conn.close()
    except sqlite3.Error:
        return False


def _check_is_a_file(path: Path) -> None:
    """A folder or a device where the history file should be is named as such."""
    if path.is_dir():
        raise StoreError(
            f"{path} is a folder, not a history database file; move it aside "
            f"(mv '{path}' '{path}.folder') or set SPEECHCOACH_HOME to another folder"
        )
    if path.exists() and not path.is_file():
        raise StoreError(
            f"{path} is not a regular file (a pipe, socket or device) and cannot hold the "
            "history; move it aside or set SPEECHCOACH_HOME to another folder"
        )


def _read_only_uri(path: Path) -> str:
    # A WAL database read where no -shm can be created: immutable, safe as nothing can write
    # there either. A non-empty -wal holds commits not yet in the file: then plain mode=ro.
    wal = Path(f"{path}-wal")
    immutable = not wal.exists() or wal.stat().st_size == 0
    return f"{path.resolve().as_uri()}?mode=ro" + ("&immutable=1" if immutable else "")


def _partial_backup_name(path: Path, stamp: str) -> Path:
    # Not matched by the "history.db.bak-*" pattern: a copy in progress is never offered.
    return path.with_name(f".{path.name}.partial-{os.getpid()}-{stamp}")


def _remove_partial_backups(path: Path) -> None:
    """Delete what a backup killed midway left (its copy and journal), once its process is gone."""
    for leftover in path.parent.glob(f".{path.name}.partial-*"):
        try:
            pid = int(leftover.name.split(".partial-", 1)[1].split("-", 1)[0])
        except ValueError:
            continue
        if pid != os.getpid() and _alive(pid):
            continue  # another process is copying right now
        log.info("removing %s, left by an interrupted backup", leftover)
        leftover.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _problem(exc: BaseException) -> str:
    """A short reason: "no space left on device" for a full disk, whoever reported it."""
    if isinstance(exc, OSError):
        return os_problem(exc)
    name = _error_name(exc) if isinstance(exc, sqlite3.Error) else ""
    if name.startswith("SQLITE_FULL") or "database or disk is full" in str(exc):
        return "no space left on device"
    return str(exc)


def _error_name(exc: sqlite3.Error) -> str:
    return getattr(exc, "sqlite_errorname", "") or ""


def _store_error(path: Path, exc: sqlite3.Error) -> StoreError:
    """Turn an sqlite3 error into one actionable message that names the file."""
    name, text = _error_name(exc), str(exc)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return StoreError(
            f"history database {path} stayed locked by another speechcoach process for "
            f"{BUSY_TIMEOUT_S:g} s ({text}); wait for it to finish and run the command again"
        )
    # A full disk shows up as SQLITE_FULL, or as an I/O error growing the WAL index (-shm).
    if (
        name.startswith("SQLITE_FULL")
        or "full" in text
        or (name.startswith("SQLITE_IOERR") and _disk_full(path.parent))
    ):
        return StoreError(
            f"cannot write history database {path}: no space left on device; nothing was "
            "changed and nothing was lost. Free some space and run again"
        )
    folder = _folder_problem(path.parent)
    if folder and (
        name.startswith(("SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_IOERR"))
        or "unable to open" in text
        or "readonly" in text
    ):
        return StoreError(
            f"cannot write history database {path}: its folder {path.parent} is {folder}, and "
            "SQLite needs to create its journal files there; nothing was changed. Make the "
            f"folder writable, or set SPEECHCOACH_HOME to a writable folder (reading commands "
            "such as history, show and export still work)"
        )
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return StoreError(
            f"cannot open history database {path} ({text}); check that its folder exists and "
            "is writable, or set SPEECHCOACH_HOME to another folder"
        )
    if name.startswith("SQLITE_READONLY") or "readonly" in text:
        return StoreError(
            f"history database {path} is read-only ({text}); make it writable (chmod u+w) "
            "and run again"
        )
    if name.startswith(_DAMAGE_CODES) or any(t in text for t in _DAMAGE_TEXTS):
        return _damaged(path, text)
    if name.startswith("SQLITE_IOERR"):
        return StoreError(
            f"history database {path}: the disk reported an I/O error ({text}); nothing was "
            "changed. Check the disk (dmesg, fsck) and run again"
        )
    # Anything else (a bad value bound to a query, a misuse) is not the file's fault: telling the
    # user to move a healthy history aside would lose it. The write was rolled back.
    return StoreError(
        f"history database {path}: unexpected SQLite error ({name or type(exc).__name__}: "
        f"{text}); nothing was changed. Rerun with --debug for details and report it"
    )


LOW_SPACE_BYTES = 1 << 20  # under 1 MiB free, an SQLite I/O error is the disk being full


def _disk_full(folder: Path) -> bool:
    try:
        info = os.statvfs(folder)
    except OSError:
        return False
    return info.f_bavail * info.f_frsize < LOW_SPACE_BYTES


def _folder_problem(folder: Path) -> str | None:
    """Why SQLite cannot create files in `folder` ("read-only (...)"), or None if it can."""
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return "on a read-only file system"
    except OSError:
        return None
    if not os.access(folder, os.W_OK | os.X_OK):
        return "not writable (no write permission)"
    return None


def _damaged(path: Path, reason: str) -> StoreError:
    backups = _backups(path)
    restore = f"restore the backup {backups[-1]} (copy it over {path.name}), or " if backups else ""
    return StoreError(
        f"history database {path} is damaged or is not a speechcoach history ({reason}); it was "
        "left untouched. "
        f"To recover, {restore}move it aside (mv '{path}' '{path}.broken') and a new, "
        "empty one will be "
        "created on the next run"
    )


# ---------------------------------------------------------------------------------- History
class History:
    """The attempts in one SQLite file. Open with `History.open()`; use as a context manager."""

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = path
        self._conn = conn
        # id -> why: attempts whose stored analysis could not be read, skipped by every listing.
        self.damaged: dict[int, str] = {}
        self.read_only = False  # opened read-only: its folder cannot be written

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path | None = None, *, read_only_ok: bool = False) -> History:
        """Open (creating or upgrading) the history; default `home_dir() / "history.db"`.

        With `read_only_ok` (commands that only read), a history whose folder cannot be written
        (read-only, or a full disk) is opened read-only instead of failing.

        Raises StoreError, naming the file and the way out, when it is damaged, locked or
        unreadable.
        """
        path = Path(path) if path is not None else home_dir() / DB_FILENAME
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the folder for history database {path} ({exc}); "
                "set SPEECHCOACH_HOME to a writable folder"
            ) from exc
        _check_is_a_file(path)
        try:
            return cls._open(path)
        except StoreError:
            if not read_only_ok or not path.is_file():
                raise
            if not (_folder_problem(path.parent) or _disk_full(path.parent)):
                raise
            log.info("history %s: its folder cannot be written; opened read-only", path)
            return cls._open(path, read_only=True)

    @classmethod
    def _open(cls, path: Path, *, read_only: bool = False) -> History:
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a transaction is exactly
            # a `with`.
            if read_only:
                conn = sqlite3.connect(
                    _read_only_uri(path), uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None
                )
            else:
                conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise _store_error(path, exc) from exc
        history = cls(path, conn)
        history.read_only = read_only
        try:
            history._prepare()
        except BaseException:
            conn.close()
            raise
        return history

    def _prepare(self) -> None:
        if self.read_only:
            with self._errors():
                self._conn.execute("PRAGMA schema_version").fetchone()
                if self._checked_version() != MIGRATIONS[-1][0]:
                    folder = _folder_problem(self.path.parent)
                    why = (
                        f"its folder {self.path.parent} is {folder}; make it writable"
                        if folder
                        else "no space left on device; free some space"
                    )
                    raise StoreError(
                        f"history database {self.path} needs a schema upgrade (with a backup "
                        f"copy first), which cannot be written: {why} and run again. Nothing "
                        "was changed and nothing was lost"
                    )
            return
        with self._errors():
            # Reading the header first: a file that is not SQLite fails here, before anything is
            # written.
            self._conn.execute("PRAGMA schema_version").fetchone()
            self._conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            # Refuse a foreign or newer file, and back up an older one, before changing anything.
            version = self._checked_version()
            if version:
                self._repair_bookkeeping()
            if 0 < version < MIGRATIONS[-1][0]:
                self._backup(version)
            self._enable_wal()
            # FULL: a commit is on disk before save() returns, so "saved" survives a crash or power
            # cut.
            self._conn.execute("PRAGMA synchronous = FULL")
            self._migrate()

    def _enable_wal(self) -> None:
        if self._conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
            return
        # Switching needs a moment alone with the file; a second process opening a new file at the
        # same time can get SQLITE_BUSY without the busy handler being consulted, so retry here.
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode = WAL").fetchone()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(_WAL_RETRY_SLEEP_S)

    # -- migrations ------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        with self._errors():
            return self._version()

    def _version(self) -> int:
        tables = self._tables()
        if "schema_migrations" not in tables:
            if tables and self._inferred_version(tables) == 0:
                raise StoreError(
                    f"{self.path} is an SQLite file but not a speechcoach history (no "
                    f"schema_migrations table; tables: {', '.join(sorted(tables))}); it was left "
                    "untouched. Point SPEECHCOACH_HOME elsewhere or move the file aside"
                )
            return self._inferred_version(tables)
        recorded = self._conn.execute(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"
        ).fetchone()[0]
        return max(recorded, self._inferred_version(tables))

    def _tables(self) -> set[str]:
        return {
            r[0]
            for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not r[0].startswith("sqlite_")
        }

    def _inferred_version(self, tables: set[str]) -> int:
        """The schema the attempts table actually has (0: none of ours), whatever the bookkeeping
        says: an emptied or dropped schema_migrations must not re-run migration 1."""
        if "attempts" not in tables or not tables <= {"attempts", "schema_migrations"}:
            return 0
        columns = {r[1] for r in self._conn.execute("PRAGMA table_info(attempts)")}
        if not {"id", "created_at", "audio_path", "analysis"} <= columns:
            return 0
        return 2 if {"audio_sha256", "copy_no", *_V2_METRIC_COLUMNS} <= columns else 1

    def _repair_bookkeeping(self) -> None:
        """Record the migrations the schema shows were applied but schema_migrations lacks."""
        tables = self._tables()
        inferred = self._inferred_version(tables)
        recorded = set()
        if "schema_migrations" in tables:
            recorded = {r[0] for r in self._conn.execute("SELECT version FROM schema_migrations")}
        missing = [m for m in MIGRATIONS if m[0] <= inferred and m[0] not in recorded]
        if not missing:
            return
        with self._transaction():
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            for number, name, _ in missing:
                self._conn.execute(
                    "INSERT OR IGNORE INTO schema_migrations VALUES (?, ?, ?)",
                    (number, name, _now()),
                )
        log.warning(
            "history %s: its schema bookkeeping was missing; restored it (schema v%d, no attempt "
            "changed)",
            self.path,
            inferred,
        )

    def _checked_version(self) -> int:
        version, latest = self._version(), MIGRATIONS[-1][0]
        if version > latest:
            raise StoreError(
                f"history database {self.path} was written by a newer speechcoach (schema "
                f"v{version}; this one knows up to v{latest}); upgrade speechcoach, or move the "
                "file aside to start a new history"
            )
        return version

    def _migrate(self) -> None:
        """Apply the pending migrations, all in one transaction (all or nothing)."""
        if self._version() == MIGRATIONS[-1][0]:  # the common case: no write lock needed
            return
        with self._transaction():
            version = (
                self._checked_version()
            )  # again, under the lock: another process may have just migrated
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY "
                "KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            for number, name, migrate in MIGRATIONS:
                if number > version:
                    log.info("history %s: migration %d (%s)", self.path, number, name)
                    migrate(self._conn)
                    self._conn.execute(
                        "INSERT INTO schema_migrations VALUES (?, ?, ?)", (number, name, _now())
                    )

    def _backup(self, version: int) -> Path:
        """Copy the database (consistently, WAL included) before changing its schema.

        Taken outside the migration's transaction: SQLite cannot back up from a connection that
        holds the write lock. If another process migrates first, this copy is merely redundant."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        target = self.path.with_name(f"{self.path.name}.bak-v{version}-{stamp}")
        # Copied under a temporary name and renamed when complete: a backup cut short (full disk,
        # kill) never looks like one, and its leftovers are removed.
        partial = _partial_backup_name(self.path, stamp)
        _remove_partial_backups(self.path)
        try:
            copy = sqlite3.connect(partial)
            try:
                self._conn.backup(copy)
            finally:
                copy.close()
            os.replace(partial, target)
        except (sqlite3.Error, OSError) as exc:
            for leftover in (partial, partial.with_name(partial.name + "-journal")):
                leftover.unlink(missing_ok=True)
            problem = _problem(exc)
            raise StoreError(
                f"cannot back up history database {self.path} before upgrading its schema "
                f"({problem}); "
                "nothing was changed and nothing was lost: "
                + (
                    "free some disk space and run again"
                    if problem == "no space left on device"
                    else "free some disk space or make the folder writable, and run again"
                )
            ) from exc
        log.warning("history %s: backed up to %s before upgrading its schema", self.path, target)
        return target

    # -- transactions and errors -----------------------------------------------------------
    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise _store_error(self.path, exc) from exc

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: IMMEDIATE takes the write lock up front, so concurrent writers wait
        (busy timeout) instead of failing on a read-to-write upgrade."""
        with self._errors():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------
    def save(
        self,
        analysis: Any,
        audio_path: str | Path | None = None,
        *,
        label: str | None = None,
        new_attempt: bool = False,
    ) -> Saved:
        """Store one analysis (an `AnalysisResult`, or a dict of its `to_json()`).

        `audio_path` defaults to the analysis' "file". If the same recording (same bytes) was
        analysed before with the same engine and model, that attempt is updated in place (its id,
        date and label stay; a new `label` replaces the old one) unless `new_attempt` is True.
        """
        data = _as_dict(analysis)
        audio = Path(audio_path if audio_path is not None else data.get("file") or "")
        digest = file_sha256(audio) if str(audio) else None
        engine, model = str(data.get("engine") or ""), str(data.get("model") or "")
        # A file name that is not UTF-8 reaches Python as lone surrogates, which SQLite cannot
        # store: keep them as \xNN text (the hash, not the name, identifies the recording).
        audio_text = escaped(str(audio.resolve())) if str(audio) else ""
        data = _escaped_strings(data)
        label = None if label is None else escaped(label)
        with self._transaction() as conn:
            existing = None
            if digest:
                existing = conn.execute(
                    "SELECT id, copy_no FROM attempts WHERE audio_sha256 = ? AND "
                    "engine = ? AND model = ? "
                    "ORDER BY copy_no DESC LIMIT 1",
                    (digest, engine, model),
                ).fetchone()
            if existing and not new_attempt:
                self._update(conn, existing[0], data, audio_text, label)
                return Saved(existing[0], False, self.path)
            copy_no = existing[1] + 1 if existing else 0
            row_id = self._insert(
                conn, data, audio_text, digest, engine, model, label, copy_no, _now()
            )
        return Saved(row_id, True, self.path)

    def _update(
        self, conn: sqlite3.Connection, row_id: int, data: dict, audio: str, label: str | None
    ) -> None:
        indexed = _metric_values(data)
        sets = ", ".join(f"{c} = ?" for c in indexed)
        conn.execute(
            "UPDATE attempts SET updated_at = ?, audio_path = ?, analysis = ?, label = "
            f"COALESCE(?, label), {sets} WHERE id = ?",
            (_now(), audio, json.dumps(data, ensure_ascii=False), label, *indexed.values(), row_id),
        )

    def _insert(
        self,
        conn,
        data,
        audio,
        digest,
        engine,
        model,
        label,
        copy_no,
        created_at,
        updated_at=None,
        row_id=None,
    ) -> int:
        indexed = _metric_values(data)
        columns = (
            "id",
            "created_at",
            "updated_at",
            "audio_path",
            "audio_sha256",
            "copy_no",
            "engine",
            "model",
            "label",
            "analysis",
            *indexed,
        )
        values = (
            row_id,
            created_at,
            updated_at or created_at,
            audio,
            digest,
            copy_no,
            engine,
            model,
            label,
            json.dumps(data, ensure_ascii=False),
            *indexed.values(),
        )
        cursor = conn.execute(
            f"INSERT INTO attempts ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            values,
        )
        return int(cursor.lastrowid)

    def set_label(self, attempt_id: int, label: str | None) -> None:
        """Change (or with None, clear) the label of an attempt."""
        if not 1 <= attempt_id <= _MAX_ID:
            raise self._missing(attempt_id)
        with self._transaction() as conn:
            if (
                conn.execute(
                    "UPDATE attempts SET label = ? WHERE id = ?", (label, attempt_id)
                ).rowcount
                == 0
            ):
                raise self._missing(attempt_id)

    def forget(self, attempt_id: int) -> Attempt:
        """Delete one attempt; returns what was deleted."""
        with self._transaction() as conn:
            attempt = self._get(attempt_id, damaged_too=True)
            conn.execute("DELETE FROM attempts WHERE id = ?", (attempt_id,))
        return attempt

    def forget_all(self, attempt_ids: list[int]) -> list[Attempt]:
        """Delete several attempts, all or none: an unknown id raises StoreError before anything
        is deleted. Returns what was deleted, in the order given (a repeated id counts once)."""
        with self._transaction() as conn:
            attempts = [
                self._get(attempt_id, damaged_too=True) for attempt_id in dict.fromkeys(attempt_ids)
            ]
            conn.executemany("DELETE FROM attempts WHERE id = ?", [(a.id,) for a in attempts])
        return attempts

    # -- reading ---------------------------------------------------------------------------
    def get(self, attempt_id: int, *, damaged_too: bool = False) -> Attempt:
        """One attempt by id; StoreError if there is no such attempt (or, unless `damaged_too`,
        if its stored analysis is unreadable)."""
        with self._errors():
            return self._get(attempt_id, damaged_too=damaged_too)

    def _get(self, attempt_id: int, *, damaged_too: bool = False) -> Attempt:
        if not isinstance(attempt_id, int) or not 1 <= attempt_id <= _MAX_ID:
            raise self._missing(attempt_id)  # SQLite cannot even bind an id beyond 2^63 - 1
        rows = self._select("WHERE id = ?", (attempt_id,), damaged_too=damaged_too)
        if not rows:
            if attempt_id in self.damaged:
                raise StoreError(
                    f"attempt #{attempt_id} in {self.path} is damaged "
                    f"({self.damaged[attempt_id]}) and "
                    "cannot be shown; the other attempts are intact. `speechcoach forget "
                    f"{attempt_id}` "
                    "removes it"
                )
            raise self._missing(attempt_id)
        return rows[0]

    def _missing(self, attempt_id: int) -> StoreError:
        return StoreError(
            f"no attempt #{attempt_id} in {self.path}; `speechcoach history` lists the "
            "attempts and their ids"
        )

    def list(self, limit: int | None = None) -> list[Attempt]:
        """Attempts, newest first (at most `limit`)."""
        with self._errors():
            return self._select(
                "ORDER BY created_at DESC, id DESC LIMIT ?", (-1 if limit is None else limit,)
            )

    def latest(self, count: int = 1) -> list[Attempt]:
        """The `count` newest attempts, newest first."""
        return self.list(limit=count)

    def chronological(self, last: int | None = None) -> list[Attempt]:
        """Attempts oldest first (only the `last` newest ones if given): the order of a progress
        chart."""
        return list(reversed(self.list(limit=last)))

    def count(self) -> int:
        with self._errors():
            return self._conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]

    def integrity_check(self) -> str:
        """'ok', or SQLite's description of what is broken."""
        with self._errors():
            return "; ".join(r[0] for r in self._conn.execute("PRAGMA integrity_check"))

    def _select(self, where: str, params: tuple, *, damaged_too: bool = False) -> list[Attempt]:
        """Attempts matching `where`. One whose stored JSON cannot be read is left out (and noted
        in `self.damaged`) so that every other attempt is still served; with `damaged_too` it
        comes back with an empty analysis (for `forget`)."""
        names = [f.name for f in Attempt.__dataclass_fields__.values()]
        rows = self._conn.execute(
            f"SELECT {', '.join(names)} FROM attempts {where}", params
        ).fetchall()
        attempts = []
        for row in rows:
            values = dict(zip(names, row, strict=True))
            try:
                values["analysis"] = json.loads(values["analysis"])
                if not isinstance(values["analysis"], dict):
                    raise ValueError(f"a JSON {type(values['analysis']).__name__}, not an object")
            except (ValueError, TypeError, RecursionError) as exc:
                reason = f"unreadable JSON: {exc}"
                if values["id"] not in self.damaged:
                    log.warning(
                        "history %s: attempt #%s skipped (%s)", self.path, values["id"], reason
                    )
                self.damaged[values["id"]] = reason
                if not damaged_too:
                    continue
                values["analysis"] = {}
            attempts.append(Attempt(**values))
        return attempts

    # -- export / import -------------------------------------------------------------------
    def export(self) -> dict:
        """Everything, as one JSON-ready dict (oldest first); `import_` reads it back. Damaged
        attempts are left out (see `self.damaged`): every healthy one is saved."""
        return {
            "format": EXPORT_FORMAT,
            "format_version": EXPORT_FORMAT_VERSION,
            "schema_version": self.schema_version,
            "exported_at": _now(),
            "attempts": [a.to_dict() for a in self.chronological()],
        }

    def import_(self, data: dict) -> ImportResult:
        """Merge an export into this history, in one transaction.

        An attempt already here (same recording hash, engine, model and date) is updated if the
        imported one is newer, else skipped; any other is added (keeping its id when that id is
        free).
        """
        attempts = _validated_export(data)
        added = updated = skipped = 0
        with self._transaction() as conn:
            for item in attempts:
                outcome = self._import_one(conn, item)
                added, updated, skipped = (
                    added + (outcome == "added"),
                    updated + (outcome == "updated"),
                    skipped + (outcome == "skipped"),
                )
        return ImportResult(added, updated, skipped)

    def _import_one(self, conn: sqlite3.Connection, item: dict) -> str:
        digest, engine, model = (
            item.get("audio_sha256"),
            item.get("engine") or "",
            item.get("model") or "",
        )
        same = conn.execute(
            "SELECT id, updated_at FROM attempts WHERE audio_sha256 IS ? AND engine = ? "
            "AND model = ? AND created_at = ?",
            (digest, engine, model, item["created_at"]),
        ).fetchone()
        if same:
            if (item.get("updated_at") or "") <= (same[1] or ""):
                return "skipped"
            self._update(
                conn, same[0], item["analysis"], item.get("audio_path") or "", item.get("label")
            )
            return "updated"
        copy_no = 0
        if digest:
            copy_no = conn.execute(
                "SELECT COALESCE(MAX(copy_no) + 1, 0) FROM attempts WHERE audio_sha256 = "
                "? AND engine = ? AND model = ?",
                (digest, engine, model),
            ).fetchone()[0]
        wanted = item.get("id")
        free = (
            isinstance(wanted, int)
            and not conn.execute("SELECT 1 FROM attempts WHERE id = ?", (wanted,)).fetchone()
        )
        self._insert(
            conn,
            item["analysis"],
            item.get("audio_path") or "",
            digest,
            engine,
            model,
            item.get("label"),
            copy_no,
            item["created_at"],
            item.get("updated_at"),
            wanted if free else None,
        )
        return "added"


def check_export_target(target: Path, history_path: Path) -> None:
    """Refuse to write an export over the history database, its journal files, or any other
    SQLite database (an export is JSON: writing it there would destroy the attempts)."""
    target = Path(target)
    live = {history_path.resolve(), *(Path(f"{history_path.resolve()}{s}") for s in _SIDE_FILES)}
    if target.resolve() in live:
        raise StoreError(
            f"{target} is the history database itself (or one of its files); writing the export "
            "there would destroy the attempts. Nothing was written: give another file name, "
            "e.g. speechcoach export history.json"
        )
    if target.is_file() and is_sqlite_file(target):
        raise StoreError(
            f"{target} is an SQLite database, not an export; nothing was written. Give another "
            "file name, e.g. speechcoach export history.json"
        )


def _validated_export(data: Any) -> list[dict]:
    """The attempts of an export, or StoreError saying what is wrong with it (before any SQL: a
    bad value must be named as such, not surface as a database error)."""
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise StoreError(
            f'not a speechcoach history export (expected "format": "{EXPORT_FORMAT}"); '
            "make one with `speechcoach export`"
        )
    version = data.get("format_version", 0)
    if not _INT.test(version):
        raise StoreError(
            f'the export\'s "format_version" is {_kind(version)}, not a whole number; '
            "make a new one with `speechcoach export`"
        )
    if version > EXPORT_FORMAT_VERSION:
        raise StoreError(
            f"this export has format_version {version}; this speechcoach reads up to "
            f"{EXPORT_FORMAT_VERSION}: upgrade speechcoach"
        )
    attempts = data.get("attempts")
    if not isinstance(attempts, list):
        raise StoreError('the export has no "attempts" list; make one with `speechcoach export`')
    for number, item in enumerate(attempts, 1):
        problem = _shape_problem(item, _ITEM_SHAPE, "") or _analysis_problem(item)
        if problem:
            ident = (
                f" (#{item['id']})" if isinstance(item, dict) and _ID.test(item.get("id")) else ""
            )
            raise StoreError(
                f"attempt {number} of the export{ident} {problem}; nothing was imported: "
                "fix or remove that attempt, or export again with `speechcoach export`"
            )
    return attempts


def _analysis_problem(item: dict) -> str | None:
    """The analysis of an imported attempt is checked by the record's own definition."""
    if "analysis" not in item:
        return 'lacks "analysis"'
    return result_problem(item["analysis"], where="analysis")


# ------------------------------------------------------------------------- the shape of an import
# What `show` (report.py) and compare/progress (progress.py) read from a stored analysis, with
# the types they rely on: an imported attempt that passes cannot crash them later.
@dataclass(frozen=True)
class _Leaf:
    name: str
    test: Callable[[Any], bool]


@dataclass(frozen=True)
class _Nullable:
    """The key must be there; its value may be null."""

    spec: Any


@dataclass(frozen=True)
class _Optional(_Nullable):
    """The key may be missing, or null."""


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        or isinstance(value, float)
        and math.isfinite(value)
    )


_MAX_ID = 2**63 - 1  # SQLite's INTEGER
_INT = _Leaf("a whole number", lambda v: isinstance(v, int) and not isinstance(v, bool))
_ID = _Leaf("a whole number from 1", lambda v: _INT.test(v) and 1 <= v <= _MAX_ID)
_STR = _Leaf("a string", lambda v: isinstance(v, str))


def _is_timestamp(value: Any) -> bool:
    """An ISO 8601 date and time with its time zone, as `speechcoach export` writes: anything
    else ("yesterday-ish") would sort as text among the real dates, e.g. as the newest attempt."""
    if not isinstance(value, str) or not _TIMESTAMP_SHAPE.fullmatch(value):
        return False
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


_TIMESTAMP_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")
_WHEN = _Leaf("a date and time like 2026-01-05T10:00:00+00:00", _is_timestamp)

_ITEM_SHAPE = {
    "id": _Optional(_ID),
    "created_at": _WHEN,
    "updated_at": _Optional(_WHEN),
    "audio_path": _Optional(_STR),
    "audio_sha256": _Optional(_STR),
    "engine": _Optional(_STR),
    "model": _Optional(_STR),
    "label": _Optional(_STR),
}


def _kind(value: Any) -> str:
    """A JSON value's type, in words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"the number {value:g}" if isinstance(value, float) else f"the number {value}"
    return {dict: "an object", list: "a list", str: "a string"}.get(
        type(value), type(value).__name__
    )


def _shape_problem(value: Any, spec: Any, where: str) -> str | None:
    """What is wrong with `value` against `spec` (None: nothing), e.g. 'has "analysis.score" as a
    string
    (expected a whole number from 0 to 100)'."""
    or_null = ""
    if isinstance(spec, _Nullable):
        if value is None:
            return None
        spec, or_null = spec.spec, " or null"
    if isinstance(spec, _Leaf):
        return None if spec.test(value) else _wrong(where, value, spec.name + or_null)
    if isinstance(spec, list):
        if not isinstance(value, list):
            return _wrong(where, value, "a list" + or_null)
        return next(
            (p for n, v in enumerate(value) if (p := _shape_problem(v, spec[0], f"{where}[{n}]"))),
            None,
        )
    if not isinstance(value, dict):
        return _wrong(where, value, "an object" + or_null)
    for key, sub in spec.items():
        path = f"{where}.{key}" if where else key
        if key not in value:
            if isinstance(sub, _Optional):
                continue
            return f'lacks "{path}"'
        problem = _shape_problem(value[key], sub, path)
        if problem:
            return problem
    return None


def _wrong(where: str, value: Any, expected: str) -> str:
    return (
        f'has "{where}" as {_kind(value)} (expected {expected})'
        if where
        else f"is {_kind(value)} (expected {expected})"
    )
