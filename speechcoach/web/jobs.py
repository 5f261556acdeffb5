"""Analyses for the web app, one at a time, off the event loop.

One worker thread owns the `Analyzer` (its models are loaded once and are not thread-safe), takes
jobs in the order they came, and records each job's state, which the pages poll:

    queued -> transcribing -> measuring -> saving -> done     (or: error, with the one-line message)

"Time left" is an estimate: the seconds of audio still to analyse (this job's and those before it)
times the seconds one second of audio took in the analyses this process already finished
(`DEFAULT_SECONDS_PER_AUDIO_SECOND` until the first one is done).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SpeechcoachError
from ..store import History

log = logging.getLogger(__name__)

STATE_QUEUED = "queued"
STATE_TRANSCRIBING = "transcribing"
STATE_MEASURING = "measuring"
STATE_SAVING = "saving"
STATE_DONE = "done"
STATE_ERROR = "error"
FINISHED = (STATE_DONE, STATE_ERROR)
# tiny.en on two laptop cores: about a third of real time for transcription and measures
# (benchmarks/RESULTS.md); replaced by what this process measures after its first analysis.
DEFAULT_SECONDS_PER_AUDIO_SECOND = 0.4
MEASURING_SHARE = 0.1  # of a job's time, left once transcription is over
KEEP_FINISHED = 500  # finished jobs remembered for the pages (the history keeps the attempts)


@dataclass
class Job:
    id: str
    name: str  # what the user called it (file name, "Recording 10:42"): shown, never opened
    path: Path  # the saved recording, under SPEECHCOACH_HOME/recordings
    audio_s: float
    label: str | None = None
    language: str | None = None
    target_s: float | None = None
    state: str = STATE_QUEUED
    error: str | None = None
    status: int = 200  # the HTTP status an error maps to
    attempt_id: int | None = None
    result: dict | None = None
    queued_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None
    done: threading.Event = field(default_factory=threading.Event, repr=False)
    _callbacks: list = field(default_factory=list, repr=False)

    def when_done(self, callback) -> None:
        """Call `callback()` (from the worker thread) once the job is finished."""
        self._callbacks.append(callback)
        if self.done.is_set():
            callback()

    def to_dict(self, eta_s: float | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "audio_s": round(self.audio_s, 1),
            "label": self.label,
            "attempt_id": self.attempt_id,
            "error": self.error,
            "eta_s": None if eta_s is None else round(eta_s, 1),
            "report": f"/attempts/{self.attempt_id}" if self.attempt_id else None,
        }


class JobQueue:
    """The single analysis worker and the jobs it has seen."""

    def __init__(self, analyzer, history_path: Path):
        self.analyzer = analyzer
        self.history_path = history_path
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._rate = DEFAULT_SECONDS_PER_AUDIO_SECOND
        self._measured = False
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="speechcoach-analysis", daemon=True
            )
            self._thread.start()

    def stop(self) -> list[Job]:
        """Ask the worker to finish after the current job; returns the jobs not finished (the
        one running, if any, and those never started)."""
        unfinished = [j for j in self.jobs() if j.state not in FINISHED]
        self._queue.put(None)
        return unfinished

    # -- jobs ------------------------------------------------------------------------------
    def submit(self, path: Path, name: str, audio_s: float, **options) -> Job:
        job = Job(uuid.uuid4().hex[:12], name, path, audio_s, **options)
        with self._lock:
            self._jobs[job.id] = job
            finished = [j for j in self._jobs.values() if j.state in FINISHED]
            for old in finished[: max(0, len(finished) - KEEP_FINISHED)]:
                del self._jobs[old.id]
        self.start()
        self._queue.put(job)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def jobs(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def eta(self, job: Job) -> float | None:
        """Seconds until `job` is done (an estimate, see the module docstring)."""
        if job.state in FINISHED:
            return None
        now = time.monotonic()
        with self._lock:
            ahead = [
                j
                for j in self._jobs.values()
                if j.state not in FINISHED and j.queued_at <= job.queued_at
            ]
        left = 0.0
        for j in ahead:
            expected = j.audio_s * self._rate
            if j.started_at is not None:
                spent = now - j.started_at
                floor = expected * MEASURING_SHARE if j.state != STATE_TRANSCRIBING else 1.0
                left += max(expected - spent, floor)
            else:
                left += expected
        return left

    def snapshot(self, job: Job) -> dict:
        return job.to_dict(self.eta(job))

    # -- the worker ------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            self._analyse(job)

    def _analyse(self, job: Job) -> None:
        job.started_at = time.monotonic()
        job.state = STATE_TRANSCRIBING
        try:
            analyzer = self.analyzer.variant(language=job.language, target_s=job.target_s)
            result = analyzer.analyze_file(
                job.path, on_stage=lambda stage: _set(job, stage)
            ).to_dict()
            job.state = STATE_SAVING
            with History.open(self.history_path) as history:
                saved = history.save(result, job.path, label=job.label)
            result["attempt_id"] = saved.id
            if job.label:
                result["label"] = job.label
            job.result, job.attempt_id = result, saved.id
            job.state = STATE_DONE
            self._learn(job)
        except SpeechcoachError as exc:
            job.error = str(exc).replace(str(job.path), job.name)
            job.status = 422 if type(exc).__name__ == "AudioError" else 503
            job.state = STATE_ERROR
            log.warning("analysis of %s failed: %s", job.name, job.error)
        except Exception as exc:  # noqa: BLE001 - the server must outlive any one analysis
            log.exception("analysis of %s failed", job.name)
            job.error = (
                f"{job.name}: unexpected error ({type(exc).__name__}: {exc}); "
                "rerun `speechcoach serve --debug` for details and report it"
            )
            job.status = 500
            job.state = STATE_ERROR
        finally:
            job.done.set()
            for callback in list(job._callbacks):
                callback()

    def _learn(self, job: Job) -> None:
        """Update seconds-per-audio-second from a finished job (the first one replaces the
        default; later ones are averaged in, so a cold model load does not dominate)."""
        if not job.audio_s or job.started_at is None:
            return
        rate = (time.monotonic() - job.started_at) / job.audio_s
        self._rate = rate if not self._measured else 0.7 * self._rate + 0.3 * rate
        self._measured = True


def _set(job: Job, stage: str) -> None:
    job.state = stage
