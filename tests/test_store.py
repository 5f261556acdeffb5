"""The history database (speechcoach/store.py) on real SQLite files: saving and matching attempts,
migrations from an older schema, two processes writing at once, a writer killed mid-run, damaged
and foreign files, export/import."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from speechcoach import store
from speechcoach.errors import StoreError
from speechcoach.store import History, file_sha256

REPO = Path(__file__).resolve().parents[1]
COMPONENTS = ("japan", "career_change", "project", "plan")
EVIDENCE = {
    "japan": "I want to build my career in Japan because my wife's family lives in Osaka.",
    "career_change": (
        "I want to change jobs to work on larger systems and brush up my cloud skills."
    ),
    "project": "In my last project I led a team of four building a payment API in Go on AWS.",
    "plan": "Now I am studying for the JLPT N2, and in three years I want to lead a platform team.",
}
PITFALL_TEXT = {
    "badmouth": "My boss was terrible and never listened to anyone.",
    "culture_reason": "I love anime, so I came to Japan.",
    "salary_only": "The main reason is that the salary is low.",
}


def make_analysis(
    audio: Path | str = "take.wav",
    *,
    score: int = 62,
    duration_s: float = 125.0,
    target_s: float = 180.0,
    wpm: float | None = 182.0,
    fillers_per_min: float = 6.2,
    long_pauses: int = 3,
    covered: tuple[str, ...] = ("japan", "project"),
    pitfalls: tuple[str, ...] = ("badmouth",),
    language: str = "en",
    engine: str = "faster-whisper",
    model: str = "tiny.en",
) -> dict:
    """An analysis dict in the `Analysis.to_dict()` schema, with the numbers chosen by the test."""
    words = int(round((wpm or 150.0) * duration_s / 60))
    fillers = int(round(fillers_per_min * duration_s / 60))
    components = {
        cid: {
            "covered": cid in covered,
            "confidence": 0.82 if cid in covered else 0.31,
            "seconds": 24.0 if cid in covered else 0.0,
            "evidence": [{"text": EVIDENCE[cid], "start": 10.0 * n, "end": 10.0 * n + 6.5}]
            if cid in covered
            else [],
        }
        for n, cid in enumerate(COMPONENTS)
    }
    hits = [
        {"id": p, "text": PITFALL_TEXT[p], "start": 50.0 + 5 * n, "end": 54.0 + 5 * n}
        for n, p in enumerate(pitfalls)
    ]
    tips = [
        {
            "id": f"missing:{c}",
            "priority": 90,
            "message": f"Say {c.replace('_', ' ')}: it is missing.",
            "sentence": None,
            "start": None,
            "say_instead": "In three years I want to lead a team here.",
        }
        for c in COMPONENTS
        if c not in covered
    ]
    tips += [
        {
            "id": f"pitfall:{p}",
            "priority": 80,
            "message": f"Drop the {p} sentence.",
            "sentence": PITFALL_TEXT[p],
            "start": 50.0,
            "say_instead": "I am looking for larger projects.",
        }
        for p in pitfalls
    ]
    long = [
        {"start": 20.0 + 15 * n, "end": 22.6 + 15 * n, "duration": 2.6} for n in range(long_pauses)
    ]
    return {
        "file": str(audio),
        "language": language,
        "engine": engine,
        "model": model,
        "duration_s": duration_s,
        "speech_s": duration_s - 1.5,
        "voiced_s": duration_s - 20.0,
        "target_s": target_s,
        "word_count": words,
        "wpm": wpm,
        "articulation_wpm": None if wpm is None else wpm + 25,
        "chars_per_min": None,
        "morae_per_min": None,
        "pace_windows": [
            {"start": 0.0, "end": 30.0, "wpm": (wpm or 0) + 8},
            {"start": 30.0, "end": duration_s, "wpm": (wpm or 0) - 4},
        ],
        "pauses": {
            "count": 31,
            "long_count": long_pauses,
            "total_s": 21.4,
            "longest_s": 2.6 if long_pauses else 1.1,
            "longest_at": 20.0 if long_pauses else 7.0,
            "long": long,
            "min_pause_s": 0.2,
            "long_pause_s": 2.0,
        },
        "fillers": {
            "count": fillers,
            "per_100_words": round(100 * fillers / words, 1),
            "per_min": fillers_per_min,
            "items": [{"text": "um", "start": 3.0 * n} for n in range(fillers)],
            "method": "whisper transcript (lower bound)",
        },
        "pitch": {
            "spread_semitones": 3.1,
            "median_hz": 128.0,
            "method": "librosa.yin over voiced frames",
        },
        "loudness": {"spread_db": 5.2, "method": "std of frame RMS (dB) over voiced frames"},
        "components": components,
        "order": {"sequence": [c for c in COMPONENTS if c in covered], "ok": True, "note": ""},
        "pitfalls": hits,
        "score": score,
        "score_parts": {
            "duration": 9.0,
            "pace": 7.0,
            "fillers": 10.0,
            "pauses": 2.5,
            "components": 10.0 * len(covered),
            "order": 10,
            "pitfalls": -5.0 * len(pitfalls),
        },
        "judgements": {
            "duration": "low" if duration_s < 153 else "ok",
            "wpm": "high" if (wpm or 0) > 160 else "ok",
            "fillers": "ok",
            "pitch": "ok",
            "loudness": "ok",
        },
        "bands": {
            "duration": "153-207 s (target 3:00 +-15%)",
            "wpm": "120-160 words/min (Street & Brady 1982; practice tools)",
            "fillers": "0-5 per 100 words (disfluency studies, RUBRIC.md)",
            "pitch": "2-8 semitones (std) (prosody studies; heuristic)",
            "loudness": "3-15 dB (std) (heuristic for flat delivery)",
        },
        "tips": tips,
        "transcript": {
            "text": " ".join(EVIDENCE[c] for c in covered),
            "segments": [
                {"start": 10.0 * n, "end": 10.0 * n + 6.5, "text": EVIDENCE[c]}
                for n, c in enumerate(covered)
            ],
        },
        "timings": {"decode": 0.05, "transcribe": 3.2, "delivery": 0.4, "content": 0.2},
    }


def make_audio(folder: Path, name: str, content: bytes | None = None) -> Path:
    """A stand-in recording: the store only hashes its bytes."""
    path = folder / name
    path.write_bytes(content if content is not None else f"RIFF fake audio {name}".encode())
    return path


@pytest.fixture
def db(home) -> Path:
    """Where `History.open()` puts the file: SPEECHCOACH_HOME comes from conftest's `home`."""
    return home / store.DB_FILENAME


