"""Benchmark: the path users run against raw faster-whisper, and engine x model x compute.

    python benchmarks/bench.py                       # speechcoach analyze vs raw faster-whisper
    python benchmarks/bench.py --runs 3 --clip tests/data/long_en_180s.opus   # issue 11's table
    python benchmarks/bench.py --runs 5 --clip samples/intro_weak_en.mp3 --mode --fast
    python benchmarks/bench.py --matrix              # engine x model x compute, in-process
    python benchmarks/bench.py --matrix --quick      # faster-whisper tiny.en int8 only
    python benchmarks/bench.py --matrix --batch 10   # also: 10 three-minute files in one process

Default mode (writes benchmarks/CLI.md): for the default settings and for `--fast`, each run
starts two cold processes on the same file, in alternating order: `speechcoach analyze FILE`
exactly as the README tells users to run it (language detection on, history saved into a
temporary SPEECHCOACH_HOME), and a bare Python process that loads the same faster-whisper model
with the same settings (as speechcoach.transcribe.decode_settings gives them: beam, prompt,
language detection, threads, int8) and transcribes the file. Wall time, CPU time (user +
system) and peak RSS (from wait4 on that process alone) per process; the ratios are taken per
pair, then the median. Wall time is what the targets are about and needs an idle machine; CPU
time moves far less with other work on the machine, so it is the figure to compare while
developing on a shared one.

Matrix mode (writes benchmarks/RESULTS.md):

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
CLI_CLIPS = ("tests/data/long_en_180s.opus", "samples/intro_weak_en.mp3")
CLI_MODES = {"default": [], "--fast": ["--fast"]}
RAW = """
import json, sys
from faster_whisper import WhisperModel
location, clip, settings = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
model = WhisperModel(location, device="cpu", compute_type=settings.pop("compute_type"),
                     cpu_threads=settings.pop("cpu_threads"))
segments, info = model.transcribe(clip, **settings)
print(len([w for s in segments for w in (s.words or [])]), info.language)
"""
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


# -------------------------------------------------------------------------- the CLI path


# Issue 11's targets for the path users run on a 3-minute intro (mode -> (ratio, peak MB)).
TARGETS = {"default": (1.15, 500), "--fast": (1.15, 450)}
# Above this 1-minute load average other work shares the cores and wall-time ratios swing by
# +-30 % from run to run (measured at load 9-17 on 2 cores): the time target is not judged.
# The benchmark's own processes keep every core busy, so on an otherwise idle machine the load
# before a run is up to about the core count (1.3-1.7 on 2 idle cores): the bar is the cores.
IDLE_LOAD = float(os.cpu_count() or 1)


def timed(cmd: list[str], env: dict) -> tuple[float, float, int, str]:
    """Run `cmd` cold: its wall seconds, its CPU seconds (user + system, of the process and the
    children it waited for, from wait4: far less sensitive to other work on the machine than
    wall time), its own peak RSS in MB, and its stdout."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed: {err.decode()[-400:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, round(usage.ru_maxrss / 1024), out.decode()


def raw_settings(mode_args: list[str]) -> tuple[str, str, dict]:
    """The model name, model folder and faster-whisper settings speechcoach uses in this mode."""
    from speechcoach.models import default_model
    from speechcoach.transcribe import TranscribeOptions, decode_settings

    options = TranscribeOptions(fast="--fast" in mode_args)
    location, settings = decode_settings(options)
    return default_model(options.language, options.fast), location, settings


def cli_bench(clips: list[str], runs: int, modes: list[str]) -> list[dict]:
    speechcoach = str(Path(sys.executable).with_name("speechcoach"))
    rows = []
    with tempfile.TemporaryDirectory() as home:
        # Bytecode is written (the warm-up writes it): an installed package has its .pyc, and a
        # PYTHONDONTWRITEBYTECODE left in the environment would recompile speechcoach's ~60
        # modules in every timed run (~0.3 s) but not faster-whisper's, already compiled.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["SPEECHCOACH_HOME"] = home
        os.environ["SPEECHCOACH_HOME"] = home  # the base model is joined here once (warm-up)
        for mode in modes:
            mode_args = CLI_MODES[mode]
            for clip in clips:
                path = ROOT / clip
                model, location, settings = raw_settings(mode_args)
                analyze = [speechcoach, "analyze", str(path), *mode_args]
                raw = [sys.executable, "-c", RAW, location, str(path), json.dumps(settings)]
                timed(analyze, env)  # warm-up: page cache, bytecode, the one-time join of base
                timed(raw, env)
                pairs = []
                for run in range(runs):
                    order = (("raw", raw), ("analyze", analyze))
                    result = {"load": os.getloadavg()[0]}
                    for name, cmd in order if run % 2 == 0 else order[::-1]:
                        result[name] = timed(cmd, env)[:3]
                    pairs.append(result)
                    print(f"  {mode} {clip} run {run + 1}: {result}", file=sys.stderr)
                rows.append(cli_row(mode, clip, model, settings, pairs))
    return rows


