"""Benchmark: engine x bundled model x compute type on committed clips of known text.

    python benchmarks/bench.py                       # all; writes benchmarks/RESULTS.md
    python benchmarks/bench.py --quick               # faster-whisper tiny.en int8 only
    python benchmarks/bench.py --batch 10            # also: 10 three-minute files in one process

Each configuration runs in a fresh process, so "import + load" is a cold start and peak memory
(max RSS) belongs to that configuration alone. Inside it, raw transcription (the engine called
directly, same model and settings) and the whole analysis (decode + transcription + delivery +
content + scoring) run alternately on the same clip, `--repeat` times; we report medians and the
ratio analysis / transcription, which is robust to a noisy machine where absolute times are not.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIPS = ROOT / "tests" / "data" / "clips.json"
DEFAULT_CLIPS = ("tests/data/known_en.wav", "tests/data/long_en_180s.opus")
CONFIGS = (  # (engine, model, compute type)
    ("faster-whisper", "tiny.en", "int8"),
    ("faster-whisper", "tiny.en", "float32"),
    ("faster-whisper", "base", "int8"),
    ("faster-whisper", "base", "float32"),
    ("openai-whisper", "tiny.en", "float32"),
    ("openai-whisper", "base", "float32"),
)


# -------------------------------------------------------------------------- worker


def worker(args) -> dict:
    """Runs in its own process: cold import + load, then timed transcription vs analysis."""
    started = time.perf_counter()
    from speechcoach.analyze import AnalyzeOptions, Analyzer
    from speechcoach.audio import load_audio
    from speechcoach.transcribe import TranscribeOptions
    from speechcoach.wer import word_error_rate

    options = TranscribeOptions(
        engine=args.engine, model=args.model, language="en", compute_type=args.compute
    )
    analyzer = Analyzer(AnalyzeOptions(transcribe=options))
    engine = analyzer.models.get(args.model)
    manifest = {c["file"]: c for c in json.loads(CLIPS.read_text())["clips"]}
    rows = []
    # Warm-up on the shortest clip: first-call costs (librosa import, embedding model) belong
    # to "import + load", not to the per-file analysis.
    analyzer.analyze_audio(load_audio(ROOT / args.clip[0]))
    load_s = time.perf_counter() - started
    for clip in args.clip:
        audio = load_audio(ROOT / clip)
        raw, whole, text = [], [], ""
        for _ in range(args.repeat):
            # Both sides start from the file: raw = decode + engine.transcribe (what calling
            # faster-whisper on the file does), whole = Analyzer.analyze_file.
            t = time.perf_counter()
            transcript = engine.transcribe(load_audio(ROOT / clip).samples, "en")
            raw.append(time.perf_counter() - t)
            t = time.perf_counter()
            analysis = analyzer.analyze_file(ROOT / clip)
            whole.append(time.perf_counter() - t)
            text = transcript.text
        truth = manifest[clip]
        raw_s, whole_s = statistics.median(raw), statistics.median(whole)
        rows.append(
            {
                "clip": clip,
                "duration_s": round(audio.duration_s, 1),
                "transcribe_s": round(raw_s, 2),
                "analysis_s": round(whole_s, 2),
                "rtf_transcribe": round(raw_s / audio.duration_s, 4),
                "rtf_analysis": round(whole_s / audio.duration_s, 4),
                "overhead_ratio": round(whole_s / raw_s, 3),
                "overhead_s": round(whole_s - raw_s, 2),
                "wer": round(word_error_rate(truth["text"], text), 4),
                "stages": analysis.timings,
            }
        )
    return {
        "engine": args.engine,
        "model": args.model,
        "compute": args.compute,
        "load_s": round(load_s, 2),
        "repeat": args.repeat,
        "rows": rows,
    }


def memory_worker(args) -> dict:
    """A fresh process that does exactly one whole analysis of the clip: its peak RSS."""
    from speechcoach.analyze import AnalyzeOptions, Analyzer
    from speechcoach.transcribe import TranscribeOptions

    options = TranscribeOptions(
        engine=args.engine, model=args.model, language="en", compute_type=args.compute
    )
    Analyzer(AnalyzeOptions(transcribe=options)).analyze_file(ROOT / args.clip[-1])
    return {"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def batch_worker(args) -> dict:
    """N copies of the 3-minute clip: one `speechcoach analyze` process vs N raw transcriptions."""
    from speechcoach.audio import load_audio
    from speechcoach.transcribe import ModelPool, TranscribeOptions

    clip = ROOT / args.clip[0]
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i in range(args.batch):
            dest = Path(tmp) / f"student{i:02d}{clip.suffix}"
            shutil.copyfile(clip, dest)
            files.append(dest)
        pool = ModelPool(TranscribeOptions(model="tiny.en", language="en"))
        engine = pool.get("tiny.en")
        t = time.perf_counter()
        for f in files:
            engine.transcribe(load_audio(f).samples, "en")
        raw_s = time.perf_counter() - t
        env = dict(os.environ, SPEECHCOACH_HOME=os.environ.get("SPEECHCOACH_HOME", tmp))
        t = time.perf_counter()
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "speechcoach",
                "analyze",
                *map(str, files),
                "--json",
                "--no-save",
                "--language",
                "en",
                "--model",
                "tiny.en",
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        whole_s = time.perf_counter() - t
    ok = sum(1 for line in out.stdout.splitlines() if '"score"' in line)
    return {
        "files": args.batch,
        "analysed": ok,
        "raw_transcriptions_s": round(raw_s, 1),
        "cli_batch_s": round(whole_s, 1),
        "ratio": round(whole_s / raw_s, 3),
    }


# -------------------------------------------------------------------------- driver


def run_config(engine: str, model: str, compute: str, clips: list[str], repeat: int) -> dict | None:
    # openai-whisper is 3-10x slower: one repetition keeps the run under half an hour.
    repeat = 1 if engine == "openai-whisper" else repeat
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        "--engine",
        engine,
        "--model",
        model,
        "--compute",
        compute,
        "--repeat",
        str(repeat),
        *sum((["--clip", c] for c in clips), []),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    memory = subprocess.run([*cmd[:2], "--memory-worker", *cmd[3:]], capture_output=True, text=True)
    if proc.returncode != 0 or memory.returncode != 0:
        last = ((proc.stderr or memory.stderr).strip().splitlines() or ["?"])[-1]
        print(f"  skipped {engine} {model} {compute}: {last}", file=sys.stderr)
        return None
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result.update(json.loads(memory.stdout.strip().splitlines()[-1]))
    return result


def machine() -> str:
    cpu = "unknown CPU"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in open("/proc/cpuinfo")
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def markdown(results: list[dict], batch: dict | None, command: str) -> str:
    lines = [
        f"Machine: {machine()}. Command: `{command}`. Medians over `runs` repetitions; "
        "RTF = seconds / audio seconds; transcription = decode + engine (the raw "
        "baseline), analysis = "
        "decode + transcription + delivery + content + scoring, alternated in one process; "
        "import + load "
        "includes one warm-up analysis of the short clip; peak RSS from a separate "
        "fresh process that "
        "analyses the 3-minute clip once.",
        "",
        "| engine | model | compute | clip | runs | import + load s | RTF transcription "
        "| RTF whole analysis | analysis / transcription | overhead s | peak RSS MB, one "
        "3-min analysis | WER |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for row in r["rows"]:
            lines.append(
                f"| {r['engine']} | {r['model']} | {r['compute']} | {Path(row['clip']).name} "
                f"({row['duration_s']:.0f} s) | {r['repeat']} | {r['load_s']:.2f} | "
                f"{row['rtf_transcribe']:.3f} | {row['rtf_analysis']:.3f} | "
                f"{row['overhead_ratio']:.3f} | {row['overhead_s']:.2f} | "
                f"{r['peak_rss_mb']} | {row['wer']:.1%} |"
            )
    if batch:
        lines += [
            "",
            f"Batch: {batch['files']} copies of the 3-minute clip in one `speechcoach "
            "analyze` process "
            f"(cold start included): {batch['cli_batch_s']} s vs "
            f"{batch['raw_transcriptions_s']} s for "
            f"{batch['files']} raw transcriptions (model already loaded) = **{batch['ratio']}x**; "
            f"{batch['analysed']}/{batch['files']} analysed.",
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--batch-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--engine", default="faster-whisper")
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--compute", default="int8")
    parser.add_argument("--clip", action="append", help="clip(s) from tests/data/clips.json")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="only faster-whisper tiny.en int8")
    parser.add_argument(
        "--batch", type=int, default=0, help="also time N three-minute files in one process"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    args = parser.parse_args()
    args.clip = args.clip or list(DEFAULT_CLIPS)
    if args.worker:
        print(json.dumps(worker(args)))
        return 0
    if args.batch_worker:
        print(json.dumps(batch_worker(args)))
        return 0
    if args.memory_worker:
        print(json.dumps(memory_worker(args)))
        return 0
    configs = CONFIGS[:1] if args.quick else CONFIGS
    results = []
    for engine, model, compute in configs:
        print(f"running {engine} {model} {compute}...", file=sys.stderr)
        result = run_config(engine, model, compute, args.clip, args.repeat)
        if result:
            results.append(result)
    batch = None
    if args.batch:
        print(f"running batch of {args.batch}...", file=sys.stderr)
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--batch-worker",
                "--batch",
                str(args.batch),
                "--clip",
                DEFAULT_CLIPS[1],
            ],
            capture_output=True,
            text=True,
        )
        batch = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else None
    command = "python benchmarks/bench.py " + " ".join(sys.argv[1:])
    table = markdown(results, batch, command.strip())
    args.out.write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
