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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from . import engines
from .engines import DEFAULT_ENGINE
from .errors import ModelError
from .models import MULTILINGUAL_MODEL, default_model
from .types import Transcript

if TYPE_CHECKING:  # numpy only in annotations: `speechcoach history` never loads it
    import numpy as np

log = logging.getLogger(__name__)

BEAM_SIZE = 5  # Whisper's own default; greedy (1) is ~2x faster but less accurate on accents
# A forced --language is contradicted when Whisper hears another language this surely.
CONTRADICTION_P = 0.8


@dataclass(frozen=True)
class TranscribeOptions:
    """How to run Whisper. Defaults are the ones the benchmark measured."""

    engine: str = DEFAULT_ENGINE
    model: str | None = None  # None: tiny.en for English, base for other languages
    language: str | None = None  # None: detect
    device: str = "auto"  # "cpu", "cuda" or "auto"
    compute_type: str = "int8"  # faster-whisper only; openai-whisper uses fp32 on CPU
    beam_size: int = BEAM_SIZE
    cpu_threads: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))


class Engine(Protocol):
    """A loaded Whisper model. Implementations: FasterWhisperEngine, OpenAIWhisperEngine."""

    engine_name: str
    model_name: str
    english_only: bool

    def transcribe(self, samples: np.ndarray, language: str | None) -> Transcript: ...

    def detect_language(self, samples: np.ndarray) -> tuple[str, float]: ...


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

    def transcribe(self, samples: np.ndarray) -> Transcript:
        """Pick the model for the language (detecting it when not given), then transcribe."""
        language = self.options.language
        model = self.options.model
        if model is None:
            if language is None:
                language, probability = self.get(MULTILINGUAL_MODEL).detect_language(samples)
                log.info("detected language %s (p=%.2f)", language, probability)
            model = default_model(language)
        engine = self.get(model)
        if engine.english_only and language not in (None, "en"):
            raise ModelError(
                f"model {engine.model_name} understands English only; drop --model or "
                f"pick a multilingual one for --language {language}"
            )
        return engine.transcribe(samples, language)

    def contradicted_language(self, samples: np.ndarray) -> tuple[str, float] | None:
        """With a forced --language: the language the speech was detected in instead, with its
        probability, when that is another language at >= CONTRADICTION_P; else None.

        Detected with the model that transcribed (already loaded: no second model per process).
        An English-only model cannot tell another language, so `--language en` with tiny.en is
        not checked (said in the README)."""
        forced = self.options.language
        if forced is None:
            return None
        engine = self.get(self.options.model or default_model(forced))
        if engine.english_only:
            return None
        detected, probability = engine.detect_language(samples)
        if detected != forced and probability >= CONTRADICTION_P:
            return detected, probability
        return None


def _create_engine(engine: str, model: str, options: TranscribeOptions) -> Engine:
    return engines.create(engine, model, options)
