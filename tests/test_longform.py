"""Issue 12 item 28: a long recording is transcribed in windows, so no engine computes the
features of the whole file; a recording under the threshold goes to the engine whole, as before.

The memory test measures the peak resident memory (not a time) of a real `speechcoach analyze`
of a long file against that of the 3-minute clip, in the same environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import DATA

from speechcoach import longform
from speechcoach.audio import load_audio
from speechcoach.config import SAMPLE_RATE
from speechcoach.transcribe import ModelPool, TranscribeOptions
from speechcoach.wer import word_error_rate

REPO = Path(__file__).resolve().parents[1]
MODEL = "tiny.en"


class Spy:
    """A real engine that notes the length of every recording it is given."""

    def __init__(self, engine):
        self.engine = engine
        self.engine_name = engine.engine_name
        self.model_name = engine.model_name
        self.english_only = engine.english_only
        self.given: list[np.ndarray] = []

    def transcribe(self, samples, language, initial_prompt=None, on_decoding=None):
        self.given.append(samples)
        return self.engine.transcribe(
            samples, language, initial_prompt=initial_prompt, on_decoding=on_decoding
        )

    def detect_language(self, samples):
        return self.engine.detect_language(samples)


@pytest.fixture(scope="module")
def pool():
    return ModelPool(TranscribeOptions(model=MODEL, language="en"))


@pytest.fixture(scope="module")
def clip():
    return load_audio(DATA / "long_en_180s.opus").samples


@pytest.mark.slow
def test_a_short_recording_goes_to_the_engine_whole_and_unchanged(pool):
    samples = load_audio(DATA / "known_en.wav").samples
    spy = Spy(pool.get(MODEL))
    pool._engines[(pool.options.engine, MODEL)] = spy
    signals = []
    try:
        through_pool = pool.transcribe(samples, on_decoding=lambda: signals.append(1))
    finally:
        pool._engines[(pool.options.engine, MODEL)] = spy.engine
    assert len(spy.given) == 1 and spy.given[0] is samples
    assert signals == [1]  # the analyzer's audio measures start beside the decoding
    plain = spy.engine.transcribe(samples, "en")
    assert through_pool.segments == plain.segments
    assert through_pool.language == plain.language


@pytest.mark.slow
def test_a_long_recording_is_transcribed_in_windows_with_the_same_words(pool, clip):
    """Two copies of the 3-minute clip (about 6 minutes), with the threshold lowered: each
    window is at most `window_s`, the words are those of the whole-file transcription, and the
    timestamps run on across the cut."""
    samples = np.concatenate([clip, clip])
    duration = len(samples) / SAMPLE_RATE
    spy = Spy(pool.get(MODEL))
    window_s = 200.0
    signals = []
    windowed = longform.transcribe(
        spy,
        samples,
        "en",
        above_s=window_s,
        window_s=window_s,
        on_decoding=lambda: signals.append(1),
    )
    assert len(spy.given) == 2
    assert signals == []  # nothing beside the windows: it would add to their memory peak
    assert all(len(part) <= window_s * SAMPLE_RATE for part in spy.given)
    assert sum(len(part) for part in spy.given) == len(samples)
    cut = len(spy.given[0]) / SAMPLE_RATE

    plain = spy.engine.transcribe(samples, "en")
    assert word_error_rate(plain.text, windowed.text) < 0.05, (plain.text, windowed.text)

    words = windowed.words
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    assert all(0 <= w.start <= w.end <= duration for w in words)
    assert [s.start for s in windowed.segments] == sorted(s.start for s in windowed.segments)
    # The second window's words are on the recording's clock, not restarted at 0.
    after = [w for w in words if w.start >= cut]
    assert len(after) > 0.4 * len(words)
    before = [w for w in words if w.end <= cut]
    gap = after[0].start - before[-1].end
    assert 0 <= gap < 5.0, (before[-1], after[0], cut)
    assert words[-1].end > duration - 10.0
    # Each half matches the same half of the whole-file transcription, in time as well.
    plain_after = [w for w in plain.words if w.start >= cut]
    assert abs(len(plain_after) - len(after)) <= 0.05 * len(plain_after)
    assert abs(plain_after[len(plain_after) // 2].start - after[len(after) // 2].start) < 2.0


PEAK = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _peak_mb(path: Path) -> float:
    """Peak RSS (MB) of one `speechcoach analyze` in a fresh process (its only child)."""
    command = [sys.executable, "-m", "speechcoach", "analyze", str(path), "--no-save", "--json"]
    command += ["--language", "en", "--model", MODEL]
    done = subprocess.run(
        [sys.executable, "-c", PEAK, *command],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"},
        timeout=1800,
    )
    code, kb = done.stdout.split()
    assert code == "0", done.stderr
    return int(kb) / 1024


LONG_COPIES = 4  # 12 minutes of speech
# Above the 3-minute figure, a windowed analysis costs only the samples themselves (3.8 MB per
# minute) and the longer transcript; whole-file features cost ~60 MB more per minute.
MAX_EXTRA_MB = 200


@pytest.mark.slow
def test_a_long_recording_peaks_near_the_three_minute_figure(tmp_path, clip):
    long = tmp_path / "long.flac"
    sf.write(long, np.tile(clip, LONG_COPIES), SAMPLE_RATE)
    short = tmp_path / "short.flac"
    sf.write(short, clip, SAMPLE_RATE)
    short_mb = _peak_mb(short)
    long_mb = _peak_mb(long)
    print(json.dumps({"short_mb": short_mb, "long_mb": long_mb}))
    assert long_mb < short_mb + MAX_EXTRA_MB, (short_mb, long_mb)


def _whole_sum_rms(samples, frame, hop):
    """frame_rms as it was: one running sum over the whole padded file (the reference)."""
    padded = np.pad(samples.astype(np.float64), frame // 2)
    energy = np.concatenate(([0.0], np.cumsum(padded * padded)))
    starts = np.arange(0, len(samples) + 1, hop)
    ends = np.minimum(starts + frame, len(padded))
    return np.sqrt(np.maximum(energy[ends] - energy[starts], 0.0) / frame).astype(np.float32)


def test_frame_rms_in_blocks_is_byte_identical_and_holds_no_copy_of_the_file(clip):
    import tracemalloc

    from speechcoach.delivery import RMS_BLOCK, frame_rms

    frame, hop = 512, 160
    for samples in (clip[:5], clip[: RMS_BLOCK + 7], np.tile(clip, 2)):  # across block edges
        assert (
            frame_rms(samples, frame, hop).tobytes()
            == _whole_sum_rms(samples, frame, hop).tobytes()
        )
    long = np.tile(clip, 10)  # 30 minutes
    tracemalloc.start()
    try:
        frame_rms(long, frame, hop)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The whole running sum held three float64 copies (6x the float32 samples).
    assert peak < 0.5 * long.nbytes, (peak, long.nbytes)
