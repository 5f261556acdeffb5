"""The whole analysis of one recording: decode, transcribe, measure, check content, score.

`Analyzer` holds the loaded models for the life of the process: create one and call
`analyze_file` for every file of a batch. It returns the typed record of result.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import languages, result
from .audio import Audio, load_audio
from .beside import Beside
from .config import Targets
from .delivery import DeliveryMetrics, audio_features, measure
from .errors import AudioError
from .feedback import MISSING_TIP, Tip
from .memory import return_freed_memory as _return_freed_memory
from .scoring import DELIVERY_POINTS, FILLER_POINTS, Judgement, delivery_tips, judge, score
from .sentences import split_sentences
from .transcribe import ModelPool, TranscribeOptions
from .types import Sentence, Transcript

if TYPE_CHECKING:
    from .content import Content

log = logging.getLogger(__name__)

# Stages reported to `on_stage` while one recording is analysed (the web app shows them).
STAGE_TRANSCRIBING = "transcribing"
STAGE_MEASURING = "measuring"
StageCallback = Callable[[str], None]
# A sentence more than half inside segments Whisper flagged as unreliable is never evidence.
UNRELIABLE_SENTENCE_SHARE = 0.5
MIN_WORDS = 5  # fewer recognised words than this: nothing to coach (music, noise, another language)


def _record(
    audio_path: str,
    transcript: Transcript,
    delivery: DeliveryMetrics,
    content: Content | None,
    targets: Targets,
    judgements: dict[str, Judgement],
    score_parts: dict[str, float],
    tips: list[Tip],
    sentences: list[Sentence],
    feedback_language: str,
    timings: dict[str, float],
    warnings: tuple[str, ...] = (),
) -> result.AnalysisResult:
    """The typed record of one analysis (see result.py), rounded as it is printed."""
    d = delivery
    pace_metric = languages.get(feedback_language).pace_metric
    return result.AnalysisResult(
        file=audio_path,
        language=transcript.language,
        feedback_language=feedback_language,
        engine=transcript.engine,
        model=transcript.model,
        duration_s=round(d.duration_s, 2),
        speech_s=round(d.speech_s, 2),
        voiced_s=round(d.voiced_s, 2),
        target_s=targets.duration_s,
        word_count=d.word_count,
        wpm=_round(d.wpm),
        articulation_wpm=_round(d.articulation_wpm),
        chars_per_min=_round(d.chars_per_min),
        morae_per_min=_round(d.morae_per_min),
        pace=result.Pace(metric=pace_metric, unit=languages.PACE_UNITS[pace_metric]),
        pace_windows=tuple(
            result.PaceWindow(start=w.start, end=w.end, rate=w.rate, unit=w.unit, wpm=w.wpm)
            for w in d.pace_windows
        ),
        pauses=_pauses(d),
        fillers=result.Fillers(
            count=len(d.fillers) if d.fillers_counted else None,
            per_100_words=_round(d.fillers_per_100_words),
            per_min=_round(d.fillers_per_min),
            items=tuple(
                result.FillerItem(text=f.text, start=round(f.start, 2), how=f.how)
                for f in d.fillers
            ),
            method=d.filler_method
            if d.fillers_counted
            else "not counted: no filler list for this language",
        ),
        pitch=result.Pitch(
            spread_semitones=d.pitch_spread_semitones,
            median_hz=d.pitch_median_hz,
            method="librosa.yin over voiced frames",
        ),
        loudness=result.Loudness(
            spread_db=d.loudness_spread_db, method="std of frame RMS (dB) over voiced frames"
        ),
        **_content_fields(content),
        score=_score(score_parts, content is not None),
        score_basis=_score_basis(content is not None, transcript.language),
        score_parts=score_parts,
        judgements={name: j.verdict for name, j in judgements.items()},
        bands={name: j.band.describe() for name, j in judgements.items()},
        tips=tuple(_tip(tip) for tip in tips),
        sentences=tuple(
            result.SentenceRecord(start=round(s.start, 2), end=round(s.end, 2), text=s.text)
            for s in sentences
        ),
        transcript=result.TranscriptText(
            text=transcript.text,
            segments=tuple(
                result.TranscriptSegment(
                    start=round(s.start, 2),
                    end=round(s.end, 2),
                    text=s.text.strip(),
                    unreliable=True if s.unreliable else None,
                )
                for s in transcript.segments
            ),
        ),
        unreliable_share=unreliable_share(transcript),
        warnings=warnings,
        timings={k: round(v, 3) for k, v in timings.items()},
    )


def unreliable_share(transcript: Transcript) -> float:
    """Share of the transcribed time in segments Whisper flagged as unreliable (0-1)."""
    total = sum(max(0.0, s.end - s.start) for s in transcript.segments)
    doubtful = sum(max(0.0, s.end - s.start) for s in transcript.segments if s.unreliable)
    return round(doubtful / total, 3) if total > 0 else 0.0


def unreliable_sentences(transcript: Transcript, sentences: list[Sentence]) -> set[int]:
    """Positions of the sentences that lie mostly (by time) in unreliable segments."""
    spans = [(s.start, s.end) for s in transcript.segments if s.unreliable]
    if not spans:
        return set()
    out = set()
    for i, sentence in enumerate(sentences):
        length = max(sentence.end - sentence.start, 1e-6)
        inside = sum(max(0.0, min(e, sentence.end) - max(b, sentence.start)) for b, e in spans)
        if inside / length > UNRELIABLE_SENTENCE_SHARE:
            out.add(i)
    return out


def _language_warnings(models: ModelPool, samples) -> tuple[str, ...]:
    contradicted = models.contradicted_language(samples)
    if contradicted is None:
        return ()
    detected, probability = contradicted
    forced = models.options.language
    message = (
        f"--language {forced} was given, but the speech sounds like {detected!r} "
        f"(Whisper: p={probability:.2f}); the transcript and the feedback may be wrong: "
        f"drop --language or give --language {detected}"
    )
    log.info("%s", message)  # the interfaces print it (the CLI on stderr, the report on top)
    return (message,)


def _parts_to_ask_for(content: Content | None) -> tuple[list[str], list[str], bool]:
    """Titles of the parts not covered that no content tip asks for, of those covered but
    lacking sub-points, and whether content tips ask for missing parts. A missing part has its
    own tip (what the part should say, or the sentence that denied it), more specific than a
    name in the length tip; an off-topic recording's one tip asks for all the parts."""
    if content is None:
        return [], [], False
    asked = {t.id for t in content.tips}
    not_covered = [(cid, c) for cid, c in content.components.items() if not c.covered]
    missing = [
        c.title
        for cid, c in not_covered
        if content.introduction and f"{MISSING_TIP}{cid}" not in asked
    ]
    thin = [c.title for c in content.components.values() if c.covered and c.strength == "partial"]
    return missing, thin, len(missing) < len(not_covered)


