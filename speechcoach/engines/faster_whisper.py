"""The default engine: faster-whisper (CTranslate2). int8 on CPU: about 3-10x faster than
openai-whisper, with word timestamps and the same `Engine` interface (transcribe.py)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..config import SAMPLE_RATE
from ..errors import ModelError, SpeechcoachError
from ..models import MULTILINGUAL_MODEL, download_root, resolve_ct2
from ..types import Segment, Transcript, Word
from . import DECODE_TEMPERATURE, LANGUAGE_DETECTION_S

if TYPE_CHECKING:
    import numpy as np

    from ..transcribe import TranscribeOptions

log = logging.getLogger(__name__)


class FasterWhisperEngine:
    """faster-whisper (CTranslate2). int8 on CPU: about 3-10x faster than openai-whisper."""

    engine_name = "faster-whisper"

    def __init__(self, model: str, options: TranscribeOptions):
        from faster_whisper import WhisperModel  # heavy import, only when a model is needed

        source = resolve_ct2(model)
        self.model_name = source.name
        self.english_only = source.english_only
        self._beam_size = options.beam_size
        device = "cpu" if options.device == "auto" and not _ct2_has_cuda() else options.device
        device = "cuda" if device == "auto" else device
        if device == "cuda" and not _ct2_has_cuda():
            raise ModelError(NO_CUDA)
        started = time.perf_counter()
        try:
            self._model = WhisperModel(
                source.location,
                device=device,
                compute_type=options.compute_type,
                cpu_threads=options.cpu_threads,
                download_root=str(download_root()),
            )
        except SpeechcoachError:
            raise  # already says what to do (e.g. SPEECHCOACH_HOME is a file)
        except Exception as exc:  # noqa: BLE001 - hub, CTranslate2, OS errors: "cannot load"
            if device == "cuda":
                raise ModelError(f"{NO_CUDA} ({str(exc).splitlines()[0][:160]})") from exc
            raise ModelError(_load_error(source.name, source.bundled, exc)) from exc
        log.info(
            "loaded faster-whisper %s on %s in %.2f s",
            source.name,
            device,
            time.perf_counter() - started,
        )

    def detect_language(self, samples: np.ndarray) -> tuple[str, float]:
        if self.english_only:
            return "en", 1.0
        language, probability, _ = self._model.detect_language(
            audio=samples[: int(LANGUAGE_DETECTION_S * SAMPLE_RATE)]
        )
        return language, float(probability)

    def language_probabilities(self, samples: np.ndarray) -> dict[str, float]:
        if self.english_only:
            return {"en": 1.0}
        _, _, probabilities = self._model.detect_language(
            audio=samples[: int(LANGUAGE_DETECTION_S * SAMPLE_RATE)]
        )
        return {code: float(p) for code, p in probabilities}

    def transcribe(
        self,
        samples: np.ndarray,
        language: str | None,
        initial_prompt: str | None = None,
        on_decoding: Callable[[], None] | None = None,
    ) -> Transcript:
        started = time.perf_counter()
        segments, info = self._model.transcribe(
            samples,
            language="en" if self.english_only else language,
            beam_size=self._beam_size,
            word_timestamps=True,
            initial_prompt=initial_prompt,
            # Deterministic: no fallback to sampling at higher temperatures, so the same audio
            # gives the same transcript (and score) on every run and path.
            temperature=DECODE_TEMPERATURE,
        )
        if on_decoding:  # the log-mel features are computed (and their STFT freed) by now
            on_decoding()
        result = tuple(_segment(s) for s in segments)  # the generator does the work here
        return Transcript(
            language=info.language,
            segments=result,
            engine=self.engine_name,
            model=self.model_name,
            language_probability=float(info.language_probability),
            seconds=time.perf_counter() - started,
        )


def _segment(seg) -> Segment:
    words = tuple(
        Word(w.word, float(w.start), float(w.end), float(w.probability)) for w in (seg.words or ())
    )
    return Segment(
        seg.text,
        float(seg.start),
        float(seg.end),
        words,
        _number(getattr(seg, "avg_logprob", None)),
        _number(getattr(seg, "compression_ratio", None)),
        _number(getattr(seg, "no_speech_prob", None)),
    )


def _number(value) -> float | None:
    return None if value is None else float(value)


NO_CUDA = (
    "--device cuda: no usable CUDA device or driver was found (CTranslate2 sees no GPU); "
    "run on the CPU with --device cpu (or --device auto, which picks the GPU when there is one)"
)


def _ct2_has_cuda() -> bool:
    try:
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    except Exception:  # noqa: BLE001 - no CUDA runtime at all
        return False


def _load_error(name: str, bundled: bool, exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if bundled:
        return (
            f"the bundled model {name} could not be loaded ({text}); "
            "reinstall with: pip install --force-reinstall speechcoach"
        )
    return (
        f"model {name!r} is not on this machine and could not be downloaded ({text[:160]}); "
        "connect to the internet once, or use a bundled model: "
        f"--model tiny.en or --model {MULTILINGUAL_MODEL}"
    )
