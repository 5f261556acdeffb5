"""Copy the real (human) recordings the evaluation and tests use into tests/data/real/.

    python scripts/make_real_clips.py SOURCE_DIR

SOURCE_DIR holds the original recordings and a `manifest.json` (file, language, speaker,
duration_s, reference, source, license per clip). Small clips are copied byte for byte; the
long read-speech files (speechocean762, 100-160 s of FLAC each) are re-encoded to Opus at
32 kbit/s so the repository stays small. For each clip the new manifest records, besides the
attribution and licence:

- `split`: `dev` (used while tuning) or `heldout` (scored once, at the end: scripts/eval_real.py
  --split heldout);
- `gaps`: the silent joins between utterances, where the source joined utterances with
  digital silence (runs of exact zeros of at least GAP_MIN_S in the original): the pauses an
  honest pause detector must find;
- `ref_span`: the speaking span of the original (clean) audio, the span the reference words
  per minute is computed over: first to last sustained run (>= SUSTAIN_S) of 10 ms frames more
  than SPAN_ABOVE_FLOOR_DB above the clip's noise floor (10th percentile of frame levels).
  Whisper's first word timestamp is not used: it said 0.0 on clips whose speech starts at 0.6 s;
- `word_span`: Whisper `base` first word start and last word end, for comparison.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "real"
SAMPLE_RATE = 16000
GAP_MIN_S = 0.5  # the sources' joins are 0.6 s of zeros; no natural speech has 0.5 s of zeros
REENCODE_ABOVE_BYTES = 400_000
OPUS_BITRATE = 32_000
SPAN_ABOVE_FLOOR_DB = 20.0
SUSTAIN_S = 0.1
HELDOUT = {
    "speechocean762_spk9640.flac",
    "speechocean762_spk9647.flac",
    "commonvoice_ja_24511055.mp3",
}


def zero_gaps(path: Path) -> list[list[float]]:
    """Runs of exact digital silence (>= GAP_MIN_S) in the original file, in seconds."""
    import soundfile as sf

    try:
        x, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except RuntimeError:  # mp3 on an old libsndfile: no joins there anyway
        return []
    zero = np.all(x == 0, axis=1).astype(np.int8)
    edges = np.diff(np.concatenate(([0], zero, [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [
        [round(s / rate, 3), round(e / rate, 3)]
        for s, e in zip(starts, ends, strict=False)
        if (e - s) / rate >= GAP_MIN_S and s > 0 and e < len(zero)
    ]


def energy_span(path: Path) -> list[float]:
    from speechcoach.audio import load_audio

    x = load_audio(path).samples.astype(np.float64)
    hop, frame = SAMPLE_RATE // 100, int(0.032 * SAMPLE_RATE)
    energy = np.concatenate(([0.0], np.cumsum(x * x)))
    starts = np.arange(0, len(x) - frame, hop)
    db = 10 * np.log10((energy[starts + frame] - energy[starts]) / frame + 1e-12)
    floor = np.percentile(db[db > -100], 10)
    loud = (db > floor + SPAN_ABOVE_FLOOR_DB).astype(np.int8)
    edges = np.diff(np.concatenate(([0], loud, [0])))
    runs = [
        (s, e)
        for s, e in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=False)
        if (e - s) * hop / SAMPLE_RATE >= SUSTAIN_S
    ]
    if not runs:
        return [0.0, 0.0]
    return [
        round(runs[0][0] * hop / SAMPLE_RATE, 2),
        round((runs[-1][1] * hop + frame) / SAMPLE_RATE, 2),
    ]


def encode_opus(src: Path, dest: Path) -> None:
    from speechcoach.audio import load_audio

    pcm = (np.clip(load_audio(src).samples, -1, 1) * 32767).astype(np.int16)
    with av.open(str(dest), "w", format="opus", container_options={"fflags": "+bitexact"}) as out:
        stream = out.add_stream("libopus", rate=SAMPLE_RATE)
        stream.bit_rate = OPUS_BITRATE
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(pcm[None, :], format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def word_span(path: Path, language: str) -> list[float]:
    from speechcoach.audio import load_audio
    from speechcoach.transcribe import TranscribeOptions, _create_engine

    engine = word_span.engine = getattr(word_span, "engine", None) or _create_engine(
        "faster-whisper", "base", TranscribeOptions(model="base")
    )
    words = engine.transcribe(load_audio(path).samples, language).words
    return [round(words[0].start, 2), round(words[-1].end, 2)] if words else [0.0, 0.0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    args = parser.parse_args()
    clips = json.loads((args.source / "manifest.json").read_text("utf-8"))
    old = OUT / "manifest.json"  # Whisper spans already computed are kept (they cost minutes)
    known = (
        {c["original_file"]: c.get("word_span") for c in json.loads(old.read_text())["clips"]}
        if old.is_file()
        else {}
    )
    OUT.mkdir(parents=True, exist_ok=True)
    entries = []
    for clip in clips:
        src = args.source / clip["file"]
        if src.stat().st_size > REENCODE_ABOVE_BYTES:
            dest = OUT / (src.stem + ".opus")
            encode_opus(src, dest)
            stored = f"re-encoded to Opus {OPUS_BITRATE // 1000} kbit/s mono 16 kHz"
        else:
            dest = OUT / src.name
            shutil.copyfile(src, dest)
            stored = "byte for byte"
        entry = {
            "file": dest.name,
            "original_file": clip["file"],
            "stored": stored,
            "language": clip["language"],
            "speaker": clip["speaker"],
            "duration_s": clip["duration_s"],
            "split": "heldout" if clip["file"] in HELDOUT else "dev",
            "reference": clip["reference"],
            "gaps": zero_gaps(src),
            "ref_span": energy_span(src),
            "word_span": known.get(clip["file"]) or word_span(src, clip["language"]),
            "source": clip["source"],
            "license": clip["license"],
        }
        print(dest.name, entry["split"], len(entry["gaps"]), entry["ref_span"], file=sys.stderr)
        entries.append(entry)
    about = (
        "Real human recordings with reference transcripts (see README.md). gaps: silent joins "
        "between utterances in the original (digital silence >= 0.5 s); ref_span: speaking span "
        "of the original clean audio (energy above its noise floor); word_span: Whisper "
        "base's; split: dev for tuning, heldout scored once."
    )
    (OUT / "manifest.json").write_text(
        json.dumps({"_about": about, "clips": entries}, ensure_ascii=False, indent=1) + "\n",
        "utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
