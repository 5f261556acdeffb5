"""The whole analysis of one recording: decode, transcribe, measure, check content, score.

`Analyzer` holds the loaded models for the life of the process: create one and call
`analyze_file` for every file of a batch.
"""

from __future__ import annotations

import ctypes
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from .audio import Audio, load_audio
from .config import Targets
from .delivery import DeliveryMetrics, measure
from .errors import AudioError
from .feedback import Tip
from .scoring import DELIVERY_POINTS, FILLER_POINTS, Judgement, delivery_tips, judge, score
from .sentences import Sentence, split_sentences
from .transcribe import ModelPool, TranscribeOptions, Transcript

log = logging.getLogger(__name__)

TOP_TIPS = 3  # the report leads with the three things to fix first
# Stages reported to `on_stage` while one recording is analysed (the web app shows them).
STAGE_TRANSCRIBING = "transcribing"
STAGE_MEASURING = "measuring"
StageCallback = Callable[[str], None]
MIN_WORDS = 5  # fewer recognised words than this: nothing to coach (music, noise, another language)


@dataclass
class Analysis:
    """The result for one recording. `to_dict()` is the JSON schema documented in the README."""

    file: str
    transcript: Transcript
    sentences: list[Sentence]
    delivery: DeliveryMetrics
    content: dict | None
    targets: Targets
    judgements: dict[str, Judgement]
    score_parts: dict[str, float]
    tips: list[Tip]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def score(self) -> int:
        total = sum(self.score_parts.values())
        if (
            self.content is None
        ):  # no rubric for this language: delivery only, out of 100 all the same
            total *= 100 / (
                DELIVERY_POINTS - (0 if "fillers" in self.score_parts else FILLER_POINTS)
            )
        return int(round(max(0.0, min(100.0, total))))

    @property
    def score_basis(self) -> str:
        if self.content is not None:
            return "content and delivery"
        from .content import supported_languages

        return (
            f"delivery only: no content rubric for '{self.transcript.language}' "
            f"(speechcoach checks content in: {', '.join(supported_languages())})"
        )

    def to_dict(self) -> dict:
        d, t = self.delivery, self.targets
        content = self.content or {
            "components": {},
            "order": {"sequence": [], "ok": False, "note": "not checked"},
            "pitfalls": [],
        }
        return {
            "file": self.file,
            "language": self.transcript.language,
            "engine": self.transcript.engine,
            "model": self.transcript.model,
            "duration_s": round(d.duration_s, 2),
            "speech_s": round(d.speech_s, 2),
            "voiced_s": round(d.voiced_s, 2),
            "target_s": t.duration_s,
            "word_count": d.word_count,
            "wpm": _round(d.wpm),
            "articulation_wpm": _round(d.articulation_wpm),
            "chars_per_min": _round(d.chars_per_min),
            "morae_per_min": _round(d.morae_per_min),
            "pace_windows": [
                {"start": w.start, "end": w.end, "rate": w.rate, "unit": w.unit, "wpm": w.wpm}
                for w in d.pace_windows
            ],
            "pauses": _pauses_dict(d),
            "fillers": {
                "count": len(d.fillers) if d.fillers_counted else None,
                "per_100_words": _round(d.fillers_per_100_words),
                "per_min": _round(d.fillers_per_min),
                "items": [{"text": f.text, "start": round(f.start, 2)} for f in d.fillers],
                "method": d.filler_method
                if d.fillers_counted
                else "not counted: no filler list for this language",
            },
            "pitch": {
                "spread_semitones": d.pitch_spread_semitones,
                "median_hz": d.pitch_median_hz,
                "method": "librosa.yin over voiced frames",
            },
            "loudness": {
                "spread_db": d.loudness_spread_db,
                "method": "std of frame RMS (dB) over voiced frames",
            },
            "components": content["components"],
            "order": content["order"],
            "pitfalls": content["pitfalls"],
            "score": self.score,
            "score_basis": self.score_basis,
            "score_parts": self.score_parts,
            "judgements": {name: j.verdict for name, j in self.judgements.items()},
            "bands": {name: j.band.describe() for name, j in self.judgements.items()},
            "tips": [tip.to_dict() for tip in self.tips],
            "sentences": [
                {"start": round(s.start, 2), "end": round(s.end, 2), "text": s.text}
                for s in self.sentences
            ],
            "transcript": {
                "text": self.transcript.text,
                "segments": [
                    {"start": round(s.start, 2), "end": round(s.end, 2), "text": s.text.strip()}
                    for s in self.transcript.segments
                ],
            },
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


def _content_language(language: str, japanese_share: float | None) -> str:
    """The rubric for a mixed intro follows the language mostly spoken, not Whisper's label
    (an English intro with a Japanese closing may come back labelled "ja")."""
    if japanese_share is None:
        return language
    if japanese_share >= 0.5:
        return "ja"
    return "en" if language == "ja" else language


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _pauses_dict(d: DeliveryMetrics) -> dict:
    longest = max(d.pauses, key=lambda p: p.duration, default=None)
    return {
        "count": len(d.pauses),
        "long_count": len(d.long_pauses),
        "total_s": round(sum(p.duration for p in d.pauses), 2),
        "longest_s": round(longest.duration, 2) if longest else 0.0,
        "longest_at": longest.start if longest else None,
        "long": [
            {"start": p.start, "end": p.end, "duration": round(p.duration, 2)}
            for p in d.long_pauses
        ],
        "min_pause_s": d.min_pause_s,
        "long_pause_s": d.long_pause_s,
    }


def _return_freed_memory() -> None:
    """Hand the transcription's freed buffers back to the OS (glibc only).

    Whisper's features and decoder buffers for a 3-minute clip (~100 MB) are freed after
    transcription but stay in glibc's arenas, so librosa (~200 MB with scipy and numba) and the
    embedding model would be loaded on top of them: trimming keeps one analysis of a 3-minute
    intro near 430 MB peak instead of 520 (benchmarks/bench.py). For the same reason librosa is
    not preloaded while Whisper runs: that saved ~1 s of a cold start but added its 200 MB to
    the transcription's own peak.
    """
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to do
        pass


@dataclass(frozen=True)
class AnalyzeOptions:
    transcribe: TranscribeOptions = field(default_factory=TranscribeOptions)
    targets: Targets = field(default_factory=Targets)


class Analyzer:
    """Analyses recordings with models loaded once per process."""

    def __init__(self, options: AnalyzeOptions | None = None):
        self.options = options or AnalyzeOptions()
        self.models = ModelPool(self.options.transcribe)
        self._content: dict[str, object] = {}

    def variant(self, *, language: str | None = None, target_s: float | None = None) -> Analyzer:
        """The same loaded models with another language or target length (one request of the
        web app): nothing is loaded twice."""
        transcribe = self.options.transcribe
        if language:
            transcribe = replace(transcribe, language=language)
        targets = self.options.targets
        if target_s:
            targets = replace(targets, duration_s=target_s)
        other = Analyzer(AnalyzeOptions(transcribe=transcribe, targets=targets))
        other.models._engines = self.models._engines  # the same dict: a model loaded once
        other._content = self._content
        return other

    def analyze_file(self, path: Path, on_stage: StageCallback | None = None) -> Analysis:
        started = time.perf_counter()
        audio = load_audio(Path(path))
        decode_s = time.perf_counter() - started
        analysis = self.analyze_audio(audio, on_stage)
        analysis.timings["decode"] = decode_s
        return analysis

    def analyze_audio(self, audio: Audio, on_stage: StageCallback | None = None) -> Analysis:
        """`on_stage` (if given) is called with STAGE_TRANSCRIBING, then STAGE_MEASURING."""
        targets = self.options.targets
        started = time.perf_counter()
        if on_stage:
            on_stage(STAGE_TRANSCRIBING)
        transcript = self.models.transcribe(audio.samples)
        _return_freed_memory()
        transcribed = time.perf_counter()
        if on_stage:
            on_stage(STAGE_MEASURING)
        sentences = split_sentences(transcript)
        if (
            sum(len(s.text.split()) for s in sentences) < MIN_WORDS
            and len(transcript.text) < MIN_WORDS * 3
        ):
            heard = (
                f"only {transcript.text.strip()!r} was recognised"
                if transcript.text.strip()
                else "no speech was recognised"
            )
            raise AudioError(
                f"{audio.path}: {heard} in {audio.duration_s:.0f} s of audio; too little to coach: "
                "record your whole introduction, close to the microphone"
            )
        delivery = measure(audio.samples, transcript, sentences, targets)
        measured = time.perf_counter()
        # Feedback (content and delivery tips) in the language mostly spoken.
        feedback_language = _content_language(transcript.language, delivery.japanese_share)
        content = self._content_for(feedback_language)
        content_result = content.analyse(sentences) if content else None
        judgements = judge(delivery, transcript.language, targets)
        content_dict = content_result.to_dict() if content_result else None
        complete = bool(content_dict) and all(
            c["covered"] for c in content_dict["components"].values()
        )
        tips = delivery_tips(delivery, judgements, targets, sentences, feedback_language, complete)
        tips += list(content_result.tips if content_result else [])
        if delivery.japanese_share:  # a polite Japanese intro that slips into だ/である
            from .japanese import register_tips

            tips += register_tips(sentences)
        tips.sort(key=lambda tip: -tip.priority)
        done = time.perf_counter()
        return Analysis(
            file=str(audio.path),
            transcript=transcript,
            sentences=sentences,
            delivery=delivery,
            content=content_dict,
            targets=targets,
            judgements=judgements,
            score_parts=score(delivery, judgements, content_dict, targets),
            tips=tips,
            timings={
                "transcribe": transcribed - started,
                "delivery": measured - transcribed,
                "content": done - measured,
            },
        )

    def _content_for(self, language: str):
        """One content analyser (rubric + embedding model) per language, loaded on first use."""
        if language not in self._content:
            from .content import ContentAnalyzer, supported_languages

            if language in supported_languages():
                self._content[language] = ContentAnalyzer(language)
            else:
                log.info("no content rubric for language %r; only delivery is measured", language)
                self._content[language] = None
        return self._content[language]
