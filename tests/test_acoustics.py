"""acoustics.py computes librosa's yin, mel spectrogram, power_to_db and frame RMS without
importing librosa: the values must be librosa's own, bit for bit (the delivery's pitch and the
held-voice fillers must not change because the import went away)."""

from __future__ import annotations

import librosa  # the reference: a dependency of speechcoach, no longer imported by its analysis
import numpy as np
import pytest
from conftest import DATA

from speechcoach import acoustics
from speechcoach.audio import load_audio
from speechcoach.config import SAMPLE_RATE

CLIP_S = 40  # seconds of each clip: enough voiced and silent frames, cheap to compare
HOP, FRAME = 512, 1024  # the delivery's pitch and spectral frames


@pytest.fixture(scope="module", params=["long_en_180s.opus", "real/mfa_uhum.flac"])
def samples(request) -> np.ndarray:
    """A synthetic intro and a real disfluent speaker (held fillers: the hesitation detector's
    case)."""
    return load_audio(DATA / request.param).samples[: CLIP_S * SAMPLE_RATE]


@pytest.mark.parametrize("center", [True, False])
def test_yin_is_librosas(samples, center):
    ours = acoustics.yin(
        samples, fmin=65.0, fmax=400.0, sr=SAMPLE_RATE, frame_length=FRAME, hop=HOP, center=center
    )
    theirs = librosa.yin(
        samples,
        fmin=65.0,
        fmax=400.0,
        sr=SAMPLE_RATE,
        frame_length=FRAME,
        hop_length=HOP,
        center=center,
    )
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("center", [True, False])
def test_mel_power_db_and_rms_are_librosas(samples, center):
    power = acoustics.melspectrogram(samples, sr=SAMPLE_RATE, n_fft=FRAME, hop=HOP, center=center)
    reference = librosa.feature.melspectrogram(
        y=samples, sr=SAMPLE_RATE, n_fft=FRAME, hop_length=HOP, center=center
    )
    np.testing.assert_array_equal(power, reference)
    for top_db in (None, 80.0):
        np.testing.assert_array_equal(
            acoustics.power_to_db(power, top_db=top_db),
            librosa.power_to_db(reference, top_db=top_db),
        )
    np.testing.assert_array_equal(
        acoustics.rms(samples, frame_length=FRAME, hop=HOP, center=center),
        librosa.feature.rms(y=samples, frame_length=FRAME, hop_length=HOP, center=center)[0],
    )