def cli_row(mode: str, clip: str, model: str, settings: dict, pairs: list[dict]) -> dict:
    from speechcoach.audio import load_audio

    med = statistics.median
    loads = [p["load"] for p in pairs] + [os.getloadavg()[0]]
    return {
        "mode": mode,
        "clip": clip,
        "model": model,
        "duration_s": round(load_audio(ROOT / clip).duration_s, 1),
        "settings": settings,
        "runs": len(pairs),
        "raw_s": [round(p["raw"][0], 2) for p in pairs],
        "analyze_s": [round(p["analyze"][0], 2) for p in pairs],
        "ratio": round(med(p["analyze"][0] / p["raw"][0] for p in pairs), 3),
        "raw_cpu_s": [round(p["raw"][1], 2) for p in pairs],
        "analyze_cpu_s": [round(p["analyze"][1], 2) for p in pairs],
        "cpu_ratio": round(med(p["analyze"][1] / p["raw"][1] for p in pairs), 3),
        "raw_peak_mb": max(p["raw"][2] for p in pairs),
        "analyze_peak_mb": max(p["analyze"][2] for p in pairs),
        "load": [round(min(loads), 1), round(max(loads), 1)],
    }


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def _verdict(row: dict) -> str:
    """Memory is judged on any machine; wall time only when the load stayed under IDLE_LOAD."""
    ratio, peak_mb = TARGETS[row["mode"]]
    memory = "met" if row["analyze_peak_mb"] <= peak_mb else "NOT met"
    load = row["load"] if isinstance(row["load"], list) else [row["load"]] * 2
    time_ = "met" if row["ratio"] <= ratio else "NOT met"
    if load[1] >= IDLE_LOAD:
        time_ = f"not judged (load {load[1]})"
    return f"memory <= {peak_mb} MB {memory}; wall <= {ratio}x {time_}"


def cli_markdown(rows: list[dict], command: str) -> str:
    lines = [
        f"Machine: {machine()}. Command: `{command}`. Each run: two cold processes on the same "
        "file in alternating order, `speechcoach analyze FILE [--fast]` (language detection on, "
        "history saved) and raw faster-whisper with the same model and settings; wall = wall "
        "time of the whole process (imports, model load, decoding included); CPU = user + "
        "system seconds of the process (wait4), less sensitive to other work on the machine; "
        "ratios = median of per-run analyze / raw; peak RSS = the process's own maximum (wait4), "
        "the highest over the runs; load = 1-minute load average before each run and at the end "
        "(min-max; the machine's other work); target: issue 11 (wall ratio and analyze peak).",
        "",
        "| mode | clip | model, settings | runs | raw wall s | analyze wall s | wall ratio "
        "| raw CPU s | analyze CPU s | CPU ratio | raw peak MB | analyze peak MB | load | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        s = r["settings"]
        what = (
            f"{r.get('model', '?')}, beam {s['beam_size']}, "
            f"language {s.get('language') or 'detected'}, "
            f"{'filler prompt' if s.get('initial_prompt') else 'no prompt'}"
        )
        load = r["load"] if isinstance(r["load"], list) else [r["load"], r["load"]]
        lines.append(
            f"| {r['mode']} | {Path(r['clip']).name} ({r['duration_s']:.0f} s) | {what} | "
            f"{r['runs']} | {_spread(r['raw_s'])} | {_spread(r['analyze_s'])} | "
            f"**{r['ratio']:.2f}x** | {_spread(r['raw_cpu_s'])} | {_spread(r['analyze_cpu_s'])} | "
            f"{r['cpu_ratio']:.2f}x | {r['raw_peak_mb']} | **{r['analyze_peak_mb']}** | "
            f"{load[0]}-{load[1]} | {_verdict(r)} |"
        )
    return "\n".join(lines) + "\n"


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
    parser.add_argument("--out", type=Path)
    parser.add_argument("--matrix", action="store_true", help="engine x model x compute table")
    parser.add_argument("--runs", type=int, default=3, help="CLI mode: pairs per clip and mode")
    parser.add_argument(
        "--mode", action="append", choices=list(CLI_MODES), help="CLI mode: only these modes"
    )
    args = parser.parse_args()
    if not (args.matrix or args.worker or args.batch_worker or args.memory_worker):
        rows = cli_bench(args.clip or list(CLI_CLIPS), args.runs, args.mode or list(CLI_MODES))
        table = cli_markdown(rows, ("python benchmarks/bench.py " + " ".join(sys.argv[1:])).strip())
        out = args.out or ROOT / "benchmarks" / "CLI.md"
        out.write_text(table)
        (out.parent / ("cli.json" if args.out is None else f"{out.stem}.json")).write_text(
            json.dumps(rows, indent=1)
        )
        print(table)
        return 0
    args.out = args.out or ROOT / "benchmarks" / "RESULTS.md"
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