# ------------------------------------------------------------------------------- save / read
def test_save_stores_every_field_and_the_whole_analysis(db, tmp_path):
    audio = make_audio(tmp_path, "take1.wav")
    analysis = make_analysis(audio)
    with History.open() as history:
        saved = history.save(analysis, audio, label="v1, first try")
        attempt = history.get(saved.id)
    assert saved.created and saved.path == db
    assert attempt.analysis == analysis
    assert attempt.audio_path == str(audio.resolve())
    assert (
        attempt.audio_sha256
        == file_sha256(audio)
        == __import__("hashlib").sha256(audio.read_bytes()).hexdigest()
    )
    assert (attempt.engine, attempt.model, attempt.language, attempt.label) == (
        "faster-whisper",
        "tiny.en",
        "en",
        "v1, first try",
    )
    assert (attempt.score, attempt.duration_s, attempt.target_s, attempt.wpm) == (
        62,
        125.0,
        180.0,
        182.0,
    )
    assert (
        attempt.fillers_per_min,
        attempt.long_pauses,
        attempt.components_covered,
        attempt.components_total,
        attempt.pitfalls,
    ) == (6.2, 3, 2, 4, 1)
    assert attempt.created_at.endswith("+00:00")


def test_analysing_the_same_recording_again_updates_that_attempt(tmp_path):
    audio = make_audio(tmp_path, "take1.wav")
    with History.open() as history:
        first = history.save(make_analysis(audio, score=50), audio, label="v1")
        again = history.save(make_analysis(audio, score=55), audio)
        assert (again.id, again.created) == (first.id, False)
        attempt = history.get(first.id)
        assert (attempt.score, attempt.label, history.count()) == (55, "v1", 1)  # label kept
        history.save(make_analysis(audio, score=56), audio, label="v1, re-run")
        assert history.get(first.id).label == "v1, re-run"
        assert history.get(first.id).updated_at > history.get(first.id).created_at


