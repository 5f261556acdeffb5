"""Throughput of a class batch (files per minute): one process, `--jobs 2`, `--cluster local:2`.

    nice python benchmarks/class_throughput.py                # 10 copies of the 3-minute clip
    python benchmarks/class_throughput.py --files 4 --modes 1 cluster

Each mode is the real command a teacher runs, `speechcoach analyze DIR --json --no-save`, in a
fresh process, timed from start to exit: imports, model loads in every worker, decoding,
transcription and analysis, and the cluster's start and stop, all included. The JSON of every
mode is checked to be the same (timings apart), so a faster mode is never a different result.
The machine's load average before and after each mode is printed beside it: on a shared
machine, other work changes the numbers, and the table says how loaded it was.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "tests" / "data" / "long_en_180s.opus"  # 179 s of speech, see tests/data/README.md
CLIP_S = 179.0
MODES = {"1": [], "jobs2": ["--jobs", "2"], "cluster": ["--cluster", "local:2"]}
LABELS = {"1": "1 process", "jobs2": "--jobs 2", "cluster": "--cluster local:2"}


def run_mode(mode: str, folder: Path, home: Path) -> tuple[float, list[dict], str]:
    command = [sys.executable, "-m", "speechcoach", "analyze", str(folder), "--json", "--no-save"]
    env = {**os.environ, "SPEECHCOACH_HOME": str(home)}
    started = time.perf_counter()
    done = subprocess.run(
        command + MODES[mode], capture_output=True, text=True, env=env, cwd=ROOT, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{LABELS[mode]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    records = [json.loads(line) for line in done.stdout.splitlines()]
    for record in records:
        record.pop("timings", None)
    return wall, records, done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10, help="copies of the 3-minute clip")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    parser.add_argument("--clip", type=Path, default=CLIP, help="another clip (a quick check)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="speechcoach-class-") as tmp:
        folder, home = Path(tmp) / "class", Path(tmp) / "home"
        folder.mkdir()
        home.mkdir()
        for n in range(1, args.files + 1):
            shutil.copy(args.clip, folder / f"student{n:02d}{args.clip.suffix}")
        audio_min = args.files * CLIP_S / 60
        print(
            f"{args.files} x {args.clip.name} ({audio_min:.0f} min of audio if 3-minute); "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}",
            file=sys.stderr,
        )
        print("| mode | wall s | files/min | load avg before -> after |")
        print("|---|---|---|---|")
        reference = None
        for mode in args.modes:
            before = os.getloadavg()[0]
            wall, records, _ = run_mode(mode, folder, home)
            after = os.getloadavg()[0]
            if reference is None:
                reference = records
            elif records != reference:
                diffs = [
                    f"{a.get('file')}: "
                    + ", ".join(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
                    for a, b in zip(records, reference, strict=True)
                    if a != b
                ]
                sys.exit(
                    f"{LABELS[mode]} gave different results from {LABELS[args.modes[0]]}: "
                    + "; ".join(diffs)
                )
            rate = args.files / wall * 60
            print(f"| {LABELS[mode]} | {wall:.1f} | {rate:.1f} | {before:.1f} -> {after:.1f} |")
            sys.stdout.flush()
        print(f"\nAll modes gave the same JSON for all {args.files} files (timings apart).")


if __name__ == "__main__":
    main()
