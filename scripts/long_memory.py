"""Peak memory (RSS) of the analysis stages that grow with a recording's length.

    python scripts/long_memory.py --minutes 29            # tiled copies of the 3-minute clip
    python scripts/long_memory.py FILE --stages           # each stage's own peak, too
    python scripts/long_memory.py FILE --analyze          # the whole `speechcoach analyze`

The stages run in a child process and its peak is the kernel's (ru_maxrss from wait4), so
nothing is sampled and no transient is missed. Without --analyze the child decodes the file,
runs `delivery.measure` on it with an empty transcript and the content analysis on the 3-minute
clip's own sentences repeated over the file's length (clips.json): every step that scales with
the length (decoding, voice activity, frame levels, pitch, held voice, pauses, sentence
embeddings) but not Whisper, whose long-file cost is bounded by longform's windows. --stages
adds each stage's own rise above what was resident before it (peak reset through
/proc/self/clear_refs, Linux only).
Prints one JSON line; sizes in MB (2^20 bytes).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO / "tests" / "data" / "long_en_180s.opus"  # real speech, 179 s
MB = 1 << 20


def tiled_recording(minutes: float, path: Path) -> Path:
    """Write `minutes` of the committed 3-minute clip, repeated, as 16 kHz FLAC."""
    import numpy as np
    import soundfile as sf

    from speechcoach.audio import load_audio
    from speechcoach.config import SAMPLE_RATE

    clip = load_audio(CLIP).samples
    total = int(minutes * 60 * SAMPLE_RATE)
    sf.write(path, np.tile(clip, total // len(clip) + 1)[:total], SAMPLE_RATE)
    return path


def peak_of(command: list[str]) -> tuple[int, float, str]:
    """Run `command`; its exit status, its peak RSS in MB (wait4) and its stdout."""
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen(command, stdout=out, cwd=REPO, env=_env())
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return child.returncode, usage.ru_maxrss * 1024 / MB, out.read().decode()


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }


# ------------------------------------------------------------------------------ in the child


def _resident_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024 / MB
    return float("nan")


def _rise(run) -> float:
    """How far `run()` lifts the peak RSS above the RSS before it (MB)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # reset the peak (VmHWM) to the current RSS
    before = _resident_mb("VmRSS")
    run()
    return round(_resident_mb("VmHWM") - before, 1)


def child(path: str, stages: bool) -> None:
    import numpy as np

    from speechcoach import delivery, hesitation, vad
    from speechcoach.audio import load_audio
    from speechcoach.config import SAMPLE_RATE, Targets
    from speechcoach.content import ContentAnalyzer
    from speechcoach.types import Transcript

    report: dict[str, object] = {"imports_mb": round(_resident_mb("VmRSS"), 1)}
    audio = load_audio(Path(path))
    samples = audio.samples
    report["minutes"] = round(len(samples) / SAMPLE_RATE / 60, 2)
    report["samples_mb"] = round(samples.nbytes / MB, 1)
    if stages:
        hop = int(delivery.HOP_S * SAMPLE_RATE)
        f0 = np.zeros(0)

        def pitch():
            nonlocal f0
            f0 = delivery._yin_chunked(samples)

        report["rise_mb"] = {
            "vad": _rise(lambda: vad.detect(samples)),
            "rms": _rise(
                lambda: delivery.frame_rms(samples, int(delivery.FRAME_S * SAMPLE_RATE), hop)
            ),
            "pitch": _rise(pitch),
            "held_voice": _rise(lambda: hesitation.steady_stretches(samples, f0)),
        }
    empty = Transcript(language="en", segments=(), engine="none", model="none")
    metrics = delivery.measure(samples, empty, [], Targets())
    report["pauses"] = len(metrics.pauses)
    sentences = clip_sentences(len(samples) / SAMPLE_RATE)
    analyzer = ContentAnalyzer("en")
    if stages:
        report["rise_mb"]["content"] = _rise(lambda: analyzer.analyse(sentences))
    report["sentences"] = len(sentences)
    report["parts_covered"] = sum(
        c.covered for c in analyzer.analyse(sentences).components.values()
    )
    print(json.dumps(report))


def clip_sentences(seconds: float) -> list:
    """The clip's own sentences (tests/data/clips.json: text and times), repeated with its
    length over `seconds`: the transcript of the tiled recording, without running Whisper."""
    from speechcoach.types import Sentence

    manifest = json.loads((CLIP.parent / "clips.json").read_text(encoding="utf-8"))
    entry = next(c for c in manifest["clips"] if c["file"].endswith(CLIP.name))
    out: list[Sentence] = []
    for copy in range(int(seconds // entry["duration_s"]) + 1):
        offset = copy * entry["duration_s"]
        for s in entry["sentences"]:
            if offset + s["end_s"] <= seconds:
                out.append(
                    Sentence(s["text"], offset + s["start_s"], offset + s["end_s"], len(out))
                )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", help="a recording (default: --minutes of the clip)")
    parser.add_argument("--minutes", type=float, default=29.0)
    parser.add_argument("--stages", action="store_true", help="each stage's own rise as well")
    parser.add_argument("--analyze", action="store_true", help="the whole analysis instead")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.file, args.stages)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = (
            Path(args.file) if args.file else tiled_recording(args.minutes, Path(tmp) / "long.flac")
        )
        if args.analyze:
            command = [sys.executable, "-m", "speechcoach", "analyze", str(path), "--no-save"]
            command += ["--json", "--language", "en", "--model", "tiny.en"]
        else:
            command = [sys.executable, __file__, str(path), "--child"] + (
                ["--stages"] * args.stages
            )
        code, peak, out = peak_of(command)
    lines = out.strip().splitlines()
    found = json.loads(lines[-1]) if lines and not args.analyze else {}
    print(
        json.dumps(
            {
                "file": str(args.file or f"{args.minutes:g} min of {CLIP.name}"),
                "exit": code,
                "peak_mb": round(peak, 1),
                **found,
            }
        )
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
