"""`speechcoach record` and `devices`, end to end on a real PortAudio stream.

The microphone is the monitor of a null sink in a private PulseAudio daemon (tests/pulse.py);
a committed clip is played into it while the real CLI records in a subprocess. The daemon,
its helpers and the CLI are children of the test, and teardown ends only those.
"""

from __future__ import annotations

import ctypes.util
import json
import os
import queue
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from pulse import MISSING_HINT, PrivatePulse, dead_pulse_env, missing_tools

from speechcoach.record import (
    EVENT_OVERTIME,
    EVENT_SILENT,
    EVENT_SOUND,
    EVENT_TARGET,
    FULL_SCALE,
    _Levels,
)

ROOT = Path(__file__).resolve().parent.parent
RATE = 16_000
CLIP = "tests/data/known_en.wav"
LEAD_IN_S = 1.0  # silence played before the clip, so the clip's first word is always captured
MIN_CORRELATION = 0.99  # at 16 kHz PulseAudio passes samples through untouched (1.0 observed)
LENGTH_TOLERANCE_S = 0.5
START_TIMEOUT_S = 60.0  # the CLI imports numpy & co. on a machine shared by parallel jobs
RUN_TIMEOUT_S = 300.0  # includes loading Whisper tiny.en and analysing
WAV_HEADER_BYTES = 44  # libsndfile's canonical PCM WAV header
FULL_DISK_BYTES = 64 * 1024  # about 2 s of 16-bit 16 kHz mono


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def portaudio() -> None:
    """CI installs libportaudio2: its absence is a broken setup, not a reason to skip."""
    if ctypes.util.find_library("portaudio") is None:
        pytest.fail(f"libportaudio2 is not installed: {MISSING_HINT}")


@pytest.fixture
def pulse(portaudio):
    """A private PulseAudio daemon with a virtual microphone, ended at teardown."""
    missing = missing_tools()
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed: {MISSING_HINT}")
    # Short path: a unix socket path must stay under 108 bytes, pytest's tmp_path may not.
    root = Path(tempfile.mkdtemp(prefix="sc-pulse-"))
    daemon = PrivatePulse(root)
    try:
        daemon.start()
        yield daemon
    finally:
        daemon.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def known_en(clips) -> dict:
    entry = next((c for c in clips["clips"] if c["file"] == CLIP), None)
    assert entry is not None, (
        f"{CLIP} missing from tests/data/clips.json: run scripts/make_clips.py"
    )
    samples, rate = sf.read(ROOT / CLIP, dtype="int16")
    assert rate == RATE and samples.ndim == 1, f"{CLIP} must be 16 kHz mono"
    return {**entry, "samples": samples}


@pytest.fixture
def played_clip(known_en, tmp_path) -> Path:
    """The clip with LEAD_IN_S of silence before it, as a file paplay can play."""
    path = tmp_path / "played.wav"
    lead_in = np.zeros(int(LEAD_IN_S * RATE), dtype=np.int16)
    sf.write(path, np.concatenate([lead_in, known_en["samples"]]), RATE, subtype="PCM_16")
    return path


# -- the CLI as a subprocess --------------------------------------------------------------------