def _score(score_parts: dict[str, float], content_checked: bool) -> int:
    total = sum(score_parts.values())
    if not content_checked:  # no rubric for this language: delivery only, out of 100 all the same
        total *= 100 / (DELIVERY_POINTS - (0 if "fillers" in score_parts else FILLER_POINTS))
    return int(round(max(0.0, min(100.0, total))))


def _score_basis(content_checked: bool, language: str) -> str:
    if content_checked:
        return "content and delivery"
    return (
        f"delivery only: no content rubric for '{language}' "
        f"(speechcoach checks content in: {', '.join(languages.with_rubric())})"
    )


def _content_fields(content: Content | None) -> dict:
    if content is None:
        return {
            "components": {},
            "order": result.Order(sequence=(), ok=False, note="not checked"),
            "pitfalls": (),
        }
    d = content.to_dict()
    for cid, component in d["components"].items():
        component["title"] = content.components[cid].title
    return {
        "components": result.parse(d["components"], dict[str, result.Component], "components"),
        "order": result.parse(d["order"], result.Order, "order"),
        "pitfalls": result.parse(d["pitfalls"], tuple[result.Pitfall, ...], "pitfalls"),
    }


def _tip(tip: Tip) -> result.Tip:
    return result.Tip(
        id=tip.id,
        priority=tip.priority,
        message=tip.message,
        sentence=tip.sentence,
        start=None if tip.start is None else round(tip.start, 2),
        say_instead=tip.say_instead,
    )


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _pauses(d: DeliveryMetrics) -> result.Pauses:
    longest = max(d.pauses, key=lambda p: p.duration, default=None)
    return result.Pauses(
        count=len(d.pauses),
        long_count=len(d.long_pauses),
        total_s=round(sum(p.duration for p in d.pauses), 2),
        longest_s=round(longest.duration, 2) if longest else 0.0,
        longest_at=longest.start if longest else None,
        long=tuple(
            result.LongPause(start=p.start, end=p.end, duration=round(p.duration, 2))
            for p in d.long_pauses
        ),
        min_pause_s=d.min_pause_s,
        long_pause_s=d.long_pause_s,
    )


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

    def analyze_file(
        self, path: Path, on_stage: StageCallback | None = None
    ) -> result.AnalysisResult:
        started = time.perf_counter()
        audio = load_audio(Path(path))
        return self.analyze_audio(audio, on_stage, decode_s=time.perf_counter() - started)

    def analyze_audio(
        self,
        audio: Audio,
        on_stage: StageCallback | None = None,
        decode_s: float | None = None,
    ) -> result.AnalysisResult:
        """`on_stage` (if given) is called with STAGE_TRANSCRIBING, then STAGE_MEASURING."""
        targets = self.options.targets
        started = time.perf_counter()
        if on_stage:
            on_stage(STAGE_TRANSCRIBING)
        # The audio-only measures (pitch, held voice) run beside the decoding,
        # on the core time CTranslate2 leaves idle; started once the features are computed,
        # so they never add to the transcription's memory peak.
        features = Beside(audio_features, audio.samples)
        transcript = self.models.transcribe(audio.samples, on_decoding=features.start)
        warnings = _language_warnings(self.models, audio.samples)
        _return_freed_memory()
        transcribed = time.perf_counter()
        if on_stage:
            on_stage(STAGE_MEASURING)
        sentences = split_sentences(transcript)
        _check_enough_speech(audio, transcript, sentences)
        delivery = measure(audio.samples, transcript, sentences, targets, features.result())
        _check_reliable(audio, transcript, delivery.voiced_s)
        measured = time.perf_counter()
        # Feedback (content and delivery tips) in the language mostly spoken.
        feedback = languages.feedback_language(transcript.language, delivery.script_share)
        content_analyzer = self._content_for(feedback)
        unreliable = unreliable_sentences(transcript, sentences)
        content = (
            content_analyzer.analyse(sentences, unreliable=unreliable) if content_analyzer else None
        )
        judgements = judge(delivery, transcript.language, targets)
        complete = content is not None and all(c.covered for c in content.components.values())
        missing, thin, asked = _parts_to_ask_for(content)
        tips = delivery_tips(
            delivery, judgements, targets, sentences, feedback, complete, missing, thin, asked
        )
        tips += list(content.tips if content else [])
        for pack in languages.spoken(transcript.language, delivery.script_share):
            tips += pack.extra_tips(sentences)
        tips.sort(key=lambda tip: -tip.priority)
        done = time.perf_counter()
        timings = {
            "transcribe": transcribed - started,
            "delivery": measured - transcribed,
            "content": done - measured,
        }
        if decode_s is not None:
            timings["decode"] = decode_s
        return _record(
            str(audio.path),
            transcript,
            delivery,
            content,
            targets,
            judgements,
            score(delivery, judgements, content.to_dict() if content else None, targets),
            tips,
            sentences,
            feedback,
            timings,
            warnings,
        )

    def _content_for(self, language: str):
        """One content analyser (rubric + embedding model) per language, loaded on first use."""
        if language not in self._content:
            from .content import ContentAnalyzer

            if language in languages.with_rubric():
                self._content[language] = ContentAnalyzer(language)
            else:
                log.info("no content rubric for language %r; only delivery is measured", language)
                self._content[language] = None
        return self._content[language]


