"""Batches on a real Dask cluster: a `distributed.LocalCluster` of two worker processes, started
here once for the session, driven through the real CLI (`--cluster tcp://...`)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import distributed  # the cluster extra, which .ci/run installs: a missing one fails loudly
import pytest
from click.testing import CliRunner

from speechcoach.cli import main

DATA = Path(__file__).parent / "data"
ALLOWED_FAILURES = 1  # a file that kills 2 workers is given up (default 3: 4 model reloads)
KILLS = ALLOWED_FAILURES + 1


@pytest.mark.parametrize(
    "name", ["known_en.m4a", "known_en.ogg", "truncated.m4a", "corrupt.mp3", "no_audio_track.mp4"]
)
def test_bytes_sent_to_a_worker_decode_as_the_file_does(name):
    """Workers get a recording's bytes, not its path: the same samples, the same message."""
    import numpy as np

    from speechcoach.audio import load_audio, load_audio_bytes
    from speechcoach.errors import AudioError

    path = DATA / name
    try:
        expected = load_audio(path)
    except AudioError as exc:
        with pytest.raises(AudioError) as caught:
            load_audio_bytes(path.read_bytes(), path)
        assert str(caught.value) == str(exc)
    else:
        assert np.array_equal(load_audio_bytes(path.read_bytes(), path).samples, expected.samples)


@pytest.fixture(scope="session")
def cluster():
    import dask

    from speechcoach.cluster import THREAD_VARIABLES

    # The workers get this process's thread settings, neither Dask's OMP_NUM_THREADS=1 nor
    # another value: BLAS and CTranslate2 results move in the last digits with the thread count
    # (a word time by 20 ms, a match confidence by 0.01), and the test compares a worker's JSON
    # with a local run's in this process.
    environ = dask.config.get("distributed.nanny.pre-spawn-environ", {})
    environ = {k: v for k, v in environ.items() if k not in THREAD_VARIABLES}
    same = {k: os.environ[k] for k in THREAD_VARIABLES if k in os.environ}
    settings = {
        "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
        "distributed.nanny.pre-spawn-environ": environ,
    }
    with dask.config.set(settings):
        local = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            env=same,
        )
    yield local
    local.close()


def _class_folder(tmp_path: Path, names: dict[str, str]) -> list[Path]:
    folder = tmp_path / "class"
    folder.mkdir()
    for name, source in names.items():
        shutil.copy(DATA / source, folder / name)
    return sorted(folder.iterdir())


def _analyze(args: list[str]):
    return CliRunner().invoke(main, ["analyze", *args, "--language", "en"])


def _plugins(cluster) -> dict:
    """Per worker: the engines each speechcoach Analyzer holds (none left after a batch)."""

    def engines(dask_worker):
        return {
            name: sorted(map(list, plugin.analyzer.models._engines))
            for name, plugin in dask_worker.plugins.items()
            if name.startswith("speechcoach-analyzer-")
        }

    with distributed.Client(cluster, set_as_default=False) as client:
        return client.run(engines)


