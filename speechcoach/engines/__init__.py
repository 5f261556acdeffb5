"""The Whisper engines, behind a lazy registry: each is imported only when it is used, so the
commands that never transcribe (history, show, export) load neither CTranslate2 nor torch.

An engine module defines one class with the `transcribe.Engine` interface; add a line to
ENGINES to register another. `create("openai-whisper", "base", options)` loads a model.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from ..errors import ModelError

if TYPE_CHECKING:
    from ..transcribe import Engine, TranscribeOptions

# name -> (module in this package, class)
ENGINES_BY_NAME = {
    "faster-whisper": ("faster_whisper", "FasterWhisperEngine"),
    "openai-whisper": ("openai_whisper", "OpenAIWhisperEngine"),
}
ENGINES = tuple(ENGINES_BY_NAME)
DEFAULT_ENGINE = "faster-whisper"
LANGUAGE_DETECTION_S = 30.0  # Whisper detects language from its first 30-second window
# Greedy/beam search at temperature 0 only: Whisper's fallback (0.2, 0.4, ... when a segment
# looks bad) samples at random, so two runs of one file could differ (seen: 50, 41, 41, 61).
DECODE_TEMPERATURE = 0.0

__all__ = ["DECODE_TEMPERATURE", "DEFAULT_ENGINE", "ENGINES", "LANGUAGE_DETECTION_S", "create"]


def engine_class(name: str) -> type:
    """The class of engine `name`, imported on first use."""
    if name not in ENGINES_BY_NAME:
        raise ModelError(f"unknown engine {name!r}; expected one of: {', '.join(ENGINES)}")
    module, cls = ENGINES_BY_NAME[name]
    return getattr(import_module(f"{__name__}.{module}"), cls)


def create(name: str, model: str, options: TranscribeOptions) -> Engine:
    """A loaded model of engine `name` (ModelError when it cannot load, saying what to do)."""
    return engine_class(name)(model, options)
