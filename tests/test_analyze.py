"""The analysis end to end, on committed clips of known text, with the real bundled model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import DATA, ROOT, SAMPLES

from speechcoach.audio import load_audio
from speechcoach.cli import main
from speechcoach.errors import AudioError

KNOWN_FORMATS = [
    "known_en.wav",
    "known_en.flac",
    "known_en.mp3",
    "known_en.ogg",
    "known_en.m4a",
    "known_en_stereo44k.wav",
]
DOCUMENTED_FIELDS = {
    "file",
    "language",
    "duration_s",
    "speech_s",
    "word_count",
    "wpm",
    "articulation_wpm",
    "pauses",
    "fillers",
    "components",
    "order",
    "pitfalls",
    "score",
    "tips",
    "transcript",
}


def truth(clips: dict, name: str) -> dict:
    return next(c for c in clips["clips"] if c["file"].endswith(name))


@pytest.mark.parametrize("name", KNOWN_FORMATS)
def test_every_format_decodes_to_16k_mono_with_the_right_length(name, clips):
    audio = load_audio(DATA / name)
    assert (
        audio.sample_rate == 16000 and audio.samples.ndim == 1 and audio.samples.dtype == np.float32
    )
    expected = truth(clips, name)["duration_s"]
    assert audio.duration_s == pytest.approx(expected, rel=0.01)


@pytest.mark.parametrize(
    "name, message",
    [
        ("empty.wav", "the file is empty"),
        ("corrupt.mp3", "not a readable audio file"),
        ("not_audio.txt", "not a readable audio file|is it a recording"),
        ("no_audio_track.mp4", "no audio track found"),
        ("silent.wav", "the recording is silent"),
        ("too_short.wav", "at least 3 s are needed"),
    ],
)
def test_bad_inputs_raise_a_clear_error(name, message):
    with pytest.raises(AudioError, match=message) as info:
        load_audio(DATA / name)
    assert name in str(info.value)


def test_a_recording_over_the_limit_is_refused_before_transcribing():
    with pytest.raises(AudioError, match="over the 0 min limit"):
        load_audio(DATA / "known_en.wav", max_duration_s=5)


@pytest.mark.slow
def test_known_clip_duration_and_pace_match_the_truth(analyzer, clips):
    known = truth(clips, "known_en.wav")
    result = analyzer.analyze_file(DATA / "known_en.wav").to_dict()
    assert result["language"] == "en"
    assert result["duration_s"] == pytest.approx(known["duration_s"], rel=0.01)
    assert result["wpm"] == pytest.approx(known["wpm"], rel=0.05)
    assert result["speech_s"] == pytest.approx(known["speech_span_s"], rel=0.02)
    assert result["articulation_wpm"] > result["wpm"]  # voiced time excludes the pauses
    for start in known["long_pauses"]:  # the deliberate 2.5 s pause is found where it was put
        assert any(abs(p["start"] - start) < 0.3 for p in result["pauses"]["long"]), result[
            "pauses"
        ]


@pytest.mark.slow
def test_good_intro_covers_all_four_parts_in_order(analyzer):
    result = analyzer.analyze_file(SAMPLES / "intro_good_en.m4a").to_dict()
    assert {cid for cid, c in result["components"].items() if c["covered"]} == {
        "japan",
        "career_change",
        "project",
        "plan",
    }
    assert result["order"]["ok"]
    assert result["pitfalls"] == []
    assert result["score"] >= 75
    # One steady TTS voice: a 30 s stretch with fewer pauses reads ~174 wpm, but its speech is
    # no faster than the rest, so it is not called rushed.
    assert not [t for t in result["tips"] if t["id"] == "pace:rushed"]
    for comp in result["components"].values():
        assert comp["strength"] in ("full", "partial")
        assert set(comp["checks"]) and all(
            set(c) == {"present", "evidence"} for c in comp["checks"].values()
        )
    for comp in result["components"].values():
        ev = comp["evidence"][0]
        assert 0 <= ev["start"] < ev["end"] <= result["duration_s"] and ev["text"]


@pytest.mark.slow
def test_weak_intro_gets_pitfalls_with_sentence_and_time(analyzer):
    result = analyzer.analyze_file(SAMPLES / "intro_weak_en.mp3").to_dict()
    found = {p["id"] for p in result["pitfalls"]}
    assert {"badmouth", "culture_reason"} <= found
    assert result["judgements"]["duration"] == "low"
    assert result["score"] < 60
    top = result["tips"][:3]
    assert len(top) == 3 and all(t["message"] for t in top)
    assert any(t["sentence"] and t["start"] is not None and t["say_instead"] for t in top)
    assert "lower bound" in result["fillers"]["method"]


@pytest.mark.slow
def test_cli_batch_reports_every_file_in_order_and_fails_with_1(tmp_path):
    files = [str(DATA / "known_en.flac"), str(DATA / "corrupt.mp3"), str(DATA / "known_en.m4a")]
    result = CliRunner().invoke(
        main, ["-v", "analyze", *files, "--json", "--no-save", "--language", "en"]
    )
    assert result.exit_code == 1, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == files
    assert "error" in lines[1] and "corrupt.mp3" in lines[1]["error"]
    for good in (lines[0], lines[2]):
        assert DOCUMENTED_FIELDS <= set(good)
        assert good["transcript"]["segments"] and good["components"]
        assert {"decode", "transcribe", "delivery", "content"} <= set(good["timings"])
    assert result.stderr.count("loaded faster-whisper") == 1  # one model load for the whole batch
    assert "analysed 2 of 3 files, 1 failed" in result.stderr


@pytest.mark.slow
def test_cli_report_and_target(tmp_path):
    result = CliRunner().invoke(
        main, ["analyze", str(DATA / "known_en.wav"), "--no-save", "--target", "20s"]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Fix first" in out and "Delivery" in out and "Content" in out
    assert "of 0:20" in out  # the target applied is shown
    assert "lower bound" in out  # how fillers were counted


@pytest.mark.slow
def test_nothing_is_written_next_to_the_audio(tmp_path, home):
    clip = tmp_path / "mine.wav"
    clip.write_bytes((DATA / "known_en.wav").read_bytes())
    result = CliRunner().invoke(main, ["analyze", str(clip)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "mine.wav"]


def test_readme_documents_every_json_field():
    readme = (ROOT / "README.md").read_text()
    for field in DOCUMENTED_FIELDS | {
        "voiced_s",
        "target_s",
        "chars_per_min",
        "morae_per_min",
        "pace_windows",
        "judgements",
        "bands",
        "pitch",
        "loudness",
    }:
        assert f"`{field}`" in readme, field


@pytest.mark.slow
def test_same_audio_updates_its_attempt_unless_new_attempt_is_asked():
    from speechcoach.store import History

    clip = str(DATA / "known_ja.wav")
    runner = CliRunner()
    for extra in ([], ["--label", "v2"], ["--new-attempt"]):
        result = runner.invoke(main, ["analyze", clip, "--json", *extra])
        assert result.exit_code == 0, result.output
    with History.open() as history:
        attempts = history.list(10)
    assert len(attempts) == 2


@pytest.mark.slow
def test_a_damaged_history_keeps_the_report_and_the_file(home):
    db = home / "history.db"
    db.write_bytes(b"this is not a database" * 100)
    before = db.read_bytes()
    result = CliRunner().invoke(main, ["analyze", str(DATA / "known_en.wav"), "--language", "en"])
    assert result.exit_code == 1
    assert "Fix first" in result.stdout  # the analysis is still shown in full
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "attempt not saved" in errors[0] and "history.db" in errors[0]
    assert "Traceback" not in result.stderr
    assert db.read_bytes() == before  # never deleted or overwritten


@pytest.mark.slow
def test_a_language_without_a_rubric_is_scored_on_delivery_and_says_so():
    result = CliRunner().invoke(
        main, ["analyze", str(DATA / "known_en.wav"), "--language", "de", "--no-save"]
    )
    assert result.exit_code == 0, result.output
    assert "Score on delivery only: no content rubric for 'de'" in result.stdout
    assert "Not checked" in result.stdout


@pytest.mark.slow
def test_jobs_runs_worker_processes_and_keeps_input_order():
    files = [
        str(DATA / "known_en_stereo44k.wav"),
        str(DATA / "corrupt.mp3"),
        str(DATA / "known_en.wav"),
    ]
    result = CliRunner().invoke(
        main, ["analyze", *files, "--jobs", "2", "--json", "--no-save", "--language", "en"]
    )
    assert result.exit_code == 1, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == files
    assert "error" in lines[1] and lines[0]["score"] >= 0 and lines[2]["word_count"] > 30
    assert "decode" in lines[2]["timings"]


@pytest.mark.slow
def test_the_same_file_twice_gives_identical_json(analyzer):
    first = analyzer.analyze_file(DATA / "known_en.wav").to_dict()
    second = analyzer.analyze_file(DATA / "known_en.wav").to_dict()
    first.pop("timings"), second.pop("timings")
    assert first == second
    assert first["unreliable_share"] == 0.0 and first["warnings"] == []


@pytest.mark.slow
def test_a_forced_language_the_speech_contradicts_is_warned_about(tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["analyze", "--json", "--language", "ja", str(DATA / "known_en.wav")])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    [warning] = data["warnings"]
    assert "--language ja" in warning and "'en'" in warning
    assert "sounds like 'en'" in res.stderr