def test_the_same_bytes_under_another_name_are_the_same_attempt(tmp_path):
    original = make_audio(tmp_path, "take1.wav", b"same bytes")
    copy = make_audio(tmp_path, "copy-of-take1.wav", b"same bytes")
    with History.open() as history:
        a = history.save(make_analysis(original), original)
        b = history.save(make_analysis(copy), copy)
        assert a.id == b.id and history.count() == 1
        assert history.get(a.id).audio_path == str(copy.resolve())


def test_new_attempt_keeps_both_and_later_updates_go_to_the_newest_copy(tmp_path):
    audio = make_audio(tmp_path, "take1.wav")
    with History.open() as history:
        first = history.save(make_analysis(audio, score=40), audio)
        second = history.save(make_analysis(audio, score=45), audio, new_attempt=True)
        third = history.save(make_analysis(audio, score=47), audio)
        assert second.created and second.id != first.id and third.id == second.id
        assert [a.score for a in history.list()] == [47, 40]


def test_another_engine_or_model_is_another_attempt(tmp_path):
    audio = make_audio(tmp_path, "take1.wav")
    with History.open() as history:
        ids = {
            history.save(make_analysis(audio, model=m, engine=e), audio).id
            for e, m in [
                ("faster-whisper", "tiny.en"),
                ("faster-whisper", "base"),
                ("openai-whisper", "tiny.en"),
            ]
        }
        assert len(ids) == history.count() == 3


def test_a_recording_that_is_gone_is_still_saved_but_never_matched(tmp_path):
    missing = tmp_path / "deleted.wav"
    with History.open() as history:
        a = history.save(make_analysis(missing), missing)
        b = history.save(make_analysis(missing), missing)
        assert a.id != b.id and history.get(a.id).audio_sha256 is None


def test_save_takes_the_path_from_the_analysis_and_accepts_an_object(tmp_path):
    audio = make_audio(tmp_path, "take1.wav")

    class FakeAnalysis:  # stands for Analysis: anything with to_dict()
        def to_dict(self):
            return make_analysis(audio)

    with History.open() as history:
        saved = history.save(FakeAnalysis())
        assert history.get(saved.id).audio_sha256 == file_sha256(audio)


def test_a_failed_analysis_is_not_saved():
    with History.open() as history, pytest.raises(ValueError, match="not saving a failed analysis"):
        history.save({"file": "x.wav", "error": "no speech"})


def test_list_is_newest_first_and_chronological_oldest_first(tmp_path):
    with History.open() as history:
        ids = [
            history.save(make_analysis(p), p).id
            for p in (make_audio(tmp_path, f"t{n}.wav") for n in range(4))
        ]
        assert [a.id for a in history.list()] == ids[::-1]
        assert [a.id for a in history.latest(2)] == ids[:1:-1]
        assert [a.id for a in history.chronological()] == ids
        assert [a.id for a in history.chronological(last=2)] == ids[2:]


def test_forget_deletes_one_attempt_and_a_missing_id_says_how_to_find_ids(tmp_path, db):
    with History.open() as history:
        keep = history.save(make_analysis(make_audio(tmp_path, "a.wav")), tmp_path / "a.wav").id
        drop = history.save(make_analysis(make_audio(tmp_path, "b.wav")), tmp_path / "b.wav").id
        assert history.forget(drop).id == drop
        assert [a.id for a in history.list()] == [keep]
        with pytest.raises(StoreError) as err:
            history.forget(drop)
    assert (
        str(err.value)
        == f"no attempt #{drop} in {db}; `speechcoach history` lists the attempts and their ids"
    )


