"""Issue 12 item 28: a long recording is decoded into one buffer, not in chunks joined at the
end: decoding a 29-minute file costs its samples about once, not three times over."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
from conftest import DATA

from speechcoach.audio import load_audio
from speechcoach.config import SAMPLE_RATE

REPO = Path(__file__).resolve().parents[1]
MINUTES = 29
# The decoded samples themselves are MINUTES*60*16000*4 bytes (~111 MB); allow 30 % more for the
# decoder's own buffers. Chunks joined at the end (and np.abs for the peak) needed 1.5-3x.
MAX_OVERHEAD = 1.3

PEAK = """
import json, resource, sys
import av, numpy
from speechcoach.audio import load_audio
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
audio = load_audio(sys.argv[1])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"kb": after - before, "samples": len(audio.samples)}))
"""


def test_a_29_minute_recording_is_decoded_within_its_own_size(tmp_path):
    clip = load_audio(DATA / "long_en_180s.opus").samples
    total = MINUTES * 60 * SAMPLE_RATE
    long = np.tile(clip, total // len(clip) + 1)[:total]
    path = tmp_path / "long.flac"
    sf.write(path, long, SAMPLE_RATE)
    del long, clip
    done = subprocess.run(
        [sys.executable, "-c", PEAK, str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout)
    assert measured["samples"] == total
    samples_kb = total * 4 / 1024
    assert measured["kb"] < MAX_OVERHEAD * samples_kb, (measured["kb"], samples_kb)
