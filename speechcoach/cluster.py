"""Batches on a Dask cluster (`pip install 'speechcoach[cluster]'`): `--cluster tcp://HOST:8786`
for the scheduler of an existing cluster whose workers have speechcoach installed, or
`--cluster local:N` for N worker processes on this machine.

- Each worker process holds one `Analyzer` (a worker plugin): its models load on the first
  file and serve every file after, never once per file.
- The client reads each file and sends its bytes, so workers need not share a file system;
  results come back to the client, which prints, saves and summarises them, in input order.
- At most one file per worker process is in flight: a worker that dies holds only the file it
  was analysing. Dask gives that file to another worker; a file that kills
  `distributed.scheduler.allowed-failures` + 1 workers (3 + 1 by default) becomes an error for
  that file alone and the batch goes on.
- A file that fails (unreadable, silent...) is reported exactly as in a local batch; a model
  that cannot load, or a lost scheduler, stops the batch with one message, as a local one does.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from .analyze import AnalyzeOptions, Analyzer
from .audio import load_audio_bytes
from .batch import FileResult, _message
from .errors import ModelError, SpeechcoachError
from .result import AnalysisResult

log = logging.getLogger(__name__)

LOCAL_PREFIX = "local:"
CONNECT_TIMEOUT_S = 20  # to reach a scheduler that is up; a wrong address fails after this
WORKERS_TIMEOUT_S = 120  # for the first worker to join (a local one starts in seconds)
# A recording travels inside its task (so a worker that dies before starting it loses nothing:
# the scheduler still holds it); Dask warns about tasks over 10 MB, which a long WAV is.
LARGE_TASK_BYTES = 2**30
# Files done ahead of a slow one are held (results on the workers, bytes on the scheduler) up to
# this many per worker, so a batch of hundreds never sends everything at once.
LOOKAHEAD = 4
CLOSE_TIMEOUT_S = 10  # to close the client; a lost scheduler is not waited for longer
POLL_S = 0.1
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
)  # how often the client looks for a finished file (an analysis takes seconds)
EXTRA_HINT = "pip install 'speechcoach[cluster]'"


class ClusterError(SpeechcoachError):
    """The Dask cluster could not be started, reached or used."""


@dataclass(frozen=True)
class ClusterSpec:
    """Where to run: `address` of a running scheduler, or `local_workers` processes here."""

    address: str | None = None
    local_workers: int | None = None

    @classmethod
    def parse(cls, value: str) -> ClusterSpec:
        """`tcp://HOST:8786` (also tls://, ws://...) or `local:N`."""
        text = value.strip()
        if text.startswith(LOCAL_PREFIX):
            count = text[len(LOCAL_PREFIX) :]
            if not count.isdigit() or not 1 <= int(count) <= 64:
                raise ClusterError(
                    f"--cluster {value}: N must be a number of worker processes from 1 to 64, "
                    "e.g. local:2"
                )
            return cls(local_workers=int(count))
        if "://" not in text or text.endswith("://"):
            raise ClusterError(
                f"--cluster {value}: give the scheduler's address (tcp://HOST:8786) or local:N"
            )
        return cls(address=text)

    def __str__(self) -> str:
        return self.address or f"{LOCAL_PREFIX}{self.local_workers}"


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:
        raise ClusterError(f"--cluster needs Dask's distributed package: {EXTRA_HINT}") from exc
    return distributed


# ------------------------------------------------------------------ on the workers


def _analyzer_plugin_class():
    from distributed.diagnostics.plugin import WorkerPlugin

    class AnalyzerPlugin(WorkerPlugin):
        """One Analyzer per worker process, made when the worker starts (models load lazily,
        on its first file), kept until it stops."""

        def __init__(self, options: AnalyzeOptions, name: str, threads_here: bool):
            self.options = options
            self.name = name
            self.threads_here = threads_here
            self.analyzer: Analyzer | None = None
            self.lock: threading.Lock | None = None

        def setup(self, worker) -> None:
            options = self.options
            if self.threads_here:  # a remote machine: its own cores decide, as a local run's
                from .transcribe import TranscribeOptions

                threads = TranscribeOptions().cpu_threads
                options = replace(
                    options, transcribe=replace(options.transcribe, cpu_threads=threads)
                )
            self.analyzer = Analyzer(options)
            # A worker started with several threads must not run two analyses on one model.
            self.lock = threading.Lock()

    return AnalyzerPlugin


def analyze_bytes(
    plugin_name: str, name: str, data: bytes
) -> tuple[AnalysisResult | None, str | None]:
    """The task: analyse one recording's bytes with this worker's Analyzer.

    Returns `(result, None)` or `(None, message)` for a file that failed; a ModelError is raised,
    since it fails every file alike and stops the batch.
    """
    from distributed import get_worker

    plugin = get_worker().plugins[plugin_name]
    path = Path(name)
    with plugin.lock:
        try:
            started = time.perf_counter()
            audio = load_audio_bytes(data, path)
            decode_s = time.perf_counter() - started
            # The record itself (frozen dataclasses pickle whole): a JSON round trip would print
            # 95.0 where the analyzer wrote 95.
            return plugin.analyzer.analyze_audio(audio, decode_s=decode_s), None
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - reported per file, like a local batch
            return None, _message(path, exc)


# ------------------------------------------------------------------ on the client


class ClusterBatch:
    """A connected client with the analyzer plugin registered; `analyze` yields FileResults."""

    def __init__(self, client, spec: ClusterSpec, plugin_name: str):
        self.client = client
        self.spec = spec
        self.plugin_name = plugin_name
        self.lost = False  # the scheduler went away: nothing to tidy up on it

    @property
    def workers(self) -> dict[str, int]:
        """Worker address -> threads, as the scheduler sees them now."""
        return self.client.nthreads()

    def describe(self) -> str:
        workers = self.workers
        return (
            f"Dask cluster {self.spec} (dashboard: {self.client.dashboard_link or 'none'}): "
            f"{len(workers)} worker processes"
        )

    def analyze(self, paths: list[Path]) -> Iterator[FileResult]:
        """One FileResult per path, in input order; one file per worker process in flight."""
        batch = uuid.uuid4().hex[:8]
        pending: deque[tuple[Path, object]] = deque()  # (path, Future or FileResult), in order
        todo = deque(enumerate(paths))
        try:
            yield from self._in_order(batch, todo, pending)
        except (OSError, TimeoutError) as exc:  # distributed's CommClosedError is an OSError
            self.lost = True
            raise _lost(self.spec, exc) from exc
        finally:
            futures = [f for _, f in pending if _is_future(f)]
            if futures and not self.lost:  # Ctrl-C, or the batch stopped: leave nothing running
                _quietly(self.client.cancel, futures)

    def _in_order(self, batch: str, todo: deque, pending: deque) -> Iterator[FileResult]:
        while todo or pending:
            running = [f for _, f in pending if _is_future(f) and not f.done()]
            capacity = max(1, len(self.workers))
            while todo and len(running) < capacity and len(pending) < capacity * LOOKAHEAD:
                index, path = todo.popleft()
                item = self._submit(batch, index, path)
                pending.append((path, item))
                if _is_future(item):
                    running.append(item)
            path, item = pending[0]
            if _is_future(item) and not item.done():
                _wait_any(running)  # then refill the workers
                continue
            pending.popleft()
            yield self._result(path, item) if _is_future(item) else item

    def _submit(self, batch: str, index: int, path: Path):
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            from .audio import load_audio  # the same message a local batch gives this file

            try:
                load_audio(path)
            except SpeechcoachError as same:
                return FileResult(path, error=str(same), exception=same)
            return FileResult(path, error=_message(path, exc), exception=exc)
        return self.client.submit(
            analyze_bytes,
            self.plugin_name,
            str(path),
            data,
            key=f"speechcoach-{batch}-{index:05d}-{_key_name(path)}",
            pure=False,
        )

    def _result(self, path: Path, future) -> FileResult:
        from distributed import KilledWorker

        try:
            result, error = future.result()
        except KilledWorker as exc:
            message = (
                f"{path}: the worker process analysing it died {exc.allowed_failures + 1} times "
                "(out of memory? a damaged file?); the other files are not affected; try this one "
                "alone with `speechcoach analyze FILE`"
            )
            return FileResult(path, error=message, exception=exc)
        except SpeechcoachError:
            raise  # a model that cannot load: stop the batch, say it once
        except (OSError, TimeoutError) as exc:
            self.lost = True
            raise _lost(self.spec, exc) from exc
        except Exception as exc:
            if type(exc).__name__ in ("CancelledError", "FutureCancelledError"):
                self.lost = True
                raise ClusterError(
                    f"the Dask cluster at {self.spec} dropped the batch ({exc}); is the scheduler "
                    "still running?"
                ) from exc
            raise
        if error is not None:
            return FileResult(path, error=error)
        return FileResult(path, result=result)


def _lost(spec: ClusterSpec, exc: BaseException) -> ClusterError:
    return ClusterError(
        f"lost the Dask scheduler at {spec} ({type(exc).__name__}); is it still running? "
        "The files not analysed are listed as errors; run them again"
    )


def _wait_any(futures: list) -> None:
    """Until one of `futures` is done. Polled: distributed.wait wants a default client, and a
    sleep is where Ctrl-C lands at once."""
    while not any(f.done() for f in futures):
        time.sleep(POLL_S)


def _is_future(item) -> bool:
    return not isinstance(item, FileResult)


def _key_name(path: Path) -> str:
    """A readable part of a task key (the dashboard shows it): the file name, ASCII only."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in path.name)


@contextmanager
def open_cluster(spec: ClusterSpec, options: AnalyzeOptions) -> Iterator[ClusterBatch]:
    """Connect to (or start) the cluster, register the analyzer plugin, and close it all after."""
    distributed = _import_distributed()
    import dask

    # distributed sets its loggers to INFO when imported. Every failure that matters reaches
    # the user as our own one-line message, so its log (start/stop chatter, the reconnect
    # attempts after a lost scheduler) shows only with -v (warnings) or -vv (everything).
    # The same for the event loop under it: cancelling a batch (Ctrl-C) can leave a callback of
    # tornado or an asyncio task failing on a closed connection as the client closes.
    ours = logging.getLogger("speechcoach").getEffectiveLevel()
    quiet = {logging.DEBUG: logging.DEBUG, logging.INFO: logging.WARNING}
    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(quiet.get(ours, logging.CRITICAL))

    with dask.config.set({"distributed.admin.large-graph-warning-threshold": LARGE_TASK_BYTES}):
        cluster = None
        try:
            if spec.local_workers:
                cluster, options = _local_cluster(distributed, spec.local_workers, options)
                address, threads_here = cluster, False
            else:
                address, threads_here = spec.address, True
            client = _connect(distributed, address, spec)
            try:
                _wait_for_workers(client, spec)
                name = f"speechcoach-analyzer-{uuid.uuid4().hex[:8]}"
                plugin = _analyzer_plugin_class()(options, name, threads_here)
                client.register_plugin(plugin, name=name)
                batch = ClusterBatch(client, spec, name)
                try:
                    yield batch
                finally:  # a shared cluster's workers must not keep each batch's models
                    if not batch.lost:
                        _quietly(client.unregister_worker_plugin, name)
                    else:  # stop its reconnect attempts without their tracebacks: said above
                        logging.disable(logging.CRITICAL)
            finally:
                try:
                    _quietly(client.close, CLOSE_TIMEOUT_S)
                finally:
                    logging.disable(logging.NOTSET)
        finally:
            if cluster is not None:
                _quietly(cluster.close)


def _quietly(close, *args) -> None:
    """Tidy up after a batch without hiding why it ended (Ctrl-C, a lost scheduler...)."""
    try:
        close(*args)
    except Exception as exc:  # noqa: BLE001 - the batch's own outcome matters more
        log.debug("while closing the Dask client: %s", exc)


def _local_cluster(distributed, workers: int, options: AnalyzeOptions):
    # One thread per worker process (one analysis at a time), Whisper's threads split between
    # the processes like --jobs: N processes each on every core would thrash.
    threads = max(1, (os.cpu_count() or 1) // workers)
    options = replace(options, transcribe=replace(options.transcribe, cpu_threads=threads))
    log.info("starting a local Dask cluster: %d processes x %d threads", workers, threads)
    # Dask's nanny starts workers with OMP_NUM_THREADS=1 (and MKL/OpenBLAS alike); a local run
    # has no such setting, and CTranslate2's word timestamps can move by a frame (20 ms) with
    # it. The workers get this process's environment instead, so they give the same JSON.
    import dask

    environ = dask.config.get("distributed.nanny.pre-spawn-environ", {})
    environ = {k: v for k, v in environ.items() if k not in THREAD_VARIABLES}
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
            cluster = _start_local(distributed, workers)
    except Exception as exc:  # noqa: BLE001 - one line, whatever stopped it
        raise ClusterError(f"could not start a local Dask cluster ({exc})") from exc
    return cluster, options


def _start_local(distributed, workers: int):
    return distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # any free port: two batches at once never collide
        silence_logs=logging.ERROR,
    )


def _connect(distributed, address, spec: ClusterSpec):
    try:
        return distributed.Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {spec} ({exc}); start one with `dask scheduler` "
            "and workers with `dask worker ADDRESS --nthreads 1`, or use --cluster local:N"
        ) from exc


def _wait_for_workers(client, spec: ClusterSpec) -> None:
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
    except TimeoutError as exc:
        raise ClusterError(
            f"no worker joined the Dask cluster at {spec} within {WORKERS_TIMEOUT_S} s; start "
            f"some with `dask worker {spec} --nthreads 1` on machines with speechcoach installed"
        ) from exc