def test_forget_all_checks_every_id_before_deleting_any(tmp_path):
    with History.open() as history:
        ids = [
            history.save(make_analysis(p), p).id
            for p in (make_audio(tmp_path, f"t{n}.wav") for n in range(3))
        ]
        with pytest.raises(StoreError, match="no attempt #99 in "):
            history.forget_all([ids[0], ids[1], 99])
        assert history.count() == 3
        assert [a.id for a in history.forget_all([ids[2], ids[0], ids[2]])] == [ids[2], ids[0]]
        assert [a.id for a in history.list()] == [ids[1]]


def test_set_label(tmp_path):
    audio = make_audio(tmp_path, "a.wav")
    with History.open() as history:
        saved = history.save(make_analysis(audio), audio)
        history.set_label(saved.id, "v2, slower")
        assert history.get(saved.id).label == "v2, slower"
        with pytest.raises(StoreError, match="no attempt #999"):
            history.set_label(999, "x")


def test_the_file_is_in_wal_mode_with_migrations_recorded(db, tmp_path):
    with History.open() as history:
        history.save(make_analysis(make_audio(tmp_path, "a.wav")), tmp_path / "a.wav")
        assert history.schema_version == store.MIGRATIONS[-1][0]
        busy_ms = history._conn.execute("PRAGMA busy_timeout").fetchone()[0]
    assert busy_ms == int(store.BUSY_TIMEOUT_S * 1000)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert [
            r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")
        ] == [1, 2]
    finally:
        conn.close()


# ------------------------------------------------------------------------------ export / import
def test_export_then_import_into_a_new_history_gives_the_same_attempts(tmp_path):
    with History.open(tmp_path / "one.db") as one:
        for n in range(3):
            audio = make_audio(tmp_path, f"t{n}.wav")
            one.save(make_analysis(audio, score=50 + n), audio, label=f"v{n}")
        exported = json.loads(json.dumps(one.export()))  # through JSON, as the CLI does
    assert exported["format"] == store.EXPORT_FORMAT and len(exported["attempts"]) == 3
    with History.open(tmp_path / "two.db") as two:
        assert two.import_(exported) == store.ImportResult(added=3, updated=0, skipped=0)
        assert two.import_(exported) == store.ImportResult(added=0, updated=0, skipped=3)
        assert [a.to_dict() for a in two.chronological()] == exported["attempts"]


def test_import_updates_an_attempt_that_was_re_analysed_since(tmp_path):
    audio = make_audio(tmp_path, "a.wav")
    with History.open(tmp_path / "one.db") as one:
        one.save(make_analysis(audio, score=50), audio)
        old = one.export()
        one.save(make_analysis(audio, score=70), audio, label="re-run")
        new = one.export()
    with History.open(tmp_path / "two.db") as two:
        two.import_(old)
        assert two.import_(new) == store.ImportResult(added=0, updated=1, skipped=0)
        assert (two.latest(1)[0].score, two.latest(1)[0].label) == (70, "re-run")


@pytest.mark.parametrize(
    "data, message",
    [
        ([], "not a speechcoach history export"),
        ({"format": "something-else"}, "not a speechcoach history export"),
        (
            {"format": store.EXPORT_FORMAT, "format_version": 99, "attempts": []},
            "upgrade speechcoach",
        ),
        (
            {
                "format": store.EXPORT_FORMAT,
                "attempts": [{"created_at": "2025-01-01T00:00:00+00:00"}],
            },
            "attempt 1 of the export lacks",
        ),
    ],
)
def test_a_bad_export_is_refused_and_nothing_is_imported(tmp_path, data, message):
    with History.open() as history:
        with pytest.raises(StoreError, match=message):
            history.import_(data)
        assert history.count() == 0


def _set(path: str, value):
    """A change to the first attempt of an export: `path` like "analysis.pauses.longest_s"; a
    value of KeyError deletes the key."""

    def change(export: dict) -> None:
        *parents, last = path.split(".")
        target = export["attempts"][0]
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value

    return change


