"""Turn CTranslate2 Whisper weights (faster-whisper's format) into an openai-whisper checkpoint.

The bundled models ship only as CTranslate2 `model.bin` files. They hold the same network as
OpenAI's checkpoints, renamed and partly fused, so converting them gives openai-whisper the same
weights offline: no download. The result is `{"dims": ..., "model_state_dict": ...}`, the layout
`whisper.load_model(path)` reads, plus the alignment heads that word timestamps need.

`model.bin` is CTranslate2's documented binary (python/ctranslate2/specs/model_spec.py,
`_serialize`):

    uint32 binary version, string spec name, uint32 spec revision, uint32 variable count,
    per variable: string name, uint8 rank, uint32 dims[rank], uint8 dtype, uint32 byte count, bytes,
    uint32 alias count, per alias: string alias, string target name.

A string is a uint16 length (counting a trailing NUL), the UTF-8 bytes and the NUL; all
little-endian.
Reading it needs numpy only; writing the checkpoint needs torch (the openai-whisper extra).
"""

from __future__ import annotations

import base64
import errno
import gzip
import hashlib
import io
import json
import logging
import os
import shutil
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelError
from .models import BUNDLED_MODELS, checkpoint_meta_path, openai_models_dir, resolve_ct2

log = logging.getLogger(__name__)

SUPPORTED_BINARY_VERSIONS = (5, 6)  # Whisper models exist only in these (CTranslate2 >= 3.0)
WHISPER_SPEC = "WhisperSpec"
# DataType enum order in ctranslate2/types.h; bfloat16 has no numpy type and is widened by hand.
CT2_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16, 5: "bfloat16"}
META_FORMAT = 1  # version of the sidecar written next to each converted checkpoint
HASH_CHUNK = 8 * 1024 * 1024  # bytes hashed or written per step
SPACE_MARGIN = 16 * 1024 * 1024  # bytes kept free beyond the checkpoint itself

Progress = Callable[[int, int], None]  # (done, total) in steps; the CLI draws a bar from it


@dataclass(frozen=True)
class ConvertedModel:
    """A checkpoint this module wrote: where, from what, and what it holds."""

    name: str
    path: Path
    source: Path
    size_bytes: int
    sha256: str
    dims: dict
    alignment_heads: tuple[tuple[int, int], ...]


def checkpoint_path(name: str) -> Path:
    """Where the converted checkpoint for `name` lives:
    SPEECHCOACH_HOME/models/openai-whisper/NAME.pt."""
    return openai_models_dir() / f"{name}.pt"


def convert_model(
    name: str, *, force: bool = False, progress: Progress | None = None
) -> ConvertedModel:
    """Convert a bundled model (`tiny.en`, `base`) or a faster-whisper folder once; reuse it after.

    An existing checkpoint is verified and returned unless `force`. Raises ModelError for an
    unknown name, a damaged source or checkpoint, or a full disk.
    """
    # The name alone locates the checkpoint: no need to find (or join) the source to reuse it.
    out_name = name if name in BUNDLED_MODELS else _folder(name).resolve().name
    dest = checkpoint_path(out_name)
    if dest.exists() and not force:
        return verify_checkpoint(dest)
    source_dir = Path(resolve_ct2(name if name in BUNDLED_MODELS else str(_folder(name))).location)
    log.info("converting %s for openai-whisper into %s (once; later runs reuse it)", name, dest)
    return convert_ct2(source_dir / "model.bin", dest, name=out_name, progress=progress)


def _folder(name: str) -> Path:
    path = Path(name).expanduser()
    if not path.is_dir():
        raise ModelError(
            f"unknown model {name!r}: only CTranslate2 weights on this machine can be converted; "
            f"use one of {', '.join(BUNDLED_MODELS)} or a faster-whisper model folder"
        )
    return path


