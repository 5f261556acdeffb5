#!/usr/bin/env python3
"""Voice the whole-intro evaluation set (tests/data/intros.json) with the bundled TTS voices.

    pip install -e '.[tts]'
    nice python scripts/make_intro_clips.py [--only ID ...]

Writes tests/data/intros/<id>.opus (24 kbit/s Opus, 16 kHz mono) and, per clip, where every
sentence landed (tests/data/intros/timings.json): scripts/eval_intros.py matches the transcript's
sentences to the labelled ones by these times. Voices, pauses and determinism are those of
scripts/make_clips.py (Piper joe-medium for English, Kokoro jf_alpha for Japanese): synthetic
speech, never a real person.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_clips as mc  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
INTROS = ROOT / "tests" / "data" / "intros.json"
OUT_DIR = ROOT / "tests" / "data" / "intros"
TIMINGS = OUT_DIR / "timings.json"


def script_for(intro: dict) -> mc.Script:
    # One part per sentence: a sentence pause between them, cycled as in the other clips.
    sentences = tuple(s["text"] for s in intro["sentences"])
    return mc.Script(
        id=intro["id"],
        language=intro["language"],
        parts=(mc.Part(sentences, tag=None),),
        note=intro["note"],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="voice only these intro ids")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    intros = json.loads(INTROS.read_text(encoding="utf-8"))["intros"]
    if args.only:
        intros = [i for i in intros if i["id"] in args.only]
    voices = {"en": mc.EnglishVoice(), "ja": mc.JapaneseVoice()}
    timings = json.loads(TIMINGS.read_text(encoding="utf-8")) if TIMINGS.exists() else {}
    cache: dict = {}
    for intro in intros:
        voice = voices[intro["language"]]
        take = mc.render(script_for(intro), voice, cache)
        path = OUT_DIR / f"{intro['id']}.opus"
        mc.write_audio(path, take.pcm, mc.RATE)
        timings[intro["id"]] = {
            "file": path.relative_to(ROOT).as_posix(),
            "voice": voice.name,
            "duration_s": mc.r(len(take.pcm) / mc.RATE),
            "sentences": [[mc.r(s["start_s"], 3), mc.r(s["end_s"], 3)] for s in take.sentences],
        }
        logging.info("%s: %.1f s", path.relative_to(ROOT), len(take.pcm) / mc.RATE)
    TIMINGS.write_text(json.dumps(timings, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
