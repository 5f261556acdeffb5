"""Speech activity, pauses, steady filled pauses and spoken numbers on REAL recordings
(tests/data/real/, human speech with reference transcripts; see its README)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from speechcoach import hesitation, vad
from speechcoach.audio import load_audio
from speechcoach.numbers import expand_numbers, spoken_word_count, spoken_words

REAL = Path(__file__).resolve().parent / "data" / "real"
MANIFEST = {c["file"]: c for c in json.loads((REAL / "manifest.json").read_text("utf-8"))["clips"]}
NON_NATIVE = "speechocean762_spk9631.opus"  # 104 s, 19 known joins of 0.6 s


def _with_white_noise(x: np.ndarray, snr_db: float, seed: int = 11) -> np.ndarray:
    """White noise `snr_db` below the clip's active speech level (frames 20 dB over its floor)."""
    frames = x[: len(x) // 160 * 160].reshape(-1, 160).astype(np.float64)
    power = np.mean(frames**2, axis=1)
    db = 10 * np.log10(power + 1e-12)
    active = power[db > np.percentile(db, 10) + 20].mean()
    noise = np.random.default_rng(seed).standard_normal(len(x)) * np.sqrt(
        active / 10 ** (snr_db / 10)
    )
    return np.clip(x + noise, -1, 1).astype(np.float32)


def _joins_found(activity: vad.SpeechActivity, joins: list) -> int:
    gaps = activity.gaps(0.2)
    return sum(
        sum(max(0.0, min(b, g1) - max(a, g0)) for a, b in gaps) >= 0.5 * (g1 - g0)
        for g0, g1 in joins
    )


@pytest.fixture(scope="module")
def non_native():
    return load_audio(REAL / NON_NATIVE).samples


def test_vad_span_matches_the_speech_of_a_real_recording(non_native):
    clip = MANIFEST[NON_NATIVE]
    activity = vad.detect(non_native)
    assert activity.method == vad.SILERO
    assert abs(activity.speech_start - clip["ref_span"][0]) <= 0.3
    assert abs(activity.speech_end - clip["ref_span"][1]) <= 0.3
    assert _joins_found(activity, clip["gaps"]) == len(clip["gaps"])


def test_pauses_still_found_under_a_15_db_noise_floor(non_native):
    clip = MANIFEST[NON_NATIVE]
    noisy = _with_white_noise(non_native, 15.0)
    activity = vad.detect(noisy)
    assert _joins_found(activity, clip["gaps"]) >= 0.7 * len(clip["gaps"])
    assert abs(activity.speech_start - clip["ref_span"][0]) <= 0.3
    # The level rule this replaces counted the whole noisy file as speech: no pause at all.
    fallback = vad.energy_activity(noisy)
    assert fallback.method == vad.ENERGY


def test_fallback_without_the_detector_still_finds_the_span(non_native, monkeypatch):
    monkeypatch.setattr(vad, "speech_probabilities", lambda samples: None)
    activity = vad.detect(non_native)
    clip = MANIFEST[NON_NATIVE]
    assert activity.method == vad.ENERGY
    assert abs(activity.speech_start - clip["ref_span"][0]) <= 0.5
    assert _joins_found(activity, clip["gaps"]) >= 0.9 * len(clip["gaps"])


def test_refine_drops_a_wordless_click_before_the_speech():
    from speechcoach.types import Word

    activity = vad.SpeechActivity(((0.1, 0.3), (1.0, 5.0)), vad.SILERO, 6.0)
    refined = vad.refine(activity, [Word(" hello", 1.1, 1.5), Word(" there", 4.0, 4.8)])
    assert refined.speech_start == 1.0
    kept = vad.refine(activity, [Word(" I", 0.15, 0.25), Word(" am", 1.1, 1.5)])
    assert kept.speech_start == 0.1


def _f0(samples):
    import librosa

    return librosa.yin(
        samples, fmin=65, fmax=400, sr=16000, frame_length=1024, hop_length=hesitation.HOP
    )


def test_steady_filled_pauses_found_in_real_disfluent_speech():
    # mfa_uhum: "montreal forced uh um uh hm hm um forced aligner"; the uh at 3.0 s and the
    # two hm (3.9 s, 5.1 s) are held 0.7-0.8 s; the first uh and um are shorter and less steady.
    x = load_audio(REAL / "mfa_uhum.flac").samples
    found = hesitation.steady_stretches(x, _f0(x))
    starts = [h.start for h in found]
    assert len(found) >= 3
    assert all(1.7 <= s <= 6.0 for s in starts)
    assert all(h.duration >= hesitation.MIN_HESITATION_S for h in found)
    # Nothing Whisper wrote as a real word is claimed: with "montreal forced, um, ... um,
    # forced aligner" as words, the held stretches between them stay fillers.
    from speechcoach.types import Word

    words = [
        Word(" Montreal", 0.9, 1.3),
        Word(" forced,", 1.3, 1.75),
        Word(" um,", 2.4, 2.6),
        Word(" um,", 5.0, 5.1),
        Word(" forced", 6.3, 6.8),
    ]
    left = hesitation.find_hesitations(x, _f0(x), words, [], lambda w: False)
    assert len(left) >= 3
    # A filler Whisper did write takes its stretch: not counted twice.
    written = [(3.1, 3.5)]
    assert (
        len(hesitation.find_hesitations(x, _f0(x), words, written, lambda w: False))
        == len(left) - 1
    )


def test_no_steady_stretch_in_fluent_real_speech():
    x = load_audio(REAL / "whisper_jfk.opus").samples
    assert hesitation.steady_stretches(x, _f0(x)) == []


def test_numbers_count_as_spoken():
    assert spoken_words("1455") == ["fourteen", "fifty", "five"]
    assert spoken_word_count("2,300") == 4  # two thousand three hundred
    assert spoken_word_count("Docker") == 1
    assert spoken_words("50%") == ["fifty", "percent"]
    assert spoken_words("3rd") == ["third"]
    assert expand_numbers("in 2019 we had 12 people") == "in twenty nineteen we had twelve people"


def test_accented_english_is_not_transcribed_as_the_speakers_first_language():
    from speechcoach.transcribe import choose_language

    # base's detection on real Mandarin-L1 English (speechocean762 speaker 9626)
    assert choose_language({"zh": 0.41, "la": 0.27, "en": 0.24, "ja": 0.0}) == "en"
    assert choose_language({"ja": 0.997, "en": 0.0}) == "ja"
    assert choose_language({"fr": 0.95, "en": 0.03}) == "fr"  # sure: delivery-only French


def test_one_model_by_default_and_tiny_en_only_when_fast():
    from speechcoach.models import default_model
    from speechcoach.transcribe import TranscribeOptions, decode_settings

    assert default_model(None) == default_model("en") == default_model("ja") == "base"
    assert default_model(None, fast=True) == default_model("en", fast=True) == "tiny.en"
    assert default_model("ja", fast=True) == "base"
    _, fast = decode_settings(TranscribeOptions(fast=True))
    assert fast["initial_prompt"] is None  # never the disfluent prompt with tiny.en


@pytest.mark.slow
def test_real_disfluent_speech_fillers_found_and_held_ones_are_no_pause(analyzer):
    result = analyzer.analyze_file(REAL / "mfa_uhum.flac").to_dict()
    items = result["fillers"]["items"]
    reference = MANIFEST["mfa_uhum.flac"]["reference"].split()
    assert len(items) >= len([w for w in reference if w in ("uh", "um", "hm")]) / 2  # recall >= 0.5
    assert {i["how"] for i in items} <= {"transcript", "acoustic"}
    assert "lower bound" in result["fillers"]["method"]
    # The two held "hm" (3.9-4.7 s, 5.1-5.9 s) are fillers, not a long silent pause.
    assert result["pauses"]["long_count"] == 0


@pytest.mark.slow
def test_real_fluent_speech_span_and_no_invented_filler(analyzer):
    clip = MANIFEST["whisper_jfk.opus"]
    result = analyzer.analyze_file(REAL / "whisper_jfk.opus").to_dict()
    assert result["language"] == "en" and result["model"] == "base"
    assert result["fillers"]["count"] == 0
    # The speech span, not the crowd noise after the last word (the old level rule: +1.0 s).
    assert result["speech_s"] == pytest.approx(clip["ref_span"][1] - clip["ref_span"][0], abs=0.6)


@pytest.mark.slow
def test_audio_too_noisy_to_transcribe_is_refused_with_one_line(tmp_path):
    import subprocess
    import sys

    import soundfile as sf

    x = load_audio(REAL / "whisper_jfk.opus").samples
    noisy = tmp_path / "noisy.wav"
    sf.write(noisy, _with_white_noise(x, -10.0), 16000)
    out = subprocess.run(
        [sys.executable, "-m", "speechcoach", "analyze", str(noisy), "--no-save"],
        capture_output=True,
        text=True,
    )
    # One line, exit 1, no score: "too noisy ... to transcribe reliably" when the voice detector
    # heard a voice that Whisper could not make out, else "too little to coach".
    assert out.returncode == 1
    assert len(out.stderr.strip().splitlines()) == 1
    assert "record" in out.stderr and "microphone" in out.stderr
    assert "Traceback" not in out.stderr and "score" not in out.stdout


def test_unreliable_transcripts_are_named():
    from speechcoach import usable
    from speechcoach.types import Word

    confident = [Word(f" w{i}", i * 0.4, i * 0.4 + 0.3, 0.9) for i in range(40)]
    assert usable.unusable_reason(confident, voice_s=16.0) is None
    unsure = [Word(w.text, w.start, w.end, 0.1 if i % 3 else 0.9) for i, w in enumerate(confident)]
    reason = usable.unusable_reason(unsure, voice_s=16.0)
    assert reason and "low confidence" in reason
    few = usable.unusable_reason(confident[:5], voice_s=60.0)
    assert few == "60 s of voice but only 5 words recognised"
    assert usable.message(few).startswith("too noisy or too quiet to transcribe reliably: 60 s")


@pytest.mark.slow
def test_audio_measures_beside_the_decoding_give_the_serial_values(analyzer, monkeypatch):
    # Pitch and the held-voice stretches are computed on a thread while Whisper decodes
    # (beside.py). The record must be the one computed after the transcript, on a real
    # disfluent clip whose held "hm" the acoustic detector finds.
    from speechcoach import beside

    audio = load_audio(REAL / "mfa_uhum.flac")
    threads = []
    start = beside.Beside.start
    monkeypatch.setattr(beside.Beside, "start", lambda self: threads.append(1) or start(self))
    overlapped = analyzer.analyze_audio(audio).to_dict()
    assert threads == [1]  # the engine said when the decoding started, and the thread ran
    # The serial path: no features handed over, `measure` computes everything itself.
    monkeypatch.setattr(beside.Beside, "start", lambda self: None)
    monkeypatch.setattr(beside.Beside, "result", lambda self: None)
    serial = analyzer.analyze_audio(audio).to_dict()
    for record in (overlapped, serial):
        record.pop("timings")
    assert overlapped == serial
    assert any(f["how"] == "acoustic" for f in serial["fillers"]["items"])