def convert_ct2(
    model_bin: Path,
    dest: Path,
    *,
    name: str,
    alignment_heads: list[tuple[int, int]] | None = None,
    progress: Progress | None = None,
) -> ConvertedModel:
    """Read a CTranslate2 Whisper `model.bin` and write an openai-whisper checkpoint to `dest`.

    `alignment_heads` ([layer, head] pairs) default to `alignment_heads_for(name, ...)`.

    The write is atomic (a temporary file renamed into place) and followed by a JSON sidecar
    with the checkpoint's size and SHA-256, which `verify_checkpoint` checks before each use.
    """
    started = time.perf_counter()
    _torch()  # fail before reading 75-150 MB if the extra is missing
    variables = read_ct2(model_bin)
    dims = whisper_dims(variables)
    steps = (
        2 * dims["n_audio_layer"] + 3 * dims["n_text_layer"] + 3
    )  # tensors, then save, then write
    report = progress or (lambda done, total: None)
    state = _state_dict(variables, dims, lambda done: report(done, steps))
    heads = _check_heads(alignment_heads or alignment_heads_for(name, model_bin.parent, dims), dims)
    payload = _serialise(
        {"dims": dims, "model_state_dict": state, "alignment_heads": [list(h) for h in heads]}
    )
    report(steps - 1, steps)
    digest = hashlib.sha256(payload).hexdigest()
    _write_atomically(payload, dest, name)
    meta = {
        "format": META_FORMAT,
        "name": name,
        "engine": "openai-whisper",
        "source": str(model_bin),
        "source_size": model_bin.stat().st_size,
        "size_bytes": len(payload),
        "sha256": digest,
        "dims": dims,
        "alignment_heads": [list(h) for h in heads],
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    _write_atomically(json.dumps(meta, indent=2).encode("utf-8"), checkpoint_meta_path(dest), name)
    report(steps, steps)
    log.info(
        "converted %s to %s (%.1f MB) in %.1f s",
        model_bin,
        dest,
        len(payload) / 1e6,
        time.perf_counter() - started,
    )
    return ConvertedModel(name, dest, model_bin, len(payload), digest, dims, heads)


# --- reading CTranslate2's model.bin -----------------------------------------------------------


class _Reader:
    """Walks the little-endian model.bin over a read-only memory map (no copy of the weights)."""

    def __init__(self, path: Path):
        self.path = path
        self.buf = np.memmap(path, dtype=np.uint8, mode="r")
        self.offset = 0

    def unpack(self, fmt: str):
        size = struct.calcsize(fmt)
        if self.offset + size > self.buf.size:
            raise self.damaged("ends in the middle of a header")
        value = struct.unpack_from(fmt, self.buf, self.offset)
        self.offset += size
        return value[0] if len(value) == 1 else value

    def string(self) -> str:
        length = self.unpack("<H")
        raw = bytes(self.buf[self.offset : self.offset + length])
        self.offset += length
        if length == 0 or raw[-1:] != b"\0":
            raise self.damaged("holds a malformed name")
        return raw[:-1].decode("utf-8", errors="replace")

    def array(self, type_id: int, shape: tuple[int, ...], nbytes: int) -> np.ndarray:
        if type_id not in CT2_DTYPES:
            raise self.damaged(f"uses an unknown data type id {type_id}")
        if self.offset + nbytes > self.buf.size:
            raise self.damaged("is truncated")
        raw = self.buf[self.offset : self.offset + nbytes]
        self.offset += nbytes
        dtype = CT2_DTYPES[type_id]
        if dtype == "bfloat16":  # the upper half of a float32
            return (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32).reshape(shape)
        if nbytes != int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize:
            raise self.damaged("has a variable whose size does not match its shape")
        return raw.view(dtype).reshape(shape)

    def damaged(self, what: str) -> ModelError:
        return ModelError(
            f"{self.path}: not a usable CTranslate2 model file (it {what}); reinstall the model"
        )


def read_ct2(path: Path) -> dict[str, np.ndarray]:
    """All variables of a CTranslate2 Whisper model.bin by name, aliases resolved (numpy views)."""
    try:
        reader = _Reader(path)
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"{path}: cannot read the CTranslate2 model ({exc}); reinstall the model"
        ) from exc
    version = reader.unpack("<I")
    if version not in SUPPORTED_BINARY_VERSIONS:
        raise reader.damaged(
            f"has binary version {version}, expected one of {SUPPORTED_BINARY_VERSIONS}"
        )
    spec = reader.string()
    if spec != WHISPER_SPEC:
        raise ModelError(
            f"{path}: a CTranslate2 {spec} model, not a Whisper one; it cannot run on "
            "openai-whisper"
        )
    reader.unpack("<I")  # spec revision: the Whisper layout has not changed across revisions 1-3
    variables: dict[str, np.ndarray] = {}
    for _ in range(reader.unpack("<I")):
        name = reader.string()
        shape = tuple(reader.unpack("<I") for _ in range(reader.unpack("<B")))
        type_id = reader.unpack("<B")
        variables[name] = reader.array(type_id, shape, reader.unpack("<I"))
    for _ in range(reader.unpack("<I")):
        alias, target = reader.string(), reader.string()
        if target not in variables:
            raise reader.damaged(f"aliases {alias} to a missing variable {target}")
        variables[alias] = variables[target]
    return variables