@pytest.mark.parametrize(
    "change, problem",
    [
        (
            lambda e: e.update(format_version="2"),
            'the export\'s "format_version" is a string, not a whole number',
        ),
        (_set("audio_sha256", ["ab"]), 'has "audio_sha256" as a list (expected a string or null)'),
        (_set("label", {"v": 1}), 'has "label" as an object (expected a string or null)'),
        (_set("id", True), 'has "id" as true/false (expected a whole number from 1 or null)'),
        (
            _set("created_at", 20250101),
            (
                'has "created_at" as the number 20250101 (expected a date and time like '
                "2026-01-05T10:00:00+00:00)"
            ),
        ),
        (_set("analysis", {}), 'lacks "analysis.file"'),
        (
            _set("analysis.components", []),
            'has "analysis.components" as a list (expected an object)',
        ),
        (
            _set("analysis.components.japan.covered", "yes"),
            'has "analysis.components.japan.covered" as a string (expected true or false)',
        ),
        (
            _set("analysis.score", 62.5),
            'has "analysis.score" as the number 62.5 (expected a whole number from 0 to 100)',
        ),
        (
            _set("analysis.score", 250),
            'has "analysis.score" as the number 250 (expected a whole number from 0 to 100)',
        ),
        (
            _set("analysis.duration_s", float("nan")),
            'has "analysis.duration_s" as the number nan (expected a number)',
        ),
        (
            _set("analysis.duration_s", "2:05"),
            'has "analysis.duration_s" as a string (expected a number)',
        ),
        (
            _set("analysis.order", {"sequence": "japan", "ok": True}),
            'has "analysis.order.sequence" as a string (expected a list)',
        ),
        (
            _set("analysis.pitfalls", {"badmouth": 1}),
            'has "analysis.pitfalls" as an object (expected a list)',
        ),
        (
            _set("analysis.pitfalls.0.start", None),
            'has "analysis.pitfalls[0].start" as null (expected a number)',
        ),
        (_set("analysis.tips.0.message", KeyError), 'lacks "analysis.tips[0].message"'),
        (
            _set("analysis.judgements.wpm", ["high"]),
            'has "analysis.judgements.wpm" as a list (expected a string)',
        ),
        (_set("analysis.pauses.longest_at", KeyError), 'lacks "analysis.pauses.longest_at"'),
        (
            _set("analysis.transcript", "hello"),
            'has "analysis.transcript" as a string (expected an object)',
        ),
    ],
)
def test_an_export_with_a_wrongly_typed_field_is_refused_naming_the_attempt(
    tmp_path, change, problem
):
    audio = make_audio(tmp_path, "a.wav")
    with History.open(tmp_path / "one.db") as one:
        one.save(make_analysis(audio), audio)
        one.save(make_analysis(make_audio(tmp_path, "b.wav")), tmp_path / "b.wav")
        exported = one.export()
    change(exported)
    with History.open() as history:
        with pytest.raises(StoreError) as err:
            history.import_(exported)
        assert history.count() == 0
    message = str(err.value)
    assert problem in message and "damaged" not in message
    if "format_version" not in message:
        assert message.startswith("attempt 1 of the export ") and message.endswith(
            "; nothing was imported: fix or remove that attempt, or export again with "
            "`speechcoach export`"
        )


def test_an_analysis_with_only_the_optional_fields_left_out_imports_and_renders(tmp_path):
    """The shape check refuses only what the report cannot show: an analysis without the optional
    fields (no pitch/loudness methods, no timings, no score_parts...) still imports."""
    from speechcoach.report import render_report

    audio = make_audio(tmp_path, "a.wav")
    with History.open(tmp_path / "one.db") as one:
        one.save(make_analysis(audio), audio)
        exported = one.export()
    analysis = exported["attempts"][0]["analysis"]
    for key in (
        "timings",
        "score_parts",
        "voiced_s",
        "word_count",
        "wpm",
        "articulation_wpm",
        "chars_per_min",
        "morae_per_min",
        "language",
        "engine",
        "model",
    ):
        del analysis[key]
    analysis["fillers"]["count"] = None
    with History.open() as history:
        assert history.import_(exported).added == 1
        report = render_report(history.latest(1)[0].analysis)
    # The headline gives the speech (2:03.5, the recording is 2:05): length is judged on it.
    assert report.startswith("a.wav: 2:04 of 3:00, pace n/a, 2/4 parts - score 62/100\n")


