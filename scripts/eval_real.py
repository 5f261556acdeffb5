"""Evaluate speechcoach on real human recordings (tests/data/real/), clean and under noise.

    python scripts/eval_real.py                      # dev clips, the default settings
    python scripts/eval_real.py --fast               # the same with --fast (tiny.en)
    python scripts/eval_real.py --split heldout      # the held-out clips: score them ONCE
    python scripts/eval_real.py --conditions clean --json out.json

Every clip runs through the same `Analyzer` that `speechcoach analyze` uses (language
detection on unless --language), once per condition:

- `clean`: the recording as it is;
- `white15`: white noise added at 15 dB SNR;
- `babble15`: babble (four other speakers of the real set, summed) added at 15 dB SNR.

SNR is the clip's active speech level (the mean power of its 10 ms frames more than 20 dB above
its noise floor) over the added noise's mean power; the noise is seeded, so runs repeat.

Measured per clip and condition (all normalisation is applied to both sides):
- WER (English): words lower-cased, punctuation removed, numbers written out as said
  (speechcoach.numbers); the reference's and the transcript's fillers are left out of WER;
- CER and kana CER (Japanese): characters (kana + kanji, after NFKC, punctuation removed), and
  the katakana reading of both sides from SudachiPy (speechcoach.japanese.reading);
- pace: the tool's words per minute (Japanese: morae per minute) against the reference's:
  reference words (morae of the reference reading) over the clip's reference speaking span
  (`ref_span` in the manifest: energy above the clean original's noise floor);
- span: the tool's speaking span start/end against `ref_span`;
- pauses: of the silent joins between utterances (`gaps`), the share the tool reports as a pause
  (a pause overlapping the join by at least half the join's length);
- fillers: fillers the tool found against those the reference marks (uh, um, hm, ...), by count;
  on clips whose reference has none, every filler found is an invented one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT / "tests" / "data" / "real"
SAMPLE_RATE = 16000
CONDITIONS = ("clean", "white15", "babble15")
SNR_DB = 15.0
BABBLE_TALKERS = 4
SEED = 11
ACTIVE_ABOVE_FLOOR_DB = 20.0
PAUSE_OVERLAP = 0.5  # a join counts as found when a pause covers half of it
# Reference fillers: what the references mark as filled pauses (English) or as fillers (Japanese).
REF_FILLER = re.compile(r"^(u+h+|u+m+|h+m+|m{2,}|e+r+m*|a+h+)$")
LOW_WORD_P = 0.3
PACE_CLIP_MIN_S = 10.0  # the "Done when" pace criterion is over clips of 10 s or more
PACE_TOLERANCE = 0.08
NOISE_PACE_TOLERANCE = 0.10


# ------------------------------------------------------------------ text measures


def _edits(ref: list, hyp: list) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def english_words(text: str) -> list[str]:
    from speechcoach.numbers import expand_numbers

    text = unicodedata.normalize("NFKC", text).lower().replace("-", " ")
    text = re.sub(r"[^\w\s'%$€£.,]", " ", text)
    words = expand_numbers(text).split()
    words = [re.sub(r"[^\w']", "", w).strip("'") for w in words]
    return [w for w in words if w and not REF_FILLER.match(w)]


def wer(ref: str, hyp: str) -> float:
    r = english_words(ref)
    return _edits(r, english_words(hyp)) / max(1, len(r))


JA_CHAR = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u30fc\u3005\u4e00-\u9fffA-Za-z0-9]")


def ja_chars(text: str) -> list[str]:
    from speechcoach.languages.ja.text import to_kanji_numerals

    return JA_CHAR.findall(to_kanji_numerals(unicodedata.normalize("NFKC", text)))


def ja_reading(text: str) -> list[str]:
    from speechcoach.languages.ja.text import reading

    return [c for c in reading(text) if c != "ー"]  # long-vowel marks vary with spelling


def cer(ref: str, hyp: str) -> float:
    r = ja_chars(ref)
    return _edits(r, ja_chars(hyp)) / max(1, len(r))


def kana_cer(ref: str, hyp: str) -> float:
    r = ja_reading(ref)
    return _edits(r, ja_reading(hyp)) / max(1, len(r))


def reference_units(clip: dict) -> int:
    """Reference words (English, numbers as said, fillers included: they are spoken) or morae."""
    if clip["language"] == "ja":
        from speechcoach.languages.ja.text import count_morae

        return count_morae(clip["reference"])
    from speechcoach.numbers import expand_numbers

    text = re.sub(r"[^\w\s']", " ", clip["reference"].lower())
    return len(expand_numbers(text).split())


def reference_fillers(clip: dict) -> int:
    words = re.sub(r"[^\w\s']", " ", clip["reference"].lower()).split()
    return sum(1 for w in words if REF_FILLER.match(w))


# ------------------------------------------------------------------ noise


def active_power(x: np.ndarray) -> float:
    frame = SAMPLE_RATE // 100
    n = len(x) // frame
    power = np.mean(x[: n * frame].reshape(n, frame).astype(np.float64) ** 2, axis=1)
    db = 10 * np.log10(power + 1e-12)
    floor = np.percentile(db[db > -100], 10) if np.any(db > -100) else -100.0
    active = power[db > floor + ACTIVE_ABOVE_FLOOR_DB]
    return float(np.mean(active)) if active.size else float(np.mean(power))


def babble_bank(clips: list[dict]) -> list[np.ndarray]:
    from speechcoach.audio import load_audio

    return [
        load_audio(DATA / c["file"]).samples
        for c in clips
        if c["language"] == "en" and c["duration_s"] > 60
    ]


def add_noise(
    x: np.ndarray, kind: str, clip: dict, bank: list[np.ndarray], rng: np.random.Generator
) -> np.ndarray:
    if kind == "clean":
        return x
    if kind.startswith("white"):
        noise = rng.standard_normal(len(x))
    else:
        # Other speakers only (never the clip's own voice), each from a random offset, looped.
        own = next((i for i, b in enumerate(bank) if len(b) == len(x)), None)
        talkers = [b for i, b in enumerate(bank) if i != own]
        picks = rng.choice(len(talkers), size=min(BABBLE_TALKERS, len(talkers)), replace=False)
        noise = np.zeros(len(x))
        for k in picks:
            t = talkers[k]
            start = int(rng.integers(0, len(t)))
            idx = (start + np.arange(len(x))) % len(t)
            noise += t[idx] / np.sqrt(np.mean(t.astype(np.float64) ** 2) + 1e-12)
    noise *= np.sqrt(active_power(x) / 10 ** (SNR_DB / 10) / (np.mean(noise**2) + 1e-12))
    return np.clip(x + noise, -1.0, 1.0).astype(np.float32)


# ------------------------------------------------------------------ one run


@dataclass
class Row:
    clip: str
    split: str
    language: str
    condition: str
    duration_s: float
    refused: str | None = None
    wer: float | None = None
    cer: float | None = None
    kana_cer: float | None = None
    rate: float | None = None  # tool: wpm (English) or morae/min (Japanese)
    ref_rate: float | None = None
    rate_error: float | None = None  # (tool - reference) / reference
    span_start_err: float | None = None
    span_end_err: float | None = None
    gaps: int = 0
    gaps_found: int = 0
    pauses: int = 0
    fillers_ref: int = 0
    fillers_found: int = 0
    fillers_transcript: int = 0
    fillers_acoustic: int = 0
    model: str = ""
    median_word_p: float | None = None
    low_p_share: float | None = None  # share of words under LOW_WORD_P
    seconds: float = 0.0
    transcript: str = ""


def _filler_how(filler) -> str:
    return getattr(filler, "how", "transcript")


def transcribe_and_measure(analyzer, audio):
    """The analyzer's own steps up to the delivery metrics (content is not evaluated here):
    transcription, sentences, the too-little-speech and reliability refusals, measurement."""
    from speechcoach import analyze
    from speechcoach import delivery as delivery_module
    from speechcoach.delivery import measure
    from speechcoach.sentences import split_sentences

    transcript = analyzer.models.transcribe(audio.samples)
    sentences = split_sentences(transcript)
    if hasattr(delivery_module, "audio_features"):  # measured beside Whisper (issue 11 #8)
        from speechcoach.beside import Beside

        features = Beside(delivery_module.audio_features, audio.samples)
        analyze._check_enough_speech(audio, transcript, sentences)
        delivery = measure(
            audio.samples, transcript, sentences, analyzer.options.targets, features.result()
        )
    else:
        analyze._check_enough_speech(audio, transcript, sentences)
        delivery = measure(audio.samples, transcript, sentences, analyzer.options.targets)
    if hasattr(analyze, "_check_reliable"):  # absent before unusable audio was refused
        analyze._check_reliable(audio, transcript, delivery.voiced_s)
    return transcript, delivery


def run_clip(analyzer, clip: dict, condition: str, bank, rng) -> Row:
    from speechcoach.audio import Audio, load_audio
    from speechcoach.errors import SpeechcoachError

    path = DATA / clip["file"]
    samples = add_noise(load_audio(path).samples, condition, clip, bank, rng)
    row = Row(
        clip["file"], clip["split"], clip["language"], condition, round(len(samples) / 16000, 1)
    )
    lo, hi = clip["ref_span"]
    row.ref_rate = 60.0 * reference_units(clip) / (hi - lo)
    row.fillers_ref = reference_fillers(clip)
    row.gaps = len(clip["gaps"])
    started = time.perf_counter()
    try:
        t, d = transcribe_and_measure(analyzer, Audio(path, samples))
    except SpeechcoachError as exc:
        row.refused = str(exc).split(": ", 1)[-1][:120]
        row.seconds = round(time.perf_counter() - started, 1)
        return row
    row.seconds = round(time.perf_counter() - started, 1)
    row.model = t.model
    row.transcript = t.text
    probs = [w.probability for w in t.words if w.text.strip()]
    if probs:
        row.median_word_p = round(float(np.median(probs)), 3)
        row.low_p_share = round(sum(p < LOW_WORD_P for p in probs) / len(probs), 3)
    if clip["language"] == "ja":
        row.cer, row.kana_cer = cer(clip["reference"], t.text), kana_cer(clip["reference"], t.text)
        row.rate = d.morae_per_min
    else:
        row.wer = wer(clip["reference"], t.text)
        row.rate = d.wpm
    if row.rate:
        row.rate_error = (row.rate - row.ref_rate) / row.ref_rate
    row.span_start_err = round(d.speech_start - lo, 2)
    row.span_end_err = round(d.speech_end - hi, 2)
    row.pauses = len(d.pauses)
    for g0, g1 in clip["gaps"]:
        covered = sum(max(0.0, min(p.end, g1) - max(p.start, g0)) for p in d.pauses)
        row.gaps_found += int(covered >= PAUSE_OVERLAP * (g1 - g0))
    row.fillers_found = len(d.fillers)
    row.fillers_transcript = sum(1 for f in d.fillers if _filler_how(f) == "transcript")
    row.fillers_acoustic = sum(1 for f in d.fillers if _filler_how(f) == "acoustic")
    return row


# ------------------------------------------------------------------ summary


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def _span_ok(r: Row, tolerance_s: float = 0.3) -> bool:
    return abs(r.span_start_err) <= tolerance_s and abs(r.span_end_err) <= tolerance_s


def summarise(rows: list[Row]) -> dict:
    out: dict = {}
    by_cond: dict[str, list[Row]] = {}
    for r in rows:
        by_cond.setdefault(r.condition, []).append(r)
    clean = {r.clip: r for r in by_cond.get("clean", [])}
    for cond, rs in by_cond.items():
        ok = [r for r in rs if not r.refused]
        en = [r.wer for r in ok if r.wer is not None]
        non_native = [r.wer for r in ok if r.wer is not None and r.clip.startswith("speechocean")]
        ja = [r for r in ok if r.cer is not None]
        paced = [r for r in rs if r.duration_s >= PACE_CLIP_MIN_S]
        within = [
            r for r in paced if r.rate_error is not None and abs(r.rate_error) <= PACE_TOLERANCE
        ]
        gaps = sum(r.gaps for r in ok)
        found = sum(r.gaps_found for r in ok)
        ref_f = sum(r.fillers_ref for r in ok if r.fillers_ref)
        hit_f = sum(min(r.fillers_found, r.fillers_ref) for r in ok if r.fillers_ref)
        invented = sum(r.fillers_found for r in ok if not r.fillers_ref)
        s = {
            "clips": len(rs),
            "refused": sum(1 for r in rs if r.refused),
            "median_wer_non_native": statistics.median(non_native) if non_native else None,
            "mean_wer_en": statistics.mean(en) if en else None,
            "mean_cer_ja": statistics.mean(r.cer for r in ja) if ja else None,
            "mean_kana_cer_ja": statistics.mean(r.kana_cer for r in ja) if ja else None,
            "pace_within_8pct": f"{len(within)}/{len(paced)}",
            "median_abs_rate_error": statistics.median(
                abs(r.rate_error) for r in ok if r.rate_error is not None
            )
            if any(r.rate_error is not None for r in ok)
            else None,
            "span_within_0.3s": f"{sum(1 for r in ok if _span_ok(r))}/{len(ok)}",
            "gaps_found": f"{found}/{gaps}",
            "gap_recall": found / gaps if gaps else None,
            "filler_recall": hit_f / ref_f if ref_f else None,
            "fillers": f"{hit_f}/{ref_f} found, {invented} invented on filler-free clips",
        }
        if cond != "clean" and clean:
            moves = [
                abs(r.rate - clean[r.clip].rate) / clean[r.clip].rate
                for r in ok
                if r.rate and r.clip in clean and clean[r.clip].rate
            ]
            s["max_pace_move_vs_clean"] = max(moves) if moves else None
            s["pace_moves_within_10pct"] = (
                f"{sum(1 for m in moves if m <= NOISE_PACE_TOLERANCE)}/{len(moves)}"
            )
        out[cond] = s
    return out


def markdown(rows: list[Row], summary: dict, header: str) -> str:
    lines = [
        header,
        "",
        "| clip | condition | model | WER | CER / kana CER | rate (ref) | rate error "
        "| span err s | joins found | pauses | fillers found / ref (acoustic) | s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.refused:
            lines.append(
                f"| {r.clip} | {r.condition} | | refused: {r.refused} |||||||| {r.seconds} |"
            )
            continue
        cer_s = f"{_pct(r.cer)} / {_pct(r.kana_cer)}" if r.cer is not None else "-"
        rate = f"{r.rate:.0f} ({r.ref_rate:.0f})" if r.rate else f"- ({r.ref_rate:.0f})"
        lines.append(
            f"| {r.clip} | {r.condition} | {r.model} | {_pct(r.wer)} | {cer_s} | {rate} | "
            f"{_pct(r.rate_error)} | {r.span_start_err:+.2f} / {r.span_end_err:+.2f} | "
            f"{r.gaps_found}/{r.gaps} | {r.pauses} | {r.fillers_found}/{r.fillers_ref} "
            f"({r.fillers_acoustic}) | {r.seconds} |"
        )
    lines += ["", "| condition | summary |", "|---|---|"]
    for cond, s in summary.items():
        parts = []
        for k, v in s.items():
            parts.append(f"{k}: {_pct(v) if isinstance(v, float) else v}")
        lines.append(f"| {cond} | {'; '.join(parts)} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--split", default="dev", choices=("dev", "heldout", "all"))
    parser.add_argument("--conditions", default=",".join(CONDITIONS))
    parser.add_argument("--model", help="a model name (default: the tool's default)")
    parser.add_argument("--fast", action="store_true", help="as `speechcoach analyze --fast`")
    parser.add_argument("--language", help="skip detection (default: detect, as users run it)")
    parser.add_argument(
        "--filler-prompt", choices=("on", "off"), help="force filler-keeping decoding on or off"
    )
    parser.add_argument("--clip", action="append", help="only these clip files")
    parser.add_argument("--json", type=Path, help="write every row and the summary here")
    parser.add_argument("--out", type=Path, help="write the markdown table here")
    args = parser.parse_args()

    from speechcoach.analyze import AnalyzeOptions, Analyzer
    from speechcoach.transcribe import TranscribeOptions

    manifest = json.loads((DATA / "manifest.json").read_text("utf-8"))["clips"]
    clips = [
        c
        for c in manifest
        if (args.split == "all" or c["split"] == args.split)
        and (not args.clip or c["file"] in args.clip)
    ]
    options = {"model": args.model, "language": args.language}
    if args.fast:
        options["fast"] = True
    if args.filler_prompt:
        options["filler_prompt"] = args.filler_prompt == "on"
    try:
        transcribe = TranscribeOptions(**options)
    except TypeError:  # a version of speechcoach without --fast
        options.pop("fast", None)
        options["model"] = options["model"] or ("tiny.en" if args.fast else None)
        transcribe = TranscribeOptions(**options)
    analyzer = Analyzer(AnalyzeOptions(transcribe=transcribe))
    bank = babble_bank(manifest)
    rows = []
    for cond in args.conditions.split(","):
        rng = np.random.default_rng(SEED)
        for clip in clips:
            row = run_clip(analyzer, clip, cond, bank, rng)
            print(
                f"{cond:9s} {clip['file']:32s} wer={_pct(row.wer)} cer={_pct(row.kana_cer)} "
                f"rate_err={_pct(row.rate_error)} joins={row.gaps_found}/{row.gaps} "
                f"fillers={row.fillers_found}/{row.fillers_ref} p={row.median_word_p} "
                f"low={row.low_p_share} {row.refused or ''} {row.seconds}s",
                file=sys.stderr,
            )
            rows.append(row)
    summary = summarise(rows)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    header = (
        f"Command: `python scripts/eval_real.py {' '.join(sys.argv[1:])}`; split {args.split}; "
        f"settings {options}; load average at the end {load:.1f} on {os.cpu_count()} cores."
    )
    table = markdown(rows, summary, header)
    if args.out:
        args.out.write_text(table, "utf-8")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"rows": [r.__dict__ for r in rows], "summary": summary},
                ensure_ascii=False,
                indent=1,
            ),
            "utf-8",
        )
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
