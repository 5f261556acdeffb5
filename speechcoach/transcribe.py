"""Speech to text with word timestamps, behind a small engine interface.

`Engine.transcribe(samples, language)` takes 16 kHz mono float32 and returns a `Transcript`.
The engines live in `engines/` behind a lazy registry: faster-whisper (CTranslate2, int8 on
CPU) is the default, openai-whisper the second. `ModelPool` keeps every loaded model for the
whole process,
so a batch of a hundred files loads each model once.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from . import engines, languages, longform, loops
from .engines import DEFAULT_ENGINE
from .errors import ModelError
from .models import default_model
from .types import Transcript

if TYPE_CHECKING:  # numpy only in annotations: `speechcoach history` never loads it
    import numpy as np

log = logging.getLogger(__name__)

BEAM_SIZE = 5  # Whisper's own default; greedy (1) is ~2x faster but less accurate on accents
# A forced --language is contradicted when Whisper hears another language this surely.
CONTRADICTION_P = 0.8
# Languages speechcoach coaches: the packs with a content rubric (languages/<code>/). Whisper's
# detection hears accented English as the speaker's first language: on real Mandarin-L1 English
# it said zh (p=0.41, en 0.24), and base then transcribed Chinese. A language outside these wins
# only when Whisper is sure.
COACHED_LANGUAGES = tuple(languages.with_rubric())
OTHER_LANGUAGE_MIN_P = 0.8
MIN_COACHED_P = 0.02  # ... and a coached language must be at least this plausible to take over
# Filler-keeping decoding: an initial prompt written with fillers can make Whisper write the
# um/uh it otherwise drops. Off by default: on the real development clips (scripts/eval_real.py
# --filler-prompt on) base wrote no more fillers with it (3 of 6 either way on mfa_uhum) and WER
# on non-native speech rose (speaker 9623: 62.9 % vs 58.9 %). Allowed only with a multilingual
# model, in a language whose pack has a prompt (English: languages/en); never with tiny.en, which
# then invents whole closing sentences.


@dataclass(frozen=True)
class TranscribeOptions:
    """How to run Whisper. Defaults are the ones the benchmark measured."""

    engine: str = DEFAULT_ENGINE
    model: str | None = None  # None: base (tiny.en with fast=True)
    language: str | None = None  # None: detect (with the model that transcribes)
    fast: bool = False  # tiny.en for English: faster on old laptops, less accurate on accents
    filler_prompt: bool = False  # the pack's prompt (see above): measured not to help, so off
    device: str = "auto"  # "cpu", "cuda" or "auto"
    compute_type: str = "int8"  # faster-whisper only; openai-whisper uses fp32 on CPU
    beam_size: int = BEAM_SIZE
    cpu_threads: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))


class Engine(Protocol):
    """A loaded Whisper model. Implementations: FasterWhisperEngine, OpenAIWhisperEngine."""

    engine_name: str
    model_name: str
    english_only: bool

    def transcribe(
        self,
        samples: np.ndarray,
        language: str | None,
        initial_prompt: str | None = None,
        on_decoding: Callable[[], None] | None = None,
    ) -> Transcript:
        """`on_decoding`, if given, is called once the features are computed, when decoding
        starts (the analyzer then measures the audio beside it)."""
        ...

    def detect_language(self, samples: np.ndarray) -> tuple[str, float]: ...

    def language_probabilities(self, samples: np.ndarray) -> dict[str, float]: ...


class ModelPool:
    """Loads each (engine, model) once per process and hands out the same instance after."""

    def __init__(self, options: TranscribeOptions):
        self.options = options
        self._engines: dict[tuple[str, str], Engine] = {}
        self.load_seconds = 0.0

    def get(self, model: str) -> Engine:
        key = (self.options.engine, model)
        if key not in self._engines:
            started = time.perf_counter()
            self._engines[key] = _create_engine(self.options.engine, model, self.options)
            self.load_seconds += time.perf_counter() - started
        return self._engines[key]

    def transcribe(
        self, samples: np.ndarray, on_decoding: Callable[[], None] | None = None
    ) -> Transcript:
        """Detect the language with the model that transcribes (one model in memory), then
        transcribe. `on_decoding`: see `Engine.transcribe` (not called for a recording long
        enough to be transcribed in windows)."""
        language = self.options.language
        engine = self.get(self.options.model or default_model(language, self.options.fast))
        if engine.english_only and language not in (None, "en"):
            raise ModelError(
                f"model {engine.model_name} understands English only; drop --model or "
                f"pick a multilingual one for --language {language}"
            )
        if language is None:
            language = choose_language(engine.language_probabilities(samples))
        prompt = filler_prompt(self.options, engine.english_only, language)
        transcript = longform.transcribe(
            engine, samples, language, initial_prompt=prompt, on_decoding=on_decoding
        )
        return loops.guard(engine, samples, language, transcript)

    def contradicted_language(self, samples: np.ndarray) -> tuple[str, float] | None:
        """With a forced --language: the language the speech was detected in instead, with its
        probability, when that is another language at >= CONTRADICTION_P; else None.

        Detected with the model that transcribed (already loaded: no second model per process).
        An English-only model cannot tell another language, so `--language en` with tiny.en is
        not checked (said in the README)."""
        forced = self.options.language
        if forced is None:
            return None
        engine = self.get(self.options.model or default_model(forced, self.options.fast))
        if engine.english_only:
            return None
        detected, probability = engine.detect_language(samples)
        if detected != forced and probability >= CONTRADICTION_P:
            return detected, probability
        return None


def choose_language(probabilities: dict[str, float]) -> str:
    """The language to transcribe in: Whisper's most probable, unless it is one speechcoach
    does not coach and Whisper is unsure, then the most probable coached one."""
    best = max(probabilities, key=probabilities.get)
    coached = max(COACHED_LANGUAGES, key=lambda code: probabilities.get(code, 0.0))
    if (
        best not in COACHED_LANGUAGES
        and probabilities[best] < OTHER_LANGUAGE_MIN_P
        and probabilities.get(coached, 0.0) >= MIN_COACHED_P
    ):
        log.info(
            "detected %s (p=%.2f) but unsure; transcribing as %s (p=%.2f)",
            best,
            probabilities[best],
            coached,
            probabilities[coached],
        )
        return coached
    log.info("detected language %s (p=%.2f)", best, probabilities[best])
    return best


def filler_prompt(options: TranscribeOptions, english_only: bool, language: str) -> str | None:
    """The initial prompt that keeps fillers (the language pack's), when it may be used."""
    if not options.filler_prompt or english_only:
        return None
    return languages.get(language).filler_prompt


def decode_settings(options: TranscribeOptions, language: str = "en") -> tuple[str, dict]:
    """The model folder and faster-whisper `transcribe` settings speechcoach uses for audio in
    `language` with `options` (for benchmarks/bench.py's raw baseline)."""
    from .engines import DECODE_TEMPERATURE
    from .models import resolve_ct2

    source = resolve_ct2(options.model or default_model(options.language, options.fast))
    prompt = filler_prompt(options, source.english_only, language)
    return source.location, {
        "language": "en" if source.english_only else options.language,  # None: detect
        "beam_size": options.beam_size,
        "word_timestamps": True,
        "initial_prompt": prompt,
        "temperature": DECODE_TEMPERATURE,
        "compute_type": options.compute_type,
        "cpu_threads": options.cpu_threads,
    }


def _create_engine(engine: str, model: str, options: TranscribeOptions) -> Engine:
    return engines.create(engine, model, options)