def test_only_a_broken_file_is_called_damaged(tmp_path):
    """An SQLite error caused by a bad value (here: binding a list) is not a damaged database:
    telling the user to move a healthy history aside would lose it."""
    with pytest.raises(sqlite3.Error) as bad_value:
        sqlite3.connect(":memory:").execute("SELECT ?", (["a list"],))
    message = str(store._store_error(tmp_path / "history.db", bad_value.value))
    assert "damaged" not in message and "move it aside" not in message
    assert message.startswith(
        f"history database {tmp_path / 'history.db'}: unexpected SQLite error ("
    )
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not sqlite" * 500)
    with pytest.raises(sqlite3.DatabaseError) as not_a_db:
        sqlite3.connect(garbage).execute("SELECT * FROM sqlite_master")
    assert "is damaged or is not a speechcoach history" in str(
        store._store_error(garbage, not_a_db.value)
    )


# ---------------------------------------------------------------------------------- migrations
V1_SCHEMA = """
CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,
                                applied_at TEXT NOT NULL);
INSERT INTO schema_migrations VALUES (1, 'create attempts', '2025-01-10T09:00:00+00:00');
CREATE TABLE attempts (id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, audio_path TEXT NOT NULL,
                       engine TEXT, model TEXT, score INTEGER, analysis TEXT NOT NULL);
"""


def _make_v1_database(db: Path, rows: list[tuple[str, Path, dict]]) -> None:
    """A history as the first release wrote it: no hash, no label, no metric columns."""
    db.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db)
    conn.executescript(V1_SCHEMA)
    for created_at, audio, analysis in rows:
        conn.execute(
            "INSERT INTO attempts (created_at, audio_path, engine, model, score, "
            "analysis) VALUES (?, ?, ?, ?, ?, ?)",
            (
                created_at,
                str(audio),
                analysis["engine"],
                analysis["model"],
                analysis["score"],
                json.dumps(analysis),
            ),
        )
    conn.commit()
    conn.close()


def test_an_older_schema_is_migrated_with_a_backup_and_nothing_lost(db, tmp_path):
    take1, take2 = make_audio(tmp_path, "take1.wav"), make_audio(tmp_path, "take2.wav")
    rows = [
        ("2025-01-10T09:00:00+00:00", take1, make_analysis(take1, score=40)),
        ("2025-01-11T09:00:00+00:00", take1, make_analysis(take1, score=42)),  # v1 kept duplicates
        (
            "2025-01-12T09:00:00+00:00",
            take2,
            make_analysis(take2, score=58, covered=COMPONENTS, pitfalls=()),
        ),
        (
            "2025-01-13T09:00:00+00:00",
            tmp_path / "gone.wav",
            make_analysis(tmp_path / "gone.wav", score=61),
        ),
    ]
    _make_v1_database(db, rows)

    with History.open() as history:
        assert history.schema_version == 2
        attempts = history.chronological()
    assert [(a.created_at, a.analysis) for a in attempts] == [(c, an) for c, _, an in rows]
    assert [a.audio_sha256 for a in attempts] == [file_sha256(take1)] * 2 + [
        file_sha256(take2),
        None,
    ]
    assert [a.components_covered for a in attempts] == [2, 2, 4, 2]
    assert [a.label for a in attempts] == [None] * 4

    backups = list(db.parent.glob("history.db.bak-v1-*"))
    assert len(backups) == 1
    copy = sqlite3.connect(backups[0])  # the backup is the v1 database as it was
    try:
        assert copy.execute("SELECT MAX(version) FROM schema_migrations").fetchone() == (1,)
        assert [
            json.loads(r[0]) for r in copy.execute("SELECT analysis FROM attempts ORDER BY id")
        ] == [an for _, _, an in rows]
    finally:
        copy.close()
    with History.open() as history:  # no second migration, no second backup
        assert history.schema_version == 2
        # re-analysing take1 now updates the newer of its two old attempts
        saved = history.save(make_analysis(take1, score=44), take1)
        assert saved.id == attempts[1].id and not saved.created
    assert len(list(db.parent.glob("history.db.bak-*"))) == 1


