#!/usr/bin/env python3
"""Measure speechcoach's content feedback on whole self-introductions (tests/data/intros.json).

    nice python scripts/eval_intros.py --split dev            # audio: the path users run
    nice python scripts/eval_intros.py --split dev --text     # text only: the labelled sentences
    nice python scripts/eval_intros.py --split heldout        # ONCE, at the end: the held-out part

Audio mode analyses tests/data/intros/<id>.opus (voiced by scripts/make_intro_clips.py) exactly as
`speechcoach analyze` does (Whisper, delivery, content, score) and maps every evidence sentence
back to the labelled sentences by time (tests/data/intros/timings.json). Text mode gives the
content analyser the labelled sentences themselves, with the same times: no Whisper errors, and
no score.

Measures (per split; the targets are issue 10's):
- evidence precision: for each part the tool calls covered, the FIRST evidence it shows overlaps a
  sentence labelled as saying that part (target >= 0.9);
- sub-point accuracy: over every intro x component x sub-point, `checks.<sub>.present` equals the
  label (target >= 0.85; n/a when the output has no `checks`);
- coverage accuracy: over every intro x component, `covered` equals the label;
- negated parts: every part the speaker denies ("I don't have a plan yet") is not covered;
- score sanity (audio only): every intro shorter than 40 % of the target scores below 60.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA = ROOT / "tests" / "data" / "intros.json"
TIMINGS = ROOT / "tests" / "data" / "intros" / "timings.json"
COMPONENTS = ("japan", "career_change", "project", "plan")
SUBPOINTS = {
    "japan": ("career_reason", "commitment"),
    "career_change": ("growth_reason", "positive_framing"),
    "project": ("concept", "role", "tools", "result"),
    "plan": ("current", "next_step", "goal", "company_link"),
}
BLAME_PITFALLS = frozenset({"badmouth", "escape", "boring_projects", "small_company"})
TARGET_EVIDENCE_PRECISION = 0.90
TARGET_SUBPOINT_ACCURACY = 0.85
SHORT_SHARE = 0.40  # of the target duration
SHORT_MAX_SCORE = 60  # an intro under SHORT_SHARE of the target must score below this
MIN_OVERLAP_S = 0.15  # an evidence span shares at least this much time with a labelled sentence


# ---------------------------------------------------------------------------- gold labels


def gold_covered(intro: dict) -> dict[str, bool]:
    negated = {c for s in intro["sentences"] for c in s["negates"]}
    said = {c for s in intro["sentences"] for c in s["components"]}
    return {c: c in said and c not in negated for c in COMPONENTS}


def gold_checks(intro: dict) -> dict[str, dict[str, bool]]:
    covered = gold_covered(intro)
    present = {
        (c, sub)
        for s in intro["sentences"]
        for c, subs in s["checks"].items()
        for sub in subs
        if covered[c]
    }
    pitfalls = {p for s in intro["sentences"] for p in s["pitfalls"]}
    if ("career_change", "growth_reason") in present and not pitfalls & BLAME_PITFALLS:
        present.add(("career_change", "positive_framing"))
    return {c: {sub: (c, sub) in present for sub in SUBPOINTS[c]} for c in COMPONENTS}


def sentence_at(intro_times: list[list[float]], start: float, end: float) -> list[int]:
    """Indices of the labelled sentences an evidence span overlaps (by at least MIN_OVERLAP_S,
    or the single most overlapping one for a very short span)."""
    overlaps = [(min(end, e) - max(start, s), i) for i, (s, e) in enumerate(intro_times)]
    hits = [i for o, i in overlaps if o >= MIN_OVERLAP_S]
    if not hits:
        best = max(overlaps)
        hits = [best[1]] if best[0] > 0 else []
    return hits


# ---------------------------------------------------------------------------- running the tool


def analyse_text(intro: dict, times: list[list[float]], analyzers: dict) -> dict:
    from speechcoach.content import ContentAnalyzer
    from speechcoach.sentences import Sentence

    lang = intro["language"]
    if lang not in analyzers:
        analyzers[lang] = ContentAnalyzer(lang)
    sentences = [
        Sentence(s["text"], t[0], t[1], i)
        for i, (s, t) in enumerate(zip(intro["sentences"], times, strict=True))
    ]
    return analyzers[lang].analyse(sentences).to_dict()


def analyse_audio(intro: dict, analyzers: dict) -> dict:
    from speechcoach.analyze import Analyzer

    if "audio" not in analyzers:
        analyzers["audio"] = Analyzer()
    path = ROOT / "tests" / "data" / "intros" / f"{intro['id']}.opus"
    return analyzers["audio"].analyze_file(path).to_dict()


# ---------------------------------------------------------------------------- measuring


def measure(intro: dict, result: dict, times: list[list[float]], target_s: float) -> dict:
    covered = gold_covered(intro)
    checks = gold_checks(intro)
    negated = sorted({c for s in intro["sentences"] for c in s["negates"]})
    out = {"id": intro["id"], "evidence": [], "coverage": [], "subpoints": [], "problems": []}
    comps = result["components"]
    for c in COMPONENTS:
        got = comps.get(c, {})
        got_covered = bool(got.get("covered"))
        out["coverage"].append(got_covered == covered[c])
        if got_covered != covered[c]:
            out["problems"].append(f"{c}: covered={got_covered}, labelled {covered[c]}")
        evidence = got.get("evidence") or []
        if got_covered and evidence:
            first = evidence[0]
            idx = sentence_at(times, first["start"], first["end"])
            ok = any(c in intro["sentences"][i]["components"] for i in idx)
            out["evidence"].append(ok)
            if not ok:
                out["problems"].append(f"{c}: first evidence {first['text']!r} does not say it")
        got_checks = got.get("checks")
        if got_checks is not None:
            for sub in SUBPOINTS[c]:
                present = bool((got_checks.get(sub) or {}).get("present"))
                out["subpoints"].append(present == checks[c][sub])
                if present != checks[c][sub]:
                    out["problems"].append(
                        f"{c}.{sub}: present={present}, labelled {checks[c][sub]}"
                    )
    out["negated"] = [(c, not comps.get(c, {}).get("covered")) for c in negated]
    if "score" in result:
        duration = result["duration_s"]
        out["score"] = result["score"]
        out["duration_s"] = duration
        out["short"] = duration < SHORT_SHARE * target_s
        if out["short"] and result["score"] >= SHORT_MAX_SCORE:
            limit = f"< {SHORT_SHARE:.0%} of {target_s:.0f} s"
            out["problems"].append(f"{duration:.0f} s ({limit}) scored {result['score']}")
    return out


def ratio(flags: list[bool]) -> str:
    return f"{sum(flags) / len(flags):.3f} ({sum(flags)}/{len(flags)})" if flags else "n/a"


def report(rows: list[dict], split: str, mode: str, show_problems: bool) -> dict:
    ev = [f for r in rows for f in r["evidence"]]
    sub = [f for r in rows for f in r["subpoints"]]
    cov = [f for r in rows for f in r["coverage"]]
    neg = [ok for r in rows for _, ok in r["negated"]]
    short = [r for r in rows if r.get("short")]
    short_ok = [r["score"] < SHORT_MAX_SCORE for r in short]
    print(f"{split} ({mode}): {len(rows)} intros")
    print(f"  evidence precision   {ratio(ev)}   (target >= {TARGET_EVIDENCE_PRECISION})")
    print(f"  sub-point accuracy   {ratio(sub)}   (target >= {TARGET_SUBPOINT_ACCURACY})")
    print(f"  coverage accuracy    {ratio(cov)}")
    print(f"  negated not covered  {ratio(neg)}")
    if mode == "audio":
        print(f"  short (< 40 %) < 60  {ratio(short_ok)}")
        print(
            "  scores: "
            + ", ".join(f"{r['id']} {r['score']} ({r['duration_s']:.0f} s)" for r in rows)
        )
    if show_problems:
        for r in rows:
            for p in r["problems"]:
                print(f"    {r['id']}: {p}")
    summary = {
        "split": split,
        "mode": mode,
        "intros": len(rows),
        "evidence_precision": sum(ev) / len(ev) if ev else None,
        "subpoint_accuracy": sum(sub) / len(sub) if sub else None,
        "coverage_accuracy": sum(cov) / len(cov) if cov else None,
        "negated_not_covered": sum(neg) / len(neg) if neg else None,
    }
    if mode == "audio":
        summary["short_below_60"] = sum(short_ok) / len(short_ok) if short_ok else None
        summary["scores"] = {r["id"]: r["score"] for r in rows}
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("dev", "heldout"), required=True)
    parser.add_argument("--language", choices=("en", "ja"), help="only intros in this language")
    parser.add_argument("--text", action="store_true", help="labelled sentences, no audio")
    parser.add_argument("--quiet", action="store_true", help="no per-intro problems")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    data = json.loads(DATA.read_text(encoding="utf-8"))
    timings = json.loads(TIMINGS.read_text(encoding="utf-8"))
    intros = [
        i
        for i in data["intros"]
        if i["split"] == args.split and (args.language is None or i["language"] == args.language)
    ]
    analyzers: dict = {}
    mode = "text" if args.text else "audio"
    summaries = []
    for lang in ("en", "ja"):
        rows = []
        for intro in (i for i in intros if i["language"] == lang):
            times = timings[intro["id"]]["sentences"]
            result = (
                analyse_text(intro, times, analyzers)
                if args.text
                else analyse_audio(intro, analyzers)
            )
            rows.append(measure(intro, result, times, data["target_s"]))
        if rows:
            summaries.append(report(rows, f"{args.split} {lang}", mode, not args.quiet))
    if args.json:
        args.json.write_text(json.dumps(summaries, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
