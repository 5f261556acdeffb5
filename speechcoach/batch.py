"""Analyse many recordings: models loaded once, decoding overlapped with transcription, and
optionally several worker processes (`--jobs`) on machines with more cores.

Results come back in input order, one `FileResult` per path, failures included, so a class of
a hundred recordings is reported in full even when a few files are damaged.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path

from .analyze import AnalyzeOptions, Analyzer
from .audio import Audio, load_audio
from .errors import ModelError, SpeechcoachError
from .result import AnalysisResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileResult:
    path: Path
    result: AnalysisResult | None = None
    error: str | None = None  # one line for the user
    exception: BaseException | None = None  # kept in-process only, for --debug

    @property
    def ok(self) -> bool:
        return self.result is not None


def analyze_files(paths: list[Path], analyzer: Analyzer, jobs: int = 1) -> Iterator[FileResult]:
    """Yield one FileResult per path, in order."""
    if jobs > 1 and len(paths) > 1:
        yield from _parallel(paths, analyzer.options, jobs)
    else:
        yield from _sequential(paths, analyzer)


def _sequential(paths: list[Path], analyzer: Analyzer) -> Iterator[FileResult]:
    # Decode the next file in a thread while this one is transcribed: CTranslate2 releases
    # the GIL, and decoding a 3-minute m4a is ~0.1-0.2 s we need not wait for.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="decode") as pool:
        pending: Future = pool.submit(_timed_load, paths[0]) if paths else None
        for i, path in enumerate(paths):
            future, pending = (
                pending,
                (pool.submit(_timed_load, paths[i + 1]) if i + 1 < len(paths) else None),
            )
            yield _analyze_decoded(path, future, analyzer)


def _timed_load(path: Path) -> tuple[Audio, float]:
    started = time.perf_counter()
    audio = load_audio(path)
    return audio, time.perf_counter() - started


def _analyze_decoded(path: Path, future: Future, analyzer: Analyzer) -> FileResult:
    try:
        audio, decode_s = future.result()
        analysis = analyzer.analyze_audio(audio, decode_s=decode_s)
        return FileResult(path, result=analysis)
    except (KeyboardInterrupt, ModelError):
        raise  # a model that cannot load fails every file alike: stop the batch, say it once
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        return FileResult(path, error=_message(path, exc), exception=exc)


def _message(path: Path, exc: BaseException) -> str:
    if isinstance(exc, SpeechcoachError):
        return str(exc)
    log.debug("unexpected error on %s", path, exc_info=exc)
    return (
        f"{path}: unexpected error ({type(exc).__name__}: {exc}); rerun with --debug for "
        "details and report it"
    )


# ------------------------------------------------------------------ several processes

_worker: Analyzer | None = None


def _init_worker(options: AnalyzeOptions) -> None:
    global _worker
    _worker = Analyzer(options)


def _work(path: Path) -> FileResult:
    try:
        return FileResult(path, result=_worker.analyze_file(path))  # frozen: pickles whole
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - reported per file, like the sequential path
        return FileResult(path, error=_message(path, exc))


def _parallel(paths: list[Path], options: AnalyzeOptions, jobs: int) -> Iterator[FileResult]:
    """Results in input order from `jobs` worker processes, surviving a worker that dies.

    A worker killed by a native crash or the OOM killer breaks the whole pool, and every file
    still queued would fail with it. Instead the pool is restarted, the files that were in
    flight are retried one at a time (so the one that kills a worker is known), and only a file
    that kills a worker a second time gets an error, without a third try."""
    # Split the cores between workers: N processes each using all cores would thrash.
    threads = max(1, (os.cpu_count() or 1) // jobs)
    options = replace(options, transcribe=replace(options.transcribe, cpu_threads=threads))
    log.info("analysing with %d processes x %d threads", jobs, threads)
    runner = _Pool(options, jobs)
    try:
        yield from runner.results(paths)
    finally:
        runner.close()


class _Pool:
    """A ProcessPoolExecutor that is replaced when one of its workers dies."""

    def __init__(self, options: AnalyzeOptions, jobs: int):
        self.options, self.jobs = options, jobs
        self.pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self.pool is None:
            # "spawn", not fork: forking a process whose CTranslate2/OpenMP threads are running
            # (a model already loaded by a previous batch in this process) can deadlock children.
            self.pool = ProcessPoolExecutor(
                max_workers=self.jobs,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self.options,),
            )
        return self.pool

    def _restart(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)  # reaps the dead pool's processes
            self.pool = None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def results(self, paths: list[Path]) -> Iterator[FileResult]:
        done: dict[int, FileResult] = {}
        queue = list(range(len(paths)))[::-1]  # pop() takes the next in input order
        suspects: list[int] = []  # in flight when a worker died: each retried alone
        running: dict[Future, int] = {}
        emitted = 0
        while emitted < len(paths):
            if suspects:
                index = suspects.pop(0)
                done[index] = self._alone(paths[index])
            else:
                while queue and len(running) < self.jobs:
                    index = queue.pop()
                    running[self._executor().submit(_work, paths[index])] = index
                if running:
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    broken = False
                    for future in finished:
                        try:
                            result = future.result()
                        except BrokenProcessPool:
                            broken = True  # stays in `running`: it is one of the suspects
                        else:
                            done[running.pop(future)] = result
                    if broken:
                        suspects = sorted(running.values())
                        running.clear()
                        self._restart()
                        log.warning(
                            "a worker process died; restarting the workers and retrying %d "
                            "file(s) one at a time: %s",
                            len(suspects),
                            ", ".join(str(paths[i]) for i in suspects),
                        )
            while emitted in done:
                yield done.pop(emitted)
                emitted += 1

    def _alone(self, path: Path) -> FileResult:
        """One file with nothing else in flight: if a worker dies now, this file killed it."""
        future = self._executor().submit(_work, path)
        try:
            return future.result()
        except BrokenProcessPool:
            self._restart()
            log.warning("%s killed a worker process a second time; not retried", path)
            return FileResult(
                path,
                error=(
                    f"{path}: the worker process analysing it died twice (a crash in the decoder "
                    "or the model, or out of memory); it was not retried again"
                ),
            )