def _real(variables: dict[str, np.ndarray], name: str) -> np.ndarray:
    """A weight as floats: int8/int16 values are divided by their stored `_scale` (per row for
    int8)."""
    if name not in variables:
        raise ModelError(
            f"the CTranslate2 model has no variable {name}; it is not a complete Whisper model"
        )
    value = variables[name]
    if value.dtype in (np.float16, np.float32):
        return value
    scale = variables.get(f"{name}_scale")
    if scale is None or f"{name}_zero" in variables:
        raise ModelError(
            f"the CTranslate2 variable {name} uses a quantisation this converter does not know"
        )
    scale = np.asarray(scale, dtype=np.float32)
    flat = value.reshape(value.shape[0], -1).astype(np.float32)
    rows = flat / (scale.reshape(-1, 1) if scale.ndim else scale)
    return rows.reshape(value.shape)


def whisper_dims(variables: dict[str, np.ndarray]) -> dict:
    """openai-whisper's ModelDimensions, read off the tensor shapes and the stored head counts."""

    def layers(prefix: str) -> int:
        return sum(
            1 for k in variables if k.startswith(prefix) and k.endswith("/ffn/linear_0/weight")
        )

    try:
        conv1 = variables["encoder/conv1/weight"]
        audio_pos = variables["encoder/position_encodings/encodings"]
        text_pos = variables["decoder/position_encodings/encodings"]
        embeddings = variables["decoder/embeddings/weight"]
        return {
            "n_mels": int(conv1.shape[1]),
            "n_audio_ctx": int(audio_pos.shape[0]),
            "n_audio_state": int(audio_pos.shape[1]),
            "n_audio_head": int(variables["encoder/num_heads"]),
            "n_audio_layer": layers("encoder/layer_"),
            "n_vocab": int(embeddings.shape[0]),
            "n_text_ctx": int(text_pos.shape[0]),
            "n_text_state": int(text_pos.shape[1]),
            "n_text_head": int(variables["decoder/num_heads"]),
            "n_text_layer": layers("decoder/layer_"),
        }
    except KeyError as exc:
        raise ModelError(
            f"the CTranslate2 model lacks {exc.args[0]}; it is not a complete Whisper model"
        ) from exc


# --- mapping names -----------------------------------------------------------------------------


def _torch():
    try:
        import torch  # the openai-whisper extra brings it
    except ImportError as exc:
        raise ModelError(
            "converting for openai-whisper needs PyTorch; install it with: pip install "
            "'speechcoach[openai-whisper]'"
        ) from exc
    return torch