class Cli:
    """`python -m speechcoach ...` with stdout/stderr read line by line as they come."""

    def __init__(self, args: list[str], env: dict[str, str], preexec_fn=None):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "speechcoach", *args],
            env=env,
            cwd=ROOT,
            text=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=preexec_fn,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._readers = [
            threading.Thread(
                target=self._read, args=(self.proc.stdout, self.stdout, None), daemon=True
            ),
            threading.Thread(
                target=self._read, args=(self.proc.stderr, self.stderr, self._lines), daemon=True
            ),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(pipe, into: list[str], lines: queue.Queue | None) -> None:
        for line in pipe:
            into.append(line)
            if lines is not None:
                lines.put(line)

    def wait_for(self, prefix: str, timeout: float = START_TIMEOUT_S) -> str:
        """Block until stderr prints a line starting with `prefix`; return it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None and self._lines.empty():
                    self.close()
                    pytest.fail(
                        f"exited {self.proc.returncode} before {prefix!r}; stderr:\n{self.err}"
                    )
                continue
            if line.startswith(prefix):
                return line
        self.close()
        pytest.fail(f"no {prefix!r} line within {timeout:.0f} s; stderr:\n{self.err}")

    def send(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def finish(self, timeout: float = RUN_TIMEOUT_S) -> int:
        try:
            self.proc.wait(timeout=timeout)
        finally:
            self.close()
        return self.proc.returncode

    def close(self) -> None:
        """Kill the CLI if it still runs, collect its last output, close the pipes."""
        self.kill()
        for reader in self._readers:
            reader.join(timeout=5)
        self.proc.stdout.close()
        self.proc.stderr.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    @property
    def out(self) -> str:
        return "".join(self.stdout)

    @property
    def err(self) -> str:
        return "".join(self.stderr)


def record_args(out: Path, *extra: str) -> list[str]:
    return ["record", "--no-countdown", "--out", str(out), "--no-save", "--language", "en", *extra]


@pytest.fixture
def cli_runs():
    """Every CLI started by a test; any still running at teardown is killed (only those)."""
    runs: list[Cli] = []
    yield runs
    for run in runs:
        run.close()


def start(cli_runs, args, env, preexec_fn=None) -> Cli:
    run = Cli(args, env, preexec_fn)
    cli_runs.append(run)
    return run


# -- checks on the saved file ---------------------------------------------------------------------


def read_wav(path: Path) -> np.ndarray:
    """Read with Python's `wave`, the strictest reader: it trusts the header's sizes."""
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        frames = wav.getnframes()
        data = np.frombuffer(wav.readframes(frames), dtype="<i2")
    assert len(data) == frames
    # The header counts every sample in the file: nothing written is left outside it.
    assert path.stat().st_size == WAV_HEADER_BYTES + 2 * frames
    return data


def match_clip(recorded: np.ndarray, clip: np.ndarray) -> tuple[float, float, int]:
    """Where the clip (or its first part, for a cut recording) starts in the recording.

    Returns (correlation over the overlap, start of the clip in the recording in s, overlap
    samples).
    """
    rec = recorded.astype(np.float64) / FULL_SCALE
    ref = clip.astype(np.float64) / FULL_SCALE
    # Align on a loud 1 s stretch of the clip near its start, then compare the whole overlap.
    probe_at = int(np.argmax(np.abs(ref[: min(len(ref), 3 * RATE)]))) // RATE * RATE
    probe = ref[probe_at : probe_at + RATE]
    scores = np.correlate(rec, probe, "valid")
    offset = int(np.argmax(scores)) - probe_at
    start_rec, start_ref = max(offset, 0), max(-offset, 0)
    overlap = min(len(rec) - start_rec, len(ref) - start_ref)
    assert overlap > RATE, f"the clip is not in the recording (overlap {overlap} samples)"
    a, b = rec[start_rec : start_rec + overlap], ref[start_ref : start_ref + overlap]
    return float(np.corrcoef(a, b)[0, 1]), offset / RATE, overlap


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def one_error_line(stderr: str, expected: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert "Expression '" not in stderr, stderr  # PortAudio's C-level noise
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    assert expected in errors[0], stderr


# -- the recording loop's logic, on synthetic blocks (no audio stack needed) ----------------------


def blocks(seconds: float, amplitude: int, block_s: float = 0.1) -> list[np.ndarray]:
    n = int(round(seconds / block_s))
    rng = np.random.default_rng(0)
    return [
        (rng.standard_normal((int(RATE * block_s), 1)) * amplitude).astype(np.int16)
        for _ in range(n)
    ]


def feed(levels: _Levels, chunks: list[np.ndarray], frames: int = 0):
    statuses = []
    for block in chunks:
        statuses.append(levels.update(block, frames))
        frames += len(block)
    return statuses, frames


def test_cues_fire_once_at_target_and_thirty_seconds_later():
    levels = _Levels(RATE, target_s=2.0, silence_warn_s=60.0)
    statuses, _ = feed(levels, blocks(33.0, 3000))
    fired = [(round(s.elapsed_s, 1), e) for s in statuses for e in s.events]
    assert fired == [(2.0, EVENT_TARGET), (32.0, EVENT_OVERTIME)]
    assert -40 < statuses[-1].level_dbfs < -10  # noise at ~3000/32768 RMS is about -21 dBFS


def test_silence_warns_once_then_says_when_sound_is_back():
    levels = _Levels(RATE, target_s=180.0, silence_warn_s=5.0)
    statuses, frames = feed(levels, blocks(1.0, 3000) + blocks(6.0, 0))
    silent = [s for s in statuses if EVENT_SILENT in s.events]
    assert len(silent) == 1 and silent[0].silent_for_s == pytest.approx(5.0)
    assert statuses[-1].level_dbfs == -120.0 and statuses[-1].silent_for_s == pytest.approx(6.0)
    back, _ = feed(levels, blocks(0.5, 3000), frames)
    assert [e for s in back for e in s.events] == [EVENT_SOUND]
    assert back[-1].silent_for_s == 0


# -- end to end through PulseAudio ----------------------------------------------------------------


@pytest.mark.mic
@pytest.mark.slow
def test_record_saves_what_was_said_and_analyses_it(
    pulse, tmp_path, known_en, played_clip, cli_runs
):
    out = tmp_path / "take.wav"
    clip_s = len(known_en["samples"]) / RATE
    max_s = round(LEAD_IN_S + clip_s + 1.5, 1)
    run = start(
        cli_runs,
        record_args(out, "--json", "--max-duration", f"{max_s:.1f}", "--target", "10s"),
        pulse.env,
    )
    started = run.wait_for("Recording to")
    assert str(out) in started  # the path is printed at the start...
    pulse.play(played_clip)
    assert run.finish() == 0, run.err
    assert f"Saved {max_s:.1f} s to {out}" in run.err  # ...and at the end
    assert "target reached" in run.err  # the cue at --target 10s (the shortest target allowed)
    recorded = read_wav(out)
    assert len(recorded) == int(round(max_s * RATE))  # --max-duration is exact
    correlation, offset_s, overlap = match_clip(recorded, known_en["samples"])
    assert correlation >= MIN_CORRELATION
    assert overlap == len(known_en["samples"])  # the whole clip, not a part
    result = json.loads(run.out.strip().splitlines()[-1])
    assert result["file"] == str(out)
    expected = words(known_en["text"])
    heard = words(result["transcript"]["text"])
    assert len(expected & heard) >= 0.7 * len(expected), (
        known_en["text"],
        result["transcript"]["text"],
    )
    # The same audio from a file gives the same parts and pitfalls as through the microphone
    # (decoding is deterministic: temperature 0, no sampling fallback).
    from_file = subprocess.run(
        [sys.executable, "-m", "speechcoach", "analyze", "--json", "--no-save", "--target", "10s"]
        + [str(played_clip)],
        capture_output=True,
        text=True,
        env=pulse.env,
        timeout=600,
    )
    assert from_file.returncode == 0, from_file.stderr
    filed = json.loads(from_file.stdout.strip().splitlines()[-1])
    assert {c: v["covered"] for c, v in filed["components"].items()} == {
        c: v["covered"] for c, v in result["components"].items()
    }
    assert [p["id"] for p in filed["pitfalls"]] == [p["id"] for p in result["pitfalls"]]


@pytest.mark.mic
@pytest.mark.slow
def test_ctrl_c_stops_recording_keeps_a_valid_file_then_analyses(
    pulse, tmp_path, known_en, played_clip, cli_runs
):
    out = tmp_path / "cut.wav"
    run = start(cli_runs, record_args(out, "--json"), pulse.env)
    run.wait_for("Recording to")
    began = time.monotonic()
    pulse.play(played_clip)
    time.sleep(5.0)
    run.send(signal.SIGINT)
    elapsed = time.monotonic() - began
    assert run.finish() == 0, run.err  # stopped cleanly, and the 5 s were analysed
    recorded = read_wav(out)
    assert abs(len(recorded) / RATE - elapsed) <= LENGTH_TOLERANCE_S, (
        len(recorded) / RATE,
        elapsed,
    )
    correlation, _, _ = match_clip(recorded, known_en["samples"])
    assert correlation >= MIN_CORRELATION
    assert json.loads(run.out.strip().splitlines()[-1])["file"] == str(out)


@pytest.mark.mic
@pytest.mark.slow
def test_second_ctrl_c_aborts_the_analysis_and_says_how_to_rerun(
    pulse, tmp_path, played_clip, cli_runs
):
    out = tmp_path / "twice.wav"
    run = start(cli_runs, record_args(out), pulse.env)
    run.wait_for("Recording to")
    pulse.play(played_clip)
    time.sleep(4.0)
    run.send(signal.SIGINT)
    run.wait_for("Saved ")
    run.send(signal.SIGINT)
    assert run.finish() == 130, run.err
    assert "Traceback" not in run.err
    assert f"analyse it again with: speechcoach analyze {out}" in run.err
    assert "reported above" not in run.err  # issue 12 item 27: nothing was reported
    assert len(read_wav(out)) > 3 * RATE


@pytest.mark.mic
@pytest.mark.slow
def test_second_ctrl_c_during_the_analysis_says_nothing_was_analysed(
    pulse, tmp_path, played_clip, cli_runs
):
    # Issue 12 item 27: it used to say "the files analysed so far are reported above".
    out = tmp_path / "twice.wav"
    run = start(cli_runs, record_args(out), pulse.env)
    run.wait_for("Recording to")
    pulse.play(played_clip)
    time.sleep(4.0)
    run.send(signal.SIGINT)
    run.wait_for("Saved ")
    time.sleep(1.0)  # the analysis has begun (loading the model, transcribing)
    run.send(signal.SIGINT)
    assert run.finish() == 130, run.err
    assert "Traceback" not in run.err
    assert "interrupted: nothing was analysed" in run.err
    assert "reported above" not in run.err
    assert f"analyse it again with: speechcoach analyze {out}" in run.err
    assert len(read_wav(out)) > 3 * RATE


@pytest.mark.mic
def test_sigkill_mid_recording_leaves_a_readable_file(
    pulse, tmp_path, known_en, played_clip, cli_runs
):
    out = tmp_path / "killed.wav"
    run = start(cli_runs, record_args(out), pulse.env)
    run.wait_for("Recording to")
    began = time.monotonic()
    pulse.play(played_clip)
    time.sleep(3.0)
    run.send(signal.SIGKILL)
    elapsed = time.monotonic() - began
    assert run.finish() == -signal.SIGKILL
    recorded = read_wav(out)  # the header was kept current: even `wave` reads it
    assert abs(len(recorded) / RATE - elapsed) <= LENGTH_TOLERANCE_S, (
        len(recorded) / RATE,
        elapsed,
    )
    correlation, _, _ = match_clip(recorded, known_en["samples"])
    assert correlation >= MIN_CORRELATION


@pytest.mark.mic
def test_devices_lists_inputs_and_record_picks_one_by_name_or_number(pulse, tmp_path, cli_runs):
    listing = start(cli_runs, ["devices"], pulse.env)
    assert listing.finish(60) == 0, listing.err
    rows = {
        m.group(2): int(m.group(1)) for m in re.finditer(r"^[ *]\s+(\d+)  (\S+)", listing.out, re.M)
    }
    assert {"pulse", "default"} <= set(rows), listing.out
    for spec, label in (
        ("pulse", f"#{rows['pulse']} pulse"),
        (str(rows["default"]), f"#{rows['default']} default"),
    ):
        out = tmp_path / f"pick-{spec}.wav"
        run = start(cli_runs, record_args(out, "--device", spec, "--max-duration", "1"), pulse.env)
        assert label in run.wait_for("Recording to")
        assert run.finish(60) == 1
        # Too short to analyse: one clear line, and the file is kept.
        one_error_line(run.err, "only 1.0 s recorded, too short to analyse")
        assert len(read_wav(out)) == RATE
    nothing = start(
        cli_runs, record_args(tmp_path / "none.wav", "--device", "no such mic"), pulse.env
    )
    assert nothing.finish(60) == 1
    one_error_line(nothing.err, "no input device matches 'no such mic'; choose one of:")


@pytest.mark.mic
def test_default_path_is_timestamped_under_home_recordings(pulse, home, cli_runs):
    run = start(
        cli_runs, ["record", "--no-countdown", "--max-duration", "1", "--no-save"], pulse.env
    )
    started = run.wait_for("Recording to")
    assert run.finish(60) == 1  # 1 s: too short to analyse, but recorded and kept
    saved = list((home / "recordings").glob("intro-*.wav"))
    assert len(saved) == 1 and re.fullmatch(r"intro-\d{8}-\d{6}\.wav", saved[0].name)
    assert str(saved[0]) in started and f"the file is kept in {saved[0]}" in run.err
    assert len(read_wav(saved[0])) == RATE


@pytest.mark.mic
def test_an_existing_file_is_never_overwritten(pulse, tmp_path, cli_runs):
    out = tmp_path / "precious.wav"
    out.write_bytes(b"keep me")
    run = start(cli_runs, record_args(out, "--max-duration", "1"), pulse.env)
    assert run.finish(60) == 1
    one_error_line(run.err, f"{out} already exists")
    assert out.read_bytes() == b"keep me"


@pytest.mark.mic
def test_silent_microphone_is_reported_while_recording(pulse, tmp_path, cli_runs):
    out = tmp_path / "muted.wav"
    run = start(cli_runs, record_args(out, "--max-duration", "6.5"), pulse.env)
    run.wait_for("Recording to")
    warning = run.wait_for("warning: no sound from", timeout=30)
    assert "is the microphone muted" in warning
    assert run.finish() == 1  # then the analysis refuses a silent file...
    assert "Traceback" not in run.err
    # ...says to record again, and only that (issue 12 item 27: analysing the same silent file
    # again would give the same answer), and the file stays.
    assert "record again" in run.err
    assert "analyse it again" not in run.err
    assert f"the recording is kept in {out}" in run.err
    assert len(read_wav(out)) == int(6.5 * RATE)


@pytest.mark.mic
def test_device_that_disappears_mid_recording(pulse, tmp_path, played_clip, cli_runs):
    out = tmp_path / "lost.wav"
    run = start(cli_runs, record_args(out), pulse.env)
    run.wait_for("Recording to")
    pulse.play(played_clip)
    time.sleep(2.0)
    pulse.kill_daemon()  # the sound server dies: the device is gone
    assert run.finish(60) == 1
    one_error_line(run.err, "stopped sending audio after 0:0")
    assert f"recorded until then are kept in {out}" in run.err
    assert len(read_wav(out)) > RATE


def _small_disk(tmp_path: Path):
    """A folder on a 64 KiB tmpfs if we may mount (root), else a 64 KiB file-size limit.

    Returns (folder, preexec_fn for the CLI, cleanup).
    """
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={FULL_DISK_BYTES}", "tmpfs", str(folder)],
        capture_output=True,
    )
    if mounted.returncode == 0:

        def unmount():
            if subprocess.run(["umount", str(folder)], capture_output=True).returncode:
                subprocess.run(["umount", "-l", str(folder)], capture_output=True)

        return folder, None, unmount

    def limit_file_size():  # same failure for the recorder: write() fails, the file stops growing
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (FULL_DISK_BYTES, FULL_DISK_BYTES))

    return folder, limit_file_size, lambda: None


@pytest.mark.mic
def test_full_disk_stops_with_a_clear_error_and_keeps_the_part(
    pulse, tmp_path, played_clip, cli_runs
):
    folder, preexec_fn, cleanup = _small_disk(tmp_path)
    out = folder / "full.wav"
    try:
        pulse.play(played_clip)
        run = start(cli_runs, record_args(out, "--max-duration", "8"), pulse.env, preexec_fn)
        assert run.finish(120) == 1
        one_error_line(run.err, f"cannot write to {out} after 0:0")
        assert re.search(r"No space left on device|File too large", run.err), run.err
        assert "recorded until then are kept" in run.err
        recorded = read_wav(out)
        assert RATE < len(recorded) < FULL_DISK_BYTES // 2
    finally:
        cleanup()


@pytest.mark.mic
def test_no_input_device_gives_one_clear_line(portaudio, tmp_path, cli_runs):
    env = dead_pulse_env(tmp_path / "nothing")  # no sound server, and this machine has no card
    out = tmp_path / "never.wav"
    for args in (record_args(out, "--json"), ["devices"]):
        run = start(cli_runs, args, env)
        assert run.finish(60) == 1
        one_error_line(run.err, "no microphone found: connect one")
    assert not out.exists()
    # --json gives scripts the same one object per file as `analyze --json`; "file" is null, as
    # no recording was created (a script must not go looking for it)
    assert json.loads(cli_runs[0].out) == {
        "file": None,
        "error": cli_runs[0].err.strip()[len("error: ") :],
    }


def _portaudio_path() -> str:
    code = (
        "import sounddevice\nfor l in open('/proc/self/maps'):\n    if 'libportaudio' in l: "
        "print(l.split()[-1]); break"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.mark.mic
def test_missing_portaudio_says_what_to_install_and_analyze_still_starts(portaudio, tmp_path):
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("hiding the PortAudio library needs root (a private mount namespace)")
    library = _portaudio_path()
    assert library, "sounddevice did not load libportaudio"
    script = (
        f"mount --bind /dev/null {library} || exit 99\n"
        f'{sys.executable} -m speechcoach devices; echo "rc=$?" >&2\n'
        f"{sys.executable} -m speechcoach record --no-countdown --out {tmp_path / 'x.wav'}; echo "
        '"rc=$?" >&2\n'
        f'{sys.executable} -m speechcoach analyze {tmp_path / "missing.wav"}; echo "rc=$?" >&2\n'
    )
    done = subprocess.run(
        ["unshare", "--mount", "sh", "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    if done.returncode == 99 or "unshare failed" in done.stderr:
        pytest.skip(f"no private mount namespace here: {done.stderr.strip()}")
    lines = done.stderr.splitlines()
    hint = (
        "error: PortAudio library not found: install it with `sudo apt-get install libportaudio2` "
        "(Debian/Ubuntu), `brew install portaudio` (macOS)"
    )
    assert lines[:4] == [hint, "rc=1", hint, "rc=1"], done.stderr
    # `analyze` never needs PortAudio: it gets as far as the file, whose absence it reports.
    assert "no such file" in done.stderr and "PortAudio" not in "\n".join(lines[4:]), done.stderr