def _check_reliable(audio: Audio, transcript: Transcript, voice_s: float) -> None:
    """AudioError when Whisper could not hear the voice reliably (see usable.py)."""
    from . import usable

    reason = usable.unusable_reason(
        transcript.words, voice_s, languages.get(transcript.language).spaced
    )
    if reason:
        raise AudioError(f"{audio.path}: {usable.message(reason)}")


def _check_enough_speech(audio: Audio, transcript: Transcript, sentences: list) -> None:
    """AudioError when too little was recognised to coach (music, noise, another language)."""
    if (
        sum(len(s.text.split()) for s in sentences) >= MIN_WORDS
        or len(transcript.text) >= MIN_WORDS * 3
    ):
        return
    from . import usable, vad

    voice_s = vad.detect(audio.samples).active_s
    if voice_s >= usable.MIN_VOICE_S:  # a voice was there: Whisper could not make it out
        words = len(transcript.text.split())
        raise AudioError(
            f"{audio.path}: "
            + usable.message(f"{voice_s:.0f} s of voice but only {words} words recognised")
        )
    heard = (
        f"only {transcript.text.strip()!r} was recognised"
        if transcript.text.strip()
        else "no speech was recognised"
    )
    raise AudioError(
        f"{audio.path}: {heard} in {audio.duration_s:.0f} s of audio; too little to coach: "
        "record your whole introduction, close to the microphone"
    )