def _state_dict(variables: dict[str, np.ndarray], dims: dict, tick: Callable[[int], None]) -> dict:
    torch = _torch()
    out: dict[str, np.ndarray] = {}
    _linear(
        variables, out, "encoder/conv1", "encoder.conv1"
    )  # conv weights: [out, in, width] in both
    _linear(variables, out, "encoder/conv2", "encoder.conv2")
    out["encoder.positional_embedding"] = _real(variables, "encoder/position_encodings/encodings")
    _layer_norm(variables, out, "encoder/layer_norm", "encoder.ln_post")
    done = 0
    for i in range(dims["n_audio_layer"]):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        _attention(
            variables, out, f"{src}/self_attention", f"{dst}.attn", fused=("query", "key", "value")
        )
        _layer_norm(variables, out, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln")
        done += 1
        tick(done)
        _mlp(variables, out, src, dst)
        done += 1
        tick(done)
    out["decoder.token_embedding.weight"] = _real(variables, "decoder/embeddings/weight")
    out["decoder.positional_embedding"] = _real(variables, "decoder/position_encodings/encodings")
    _layer_norm(variables, out, "decoder/layer_norm", "decoder.ln")
    for i in range(dims["n_text_layer"]):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        _attention(
            variables, out, f"{src}/self_attention", f"{dst}.attn", fused=("query", "key", "value")
        )
        _layer_norm(variables, out, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln")
        done += 1
        tick(done)
        # Cross-attention: queries from the text side alone, keys and values fused (both read the
        # audio).
        _linear(variables, out, f"{src}/attention/linear_0", f"{dst}.cross_attn.query")
        _fused(variables, out, f"{src}/attention/linear_1", f"{dst}.cross_attn", ("key", "value"))
        _linear(variables, out, f"{src}/attention/linear_2", f"{dst}.cross_attn.out")
        _layer_norm(variables, out, f"{src}/attention/layer_norm", f"{dst}.cross_attn_ln")
        done += 1
        tick(done)
        _mlp(variables, out, src, dst)
        done += 1
        tick(done)
    return {k: torch.from_numpy(_storage_copy(v)) for k, v in out.items()}


def _storage_copy(value: np.ndarray) -> np.ndarray:
    # float16 sources stay float16 (lossless, half the file); dequantised ones are float32.
    dtype = np.float16 if value.dtype == np.float16 else np.float32
    return np.ascontiguousarray(value, dtype=dtype).copy()


def _linear(variables, out, src: str, dst: str) -> None:
    out[f"{dst}.weight"] = _real(variables, f"{src}/weight")
    out[f"{dst}.bias"] = _real(variables, f"{src}/bias")


def _layer_norm(variables, out, src: str, dst: str) -> None:
    out[f"{dst}.weight"] = _real(variables, f"{src}/gamma")
    out[f"{dst}.bias"] = _real(variables, f"{src}/beta")


def _mlp(variables, out, src: str, dst: str) -> None:
    _linear(variables, out, f"{src}/ffn/linear_0", f"{dst}.mlp.0")
    _linear(variables, out, f"{src}/ffn/linear_1", f"{dst}.mlp.2")
    _layer_norm(variables, out, f"{src}/ffn/layer_norm", f"{dst}.mlp_ln")


def _attention(variables, out, src: str, dst: str, fused: tuple[str, ...]) -> None:
    _fused(variables, out, f"{src}/linear_0", dst, fused)
    _linear(variables, out, f"{src}/linear_1", f"{dst}.out")


def _fused(variables, out, src: str, dst: str, parts: tuple[str, ...]) -> None:
    """Split a fused projection (q/k/v or k/v stacked by rows) into openai-whisper's separate
    ones."""
    weight = _real(variables, f"{src}/weight")
    if weight.shape[0] % len(parts):
        raise ModelError(
            f"the CTranslate2 variable {src}/weight cannot be split into {', '.join(parts)}"
        )
    size = weight.shape[0] // len(parts)
    bias = _real(variables, f"{src}/bias") if f"{src}/bias" in variables else None
    for index, part in enumerate(parts):
        rows = slice(index * size, (index + 1) * size)
        out[f"{dst}.{part}.weight"] = weight[rows]
        # openai-whisper's key projection has no bias; CTranslate2 stores zeros there when fusing.
        # Dropping it is exact even if it were not zero: q.b_k is the same for every key, and
        # softmax ignores a constant added to a whole row.
        if part != "key" and bias is not None:
            out[f"{dst}.{part}.bias"] = bias[rows]
        elif part != "key":
            out[f"{dst}.{part}.bias"] = np.zeros(size, dtype=weight.dtype)


# --- alignment heads (for word timestamps) -----------------------------------------------------


def alignment_heads_for(name: str, source_dir: Path, dims: dict) -> list[tuple[int, int]]:
    """The cross-attention heads that track time: OpenAI's table for an official name, else
    config.json.

    openai-whisper applies its table only to models it downloads itself; a checkpoint loaded from
    a path gets every head of the last half of the layers, which gives worse word timestamps.
    So the heads travel inside the checkpoint and the engine applies them.
    """
    n_layer, n_head = dims["n_text_layer"], dims["n_text_head"]
    try:
        import whisper

        dump = whisper._ALIGNMENT_HEADS.get(name)
    except ImportError:
        dump = None
    if dump is not None:
        mask = np.frombuffer(gzip.decompress(base64.b85decode(dump)), dtype=bool)
        if mask.size == n_layer * n_head:  # else a local folder that only shares the name
            return [divmod(int(i), n_head) for i in np.flatnonzero(mask)]
    try:
        heads = json.loads((source_dir / "config.json").read_text(encoding="utf-8")).get(
            "alignment_heads"
        )
    except (OSError, ValueError, AttributeError):
        heads = None
    if heads:
        return [(int(layer), int(head)) for layer, head in heads]
    return [(layer, head) for layer in range(n_layer // 2, n_layer) for head in range(n_head)]


def _check_heads(heads, dims: dict) -> tuple[tuple[int, int], ...]:
    n_layer, n_head = dims["n_text_layer"], dims["n_text_head"]
    pairs = sorted((int(layer), int(head)) for layer, head in heads)
    bad = [p for p in pairs if not (0 <= p[0] < n_layer and 0 <= p[1] < n_head)]
    if bad:
        raise ModelError(
            f"alignment heads {bad} do not fit a model of {n_layer} layers x {n_head} heads"
        )
    return tuple(pairs)


def heads_dump(heads, n_layer: int, n_head: int) -> bytes:
    """The base85(gzip(bool mask)) form that `Whisper.set_alignment_heads` takes."""
    mask = np.zeros((n_layer, n_head), dtype=bool)
    for layer, head in heads:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes()))


# --- writing and verifying ---------------------------------------------------------------------


def _serialise(checkpoint: dict) -> memoryview:
    torch = _torch()
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    return buffer.getbuffer()  # no second copy of a 75-150 MB checkpoint


def _write_atomically(payload: bytes | memoryview, dest: Path, name: str) -> None:
    """Write beside `dest` and rename: a full disk or Ctrl-C never leaves a truncated checkpoint."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _write_error(exc, dest, name, len(payload)) from exc
    free = shutil.disk_usage(dest.parent).free
    if free < len(payload) + SPACE_MARGIN:
        raise ModelError(_no_space(dest, name, len(payload)))
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            for start in range(0, len(payload), HASH_CHUNK):
                fh.write(payload[start : start + HASH_CHUNK])
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except OSError as exc:
        raise _write_error(exc, dest, name, len(payload)) from exc
    finally:
        tmp.unlink(missing_ok=True)


def _write_error(exc: OSError, dest: Path, name: str, size: int) -> ModelError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return ModelError(_no_space(dest, name, size))
    return ModelError(
        f"could not write the converted model to {dest.parent}: {exc.strerror or exc}"
    )


def _no_space(dest: Path, name: str, size: int) -> str:
    return (
        f"no space left in {dest.parent} for the converted model {name} (needs "
        f"{size / 1e6:.0f} MB); "
        "free some space, or set SPEECHCOACH_HOME to a larger disk, and retry: speechcoach "
        f"models convert {name}"
    )


def verify_checkpoint(path: Path) -> ConvertedModel:
    """Check a converted checkpoint against its sidecar (size, SHA-256); raise ModelError if
    damaged."""
    name = path.name.removesuffix(".pt")
    fix = f"rebuild it with: speechcoach models convert {name} --force"
    meta_path = checkpoint_meta_path(path)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        expected_size, expected_hash = int(meta["size_bytes"]), str(meta["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        raise ModelError(
            f"the converted model {path} has no valid record {meta_path.name} (an "
            f"interrupted conversion?); {fix}"
        ) from None
    size = path.stat().st_size if path.is_file() else -1
    if size != expected_size or _sha256(path) != expected_hash:
        raise ModelError(
            f"the converted model {path} is damaged (its checksum does not match); {fix}"
        )
    heads = tuple(tuple(h) for h in meta.get("alignment_heads", ()))
    return ConvertedModel(
        name, path, Path(meta.get("source", "")), size, expected_hash, meta.get("dims", {}), heads
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