def test_a_failing_migration_rolls_back_and_leaves_the_data(db, tmp_path, monkeypatch):
    audio = make_audio(tmp_path, "a.wav")
    with History.open() as history:
        history.save(make_analysis(audio, score=66), audio)

    def broken_migration(conn):
        conn.execute("ALTER TABLE attempts ADD COLUMN half_done TEXT")
        conn.execute("DELETE FROM attempts")
        raise RuntimeError("power cut in the middle of migration 3")

    with monkeypatch.context() as patch, pytest.raises(RuntimeError, match="power cut"):
        patch.setattr(store, "MIGRATIONS", store.MIGRATIONS + [(3, "broken", broken_migration)])
        History.open()

    assert list(db.parent.glob("history.db.bak-v2-*"))  # taken before the attempt
    with History.open() as history:
        assert history.schema_version == 2
        assert [a.score for a in history.list()] == [66]
        columns = {r[1] for r in history._conn.execute("PRAGMA table_info(attempts)")}
    assert "half_done" not in columns


def test_a_history_from_a_newer_version_is_refused_untouched(db, tmp_path):
    with History.open() as history:
        history.save(make_analysis(make_audio(tmp_path, "a.wav")), tmp_path / "a.wav")
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO schema_migrations VALUES (99, 'from the future', '2030-01-01')")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    with pytest.raises(StoreError) as err:
        History.open()
    assert f"history database {db} was written by a newer speechcoach (schema v99" in str(err.value)
    assert db.read_bytes() == before


# ------------------------------------------------------------------------- damaged or foreign
def test_a_damaged_file_gives_a_clear_error_and_is_left_untouched(db):
    db.parent.mkdir(parents=True, exist_ok=True)
    garbage = os.urandom(8192)
    db.write_bytes(garbage)
    with pytest.raises(StoreError) as err:
        History.open()
    assert str(err.value) == (
        f"history database {db} is damaged or is not a speechcoach history (file is not a "
        "database); it was left "
        f"untouched. To recover, move it aside (mv '{db}' '{db}.broken') and a new, empty one "
        "will be created on the next run"
    )
    assert db.read_bytes() == garbage
    assert sorted(p.name for p in db.parent.glob("history.db*")) == [
        "history.db"
    ]  # no journal, no WAL


def test_the_damaged_error_points_at_the_newest_backup(db, tmp_path):
    _make_v1_database(
        db, [("2025-01-10T09:00:00+00:00", tmp_path / "a.wav", make_analysis(tmp_path / "a.wav"))]
    )
    History.open().close()  # migrates, leaving a backup
    backup = next(db.parent.glob("history.db.bak-*"))
    db.write_bytes(b"\0" * 100 + b"not sqlite" * 100)
    with pytest.raises(
        StoreError,
        match=f"restore the backup {backup} \\(copy it over history.db\\), or move it aside",
    ):
        History.open()
    # following the advice works
    db.write_bytes(backup.read_bytes())
    with History.open() as history:
        assert history.count() == 1


def test_a_truncated_database_is_reported_not_repaired(db, tmp_path):
    with History.open() as history:
        for n in range(40):
            audio = make_audio(tmp_path, f"t{n}.wav")
            history.save(make_analysis(audio), audio)
    data = db.read_bytes()
    assert not Path(f"{db}-wal").exists()  # closed cleanly: everything is in the main file
    truncated = data[: len(data) // 3]
    db.write_bytes(truncated)
    with pytest.raises(StoreError, match=f"history database {db} is damaged"):
        with History.open() as history:
            history.list()
    assert db.read_bytes() == truncated


def test_an_sqlite_file_of_another_program_is_refused_untouched(db):
    db.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE contacts (name TEXT)")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    with pytest.raises(
        StoreError, match="is an SQLite file but not a speechcoach history .*tables: contacts"
    ):
        History.open()
    assert db.read_bytes() == before


