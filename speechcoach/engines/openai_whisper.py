"""The second engine: OpenAI's reference Whisper (PyTorch), behind the same `Engine` interface.

Installed as an extra: `pip install 'speechcoach[openai-whisper]'`. Offline it runs the bundled
weights, converted once from CTranslate2 (`convert.py`); a user's own `.pt` checkpoint, or an
official size that openai-whisper downloads when online, also work. Audio goes in as the 16 kHz
float32 array `audio.py` decoded, so openai-whisper's ffmpeg call is never made.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..config import SAMPLE_RATE
from ..errors import ModelError
from ..models import BUNDLED_MODELS, local_models_dir, openai_download_root
from ..types import Segment, Transcript, Word
from . import DECODE_TEMPERATURE, LANGUAGE_DETECTION_S

if TYPE_CHECKING:
    from ..transcribe import TranscribeOptions

log = logging.getLogger(__name__)

ENGINE_NAME = "openai-whisper"
BEST_OF = 5  # candidates when decoding falls back to sampling; faster-whisper's default too
INSTALL_HINT = (
    "install it with: pip install 'speechcoach[openai-whisper]' "
    "(for the small CPU-only PyTorch, first: pip install torch --index-url https://download.pytorch.org/whl/cpu)"
)


@dataclass(frozen=True)
class Checkpoint:
    """What to load: a checkpoint file, or an official name for openai-whisper to download."""

    name: str
    location: str  # a .pt path, or an official size name
    kind: str  # "converted", "local" or "downloaded"


class OpenAIWhisperEngine:
    """openai-whisper on PyTorch: fp32 on CPU, fp16 on a CUDA GPU."""

    engine_name = ENGINE_NAME

    def __init__(self, model: str, options: TranscribeOptions):
        whisper, torch = _import_whisper()
        checkpoint = resolve_checkpoint(model)
        self.model_name = checkpoint.name
        self._beam_size = options.beam_size
        self._device = _pick_device(options.device, torch)
        if self._device == "cpu":
            torch.set_num_threads(options.cpu_threads)
        started = time.perf_counter()
        self._model = _load(whisper, torch, checkpoint, self._device)
        self.english_only = not self._model.is_multilingual
        _warm_tokenizer(whisper, self._model)
        log.info(
            "loaded openai-whisper %s on %s in %.2f s",
            self.model_name,
            self._device,
            time.perf_counter() - started,
        )

    def detect_language(self, samples: np.ndarray) -> tuple[str, float]:
        if self.english_only:
            return "en", 1.0
        import whisper

        window = whisper.pad_or_trim(
            _as_float32(samples[: int(LANGUAGE_DETECTION_S * SAMPLE_RATE)])
        )
        mel = whisper.log_mel_spectrogram(window, n_mels=self._model.dims.n_mels).to(self._device)
        if self._device == "cuda":
            mel = mel.half()
        _, probabilities = self._model.detect_language(mel)
        language = max(probabilities, key=probabilities.get)
        return language, float(probabilities[language])

    def language_probabilities(self, samples: np.ndarray) -> dict[str, float]:
        if self.english_only:
            return {"en": 1.0}
        import whisper

        window = whisper.pad_or_trim(
            _as_float32(samples[: int(LANGUAGE_DETECTION_S * SAMPLE_RATE)])
        )
        mel = whisper.log_mel_spectrogram(window, n_mels=self._model.dims.n_mels).to(self._device)
        if self._device == "cuda":
            mel = mel.half()
        _, probabilities = self._model.detect_language(mel)
        return {code: float(p) for code, p in probabilities.items()}

    def transcribe(
        self,
        samples: np.ndarray,
        language: str | None,
        initial_prompt: str | None = None,
        on_decoding: Callable[[], None] | None = None,
    ) -> Transcript:
        started = time.perf_counter()
        probability = 1.0
        if self.english_only:
            language = "en"
        elif language is None:
            language, probability = self.detect_language(samples)
        with warnings.catch_warnings():
            # --device cpu on a machine with a GPU is the user's choice, not something to warn
            # about.
            warnings.filterwarnings(
                "ignore", message="Performing inference on CPU when CUDA is available"
            )
            if on_decoding:  # openai-whisper computes its features inside transcribe
                on_decoding()
            result = self._model.transcribe(
                _as_float32(samples),
                language=language,
                beam_size=self._beam_size,
                best_of=BEST_OF,
                word_timestamps=True,
                initial_prompt=initial_prompt,
                temperature=DECODE_TEMPERATURE,  # deterministic (see engines/__init__.py)
                fp16=self._device == "cuda",
                verbose=None,  # None: no printing and no progress bar (False still draws one)
            )
        return Transcript(
            language=result.get("language") or language,
            segments=tuple(_segment(s) for s in result["segments"]),
            engine=self.engine_name,
            model=self.model_name,
            language_probability=probability,
            seconds=time.perf_counter() - started,
        )


def resolve_checkpoint(name: str) -> Checkpoint:
    """Bundled name (converted once), a .pt file, a faster-whisper folder, a local name, or an
    official size."""
    if name in BUNDLED_MODELS:
        return Checkpoint(name, str(_converted(name)), "converted")
    path = Path(name).expanduser()
    if path.is_file():
        return Checkpoint(str(path), str(path), "local")
    if path.is_dir():
        return Checkpoint(str(path), str(_converted(str(path))), "converted")
    local = local_models_dir() / f"{name}.pt"
    if "/" not in name and local.is_file():
        return Checkpoint(name, str(local), "local")
    official = _official_names()
    if name in official:
        return Checkpoint(name, name, "downloaded")
    raise ModelError(
        f"unknown model {name!r} for openai-whisper; use one of the bundled models "
        f"({', '.join(BUNDLED_MODELS)}), "
        f"an official size ({', '.join(official)}), a .pt checkpoint file, or a name listed by: "
        "speechcoach models"
    )


def _converted(name: str) -> Path:
    from ..convert import convert_model

    return convert_model(name).path  # converts once, then verifies the stored file on each load


def _load(whisper, torch, checkpoint: Checkpoint, device: str):
    if checkpoint.kind == "downloaded":
        try:
            return whisper.load_model(
                checkpoint.location, device=device, download_root=str(openai_download_root())
            )
        except Exception as exc:  # noqa: BLE001 - urllib, checksum and OS errors all mean "not available"
            raise ModelError(
                f"openai-whisper model {checkpoint.name!r} is not on this machine and could not "
                "be downloaded "
                f"({_first_line(exc)}); connect to the internet once, or use a bundled model: "
                "--model tiny.en or --model base"
            ) from exc
    try:
        data = torch.load(checkpoint.location, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - zip and unpickling errors: not a file torch can read
        log.debug("torch.load(%s) failed: %s", checkpoint.location, exc)
        raise ModelError(
            _bad_checkpoint(
                checkpoint, "PyTorch cannot read it; damaged, incomplete or another format"
            )
        ) from exc
    try:
        model = whisper.model.Whisper(whisper.model.ModelDimensions(**data["dims"]))
        model.load_state_dict(data["model_state_dict"])
    except Exception as exc:  # noqa: BLE001 - missing keys or wrong shapes: not a Whisper checkpoint
        raise ModelError(_bad_checkpoint(checkpoint, _first_line(exc))) from exc
    heads = data.get("alignment_heads")
    if heads:
        from ..convert import heads_dump

        model.set_alignment_heads(
            heads_dump(heads, model.dims.n_text_layer, model.dims.n_text_head)
        )
    return model.to(device)


def _bad_checkpoint(checkpoint: Checkpoint, why: str) -> str:
    if checkpoint.kind == "converted":
        name = Path(checkpoint.location).name.removesuffix(".pt")
        fix = f"rebuild it with: speechcoach models convert {name} --force"
    else:
        fix = (
            'it must be an openai-whisper checkpoint ({"dims", "model_state_dict"}), e.g. '
            "one of OpenAI's .pt files"
        )
    return f"{checkpoint.location}: not a usable openai-whisper checkpoint ({why}); {fix}"


def _warm_tokenizer(whisper, model) -> None:
    # openai-whisper 20250625 reads its vocabulary with an unclosed open() (a ResourceWarning,
    # an error under -W error). The encoding is cached, so reading it once here, quietly, is enough.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        whisper.tokenizer.get_tokenizer(model.is_multilingual, num_languages=model.num_languages)


def _import_whisper():
    try:
        import torch
        import whisper
    except ImportError as exc:
        raise ModelError(
            f"the openai-whisper engine is not installed ({exc.name} is missing); {INSTALL_HINT}"
        ) from exc
    return whisper, torch


def _official_names() -> list[str]:
    try:
        import whisper

        return list(whisper.available_models())
    except ImportError:
        return []


def _pick_device(requested: str, torch) -> str:
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise ModelError(
            f"--device cuda: PyTorch {torch.__version__} sees no CUDA GPU here; "
            "use --device cpu, or install a CUDA build of torch"
        )
    return requested


def _as_float32(samples: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(samples, dtype=np.float32)


def _segment(seg: dict) -> Segment:
    words = tuple(
        Word(w["word"], float(w["start"]), float(w["end"]), float(w.get("probability", 1.0)))
        for w in seg.get("words", ())
    )
    return Segment(
        seg["text"],
        float(seg["start"]),
        float(seg["end"]),
        words,
        seg.get("avg_logprob"),
        seg.get("compression_ratio"),
        seg.get("no_speech_prob"),
    )


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