@pytest.mark.slow
def test_cluster_batch_keeps_order_reports_a_bad_file_and_matches_local(cluster, tmp_path, home):
    files = _class_folder(
        tmp_path,
        {
            "01 田中.wav": "known_en.wav",
            "02 broken.mp3": "corrupt.mp3",
            "03 佐藤.mp3": "known_en.mp3",
            "04 short.wav": "too_short.wav",
        },
    )
    csv_out, html_out = tmp_path / "class.csv", tmp_path / "class.html"
    seen, stop = [], threading.Event()  # the workers' Analyzers while the batch runs

    def watch():
        while not stop.wait(0.5):
            seen.append(_plugins(cluster))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        result = _analyze(
            [str(files[0].parent), "--json", "--cluster", cluster.scheduler_address]
            + ["--csv", str(csv_out), "--html", str(html_out)]
        )
    finally:
        stop.set()
        watcher.join()
    assert result.exit_code == 1, result.output  # two files failed, the others are reported
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(f) for f in files]
    assert "not a readable audio file" in lines[1]["error"]
    assert "only 1.0 s long" in lines[3]["error"]
    assert [line.get("attempt_id") for line in (lines[0], lines[2])] == [1, 2]  # saved here
    assert "Dask cluster" in result.stderr and "2 worker processes" in result.stderr

    # The same JSON as a local run of the same file (timings apart).
    local = _analyze([str(files[0]), "--json", "--no-save"])
    assert local.exit_code == 0, local.output
    expected = json.loads(local.stdout)
    for d in (expected, lines[0]):
        d.pop("timings"), d.pop("attempt_id", None)
    assert lines[0] == expected

    with csv_out.open(encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    assert [Path(row[0]).name for row in table[1:5]] == [f.name for f in files]
    assert table[-1][0] == "summary: 4 recordings, 2 analysed, 2 failed"
    assert "03 佐藤.mp3" in html_out.read_text(encoding="utf-8")
    # Each worker's one Analyzer held the model it transcribed with (loaded there once, not
    # per file), and no worker keeps it after the batch.
    held = [
        engines
        for snapshot in seen
        for plugins in snapshot.values()
        for engines in plugins.values()
    ]
    from speechcoach.models import default_model

    assert [["faster-whisper", default_model("en")]] in held  # the default English model
    assert all(len(plugins) <= 1 for snapshot in seen for plugins in snapshot.values())
    assert _plugins(cluster) == {w: {} for w in cluster.scheduler_info["workers"]}


@pytest.mark.slow
def test_a_worker_killed_mid_batch_loses_only_its_file(cluster, tmp_path):
    """The worker analysing `victim.wav` is killed each time it takes it up: Dask retries it on
    another worker, then gives it up; every other file is analysed, in order."""
    files = _class_folder(
        tmp_path,
        {
            "1 first.wav": "known_en.wav",
            "2 victim.wav": "known_en.wav",
            "3 last.ogg": "known_en.ogg",
        },
    )
    killed: list[int] = []
    stop = threading.Event()

    def killer():
        scheduler = cluster.scheduler
        while not stop.is_set() and len(killed) < KILLS:
            for ts in list(scheduler.tasks.values()):
                ws = ts.processing_on
                if "victim" in str(ts.key) and ws is not None and ws.pid not in killed:
                    if len(ws.processing) == 1:  # only the victim: no other file is blamed
                        os.kill(ws.pid, signal.SIGKILL)
                        killed.append(ws.pid)
            time.sleep(0.05)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        result = _analyze(
            [str(files[0].parent), "--json", "--no-save", "--cluster", cluster.scheduler_address]
        )
    finally:
        stop.set()
        thread.join()
    assert len(killed) == KILLS, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(f) for f in files]
    assert lines[0]["score"] == lines[2]["score"] > 0
    assert lines[1]["error"].startswith(f"{files[1]}: the worker process analysing it died 2 times")
    assert result.exit_code == 1
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_ctrl_c_cancels_the_batch_and_still_writes_the_summary(cluster, tmp_path, home):
    files = _class_folder(
        tmp_path, {f"{n} intro.wav": "known_en.wav" for n in range(1, 6)}
    )  # 5 files on 2 workers: Ctrl-C comes after the first result, with files still to do
    csv_out = tmp_path / "class.csv"
    process = subprocess.Popen(
        [sys.executable, "-m", "speechcoach", "analyze", str(files[0].parent), "--language", "en"]
        + ["--no-save", "--json", "--cluster", cluster.scheduler_address, "--csv", str(csv_out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    first = process.stdout.readline()  # the first file's result
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert json.loads(first)["file"] == str(files[0])
    assert "interrupted" in err and "Traceback" not in err
    with csv_out.open(encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    errors = [row[-2] for row in table[1:6]]
    assert errors[0] == "" and "not analysed: interrupted" in errors[-1]
    deadline = time.monotonic() + 30
    while cluster.scheduler.tasks and time.monotonic() < deadline:
        time.sleep(0.2)  # the cancelled files leave the scheduler
    assert not cluster.scheduler.tasks


@pytest.mark.parametrize(
    "value, message",
    [
        ("local:0", "N must be a number of worker processes from 1 to 64"),
        ("8786", "give the scheduler's address (tcp://HOST:8786) or local:N"),
    ],
)
def test_a_bad_cluster_address_is_a_usage_error(value, message):
    result = CliRunner().invoke(main, ["analyze", str(DATA / "known_en.wav"), "--cluster", value])
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.slow
def test_an_unreachable_scheduler_is_one_line(tmp_path):
    result = _analyze([str(DATA / "known_en.wav"), "--cluster", "tcp://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.output
    assert "Traceback" not in result.output