def test_a_folder_that_cannot_be_created_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot create the folder for history database"):
        History.open(blocker / "sub" / "history.db")


# -------------------------------------------------------------------------------- concurrency
def test_readers_are_not_blocked_and_a_writer_waiting_too_long_gets_a_clear_error(
    db, tmp_path, monkeypatch
):
    audio = make_audio(tmp_path, "a.wav")
    with History.open() as history:
        history.save(make_analysis(audio), audio)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process is in the middle of a write
    try:
        monkeypatch.setattr(store, "BUSY_TIMEOUT_S", 0.3)
        with History.open() as history:
            assert history.count() == 1  # WAL: reading goes on while someone writes
            with pytest.raises(
                StoreError,
                match=f"history database {db} stayed locked by another speechcoach process",
            ):
                history.save(make_analysis(make_audio(tmp_path, "b.wav")), tmp_path / "b.wav")
    finally:
        other.execute("ROLLBACK")
        other.close()


WRITER = textwrap.dedent("""
    import sys
    import time
    from pathlib import Path
    sys.path.insert(0, sys.argv[4])
    from test_store import make_analysis
    from speechcoach.store import History

    db, tag, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    folder = db.parent / f"audio-{tag}"
    folder.mkdir(parents=True, exist_ok=True)
    (db.parent / f"ready-{tag}").touch()
    while not (db.parent / "go").exists() and tag != "killed":  # start together, to race for real
        time.sleep(0.01)
    for n in range(count):
        audio = folder / f"{tag}-{n}.wav"
        audio.write_bytes(f"{tag} recording {n}".encode())
        # a fresh open per attempt, as each `speechcoach analyze` run does
        with History.open(db) as history:
            saved = history.save(make_analysis(audio, score=n % 101), audio, label=f"{tag}-{n}")
        print(f"saved {saved.id} {tag}-{n}", flush=True)
""")


def _writer(db: Path, tag: str, count: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), tag, str(count), str(Path(__file__).parent)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    db = (
        tmp_path / "shared" / "history.db"
    )  # does not exist yet: both race to create and migrate it
    writers = [_writer(db, tag, 50) for tag in ("alpha", "beta")]
    deadline = time.monotonic() + 120
    while (
        not all((db.parent / f"ready-{tag}").exists() for tag in ("alpha", "beta"))
        and time.monotonic() < deadline
    ):
        time.sleep(0.01)
    (db.parent / "go").touch()
    outputs = [w.communicate(timeout=300) for w in writers]
    for writer, (_out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err
    reported = {
        line.split()[2]: int(line.split()[1]) for out, _ in outputs for line in out.splitlines()
    }
    assert len(reported) == 100
    with History.open(db) as history:
        assert history.integrity_check() == "ok"
        stored = {a.label: a.id for a in history.list()}
        assert stored == reported
        assert history.schema_version == 2
    assert not list(db.parent.glob("history.db.bak-*"))  # a new file needs no backup


def test_a_writer_killed_mid_run_loses_nothing_it_reported_saved(tmp_path):
    db = tmp_path / "history.db"
    writer = _writer(db, "killed", 10_000)
    reported = {}
    for line in writer.stdout:
        _, attempt_id, label = line.split()
        reported[label] = int(attempt_id)
        if len(reported) == 25:
            writer.kill()  # SIGKILL: no cleanup, no checkpoint, possibly mid-transaction
            break
    writer.wait(timeout=60)
    writer.stdout.close()
    writer.stderr.close()
    with History.open(db) as history:
        assert history.integrity_check() == "ok"
        stored = {a.label: a.id for a in history.list()}
    assert reported.items() <= stored.items()
    # and the history takes new attempts afterwards
    with History.open(db) as history:
        history.save(make_analysis(make_audio(tmp_path, "after.wav")), tmp_path / "after.wav")
        assert history.count() == len(stored) + 1
