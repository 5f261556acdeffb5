"""The second engine, openai-whisper, on weights converted from the bundled CTranslate2 models.

Real components only: the bundled tiny.en/base model.bin files, the real converter, PyTorch,
openai-whisper and faster-whisper, and the committed clips of known text (tests/data).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from speechcoach.errors import ModelError
from speechcoach.models import checkpoint_meta_path

# CI installs the extra (.ci/run): there a missing openai-whisper must fail, not skip.
if os.environ.get("CI"):
    import torch
    import whisper
else:
    torch = pytest.importorskip("torch")
    whisper = pytest.importorskip("whisper")

from speechcoach.audio import load_audio  # noqa: E402
from speechcoach.convert import convert_ct2, convert_model, read_ct2, verify_checkpoint  # noqa: E402
from speechcoach.engines.faster_whisper import FasterWhisperEngine  # noqa: E402
from speechcoach.engines.openai_whisper import OpenAIWhisperEngine, resolve_checkpoint  # noqa: E402
from speechcoach.models import resolve_ct2  # noqa: E402
from speechcoach.transcribe import TranscribeOptions  # noqa: E402
from speechcoach.wer import normalise, word_error_rate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
KNOWN_EN = "tests/data/known_en.wav"
KNOWN_JA = "tests/data/known_ja.wav"
SHORT_EN = "tests/data/known_en_stereo44k.wav"  # the last sentence of known_en only


def ct2_dir(name: str) -> Path:
    return Path(resolve_ct2(name).location)


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate in percent."""
    return 100.0 * word_error_rate(reference, hypothesis)


def clip(clips: dict, file: str) -> dict:
    return next(c for c in clips["clips"] if c["file"] == file)


# --- conversion --------------------------------------------------------------------------------


@pytest.fixture
def tiny_checkpoint():
    """tiny.en converted once per test session (the models/ folder is shared across tests)."""
    return convert_model("tiny.en")


def to_ct2_names(state: dict, n_audio: int, n_text: int) -> dict[str, np.ndarray]:
    """The test's own inverse mapping: openai-whisper names back to CTranslate2's, re-fusing
    q/k/v."""
    s = {k: v.float().numpy() for k, v in state.items()}
    out = {
        "encoder/conv1/weight": s["encoder.conv1.weight"],
        "encoder/conv1/bias": s["encoder.conv1.bias"],
        "encoder/conv2/weight": s["encoder.conv2.weight"],
        "encoder/conv2/bias": s["encoder.conv2.bias"],
        "encoder/position_encodings/encodings": s["encoder.positional_embedding"],
        "encoder/layer_norm/gamma": s["encoder.ln_post.weight"],
        "encoder/layer_norm/beta": s["encoder.ln_post.bias"],
        "decoder/embeddings/weight": s["decoder.token_embedding.weight"],
        "decoder/position_encodings/encodings": s["decoder.positional_embedding"],
        "decoder/layer_norm/gamma": s["decoder.ln.weight"],
        "decoder/layer_norm/beta": s["decoder.ln.bias"],
    }

    def block(src: str, dst: str, cross: bool) -> None:
        a = f"{src}.attn"
        zeros = np.zeros_like(s[f"{a}.query.bias"])
        out[f"{dst}/self_attention/linear_0/weight"] = np.concatenate(
            [s[f"{a}.query.weight"], s[f"{a}.key.weight"], s[f"{a}.value.weight"]]
        )
        out[f"{dst}/self_attention/linear_0/bias"] = np.concatenate(
            [s[f"{a}.query.bias"], zeros, s[f"{a}.value.bias"]]
        )
        out[f"{dst}/self_attention/linear_1/weight"] = s[f"{a}.out.weight"]
        out[f"{dst}/self_attention/linear_1/bias"] = s[f"{a}.out.bias"]
        out[f"{dst}/self_attention/layer_norm/gamma"] = s[f"{src}.attn_ln.weight"]
        out[f"{dst}/self_attention/layer_norm/beta"] = s[f"{src}.attn_ln.bias"]
        if cross:
            c = f"{src}.cross_attn"
            out[f"{dst}/attention/linear_0/weight"] = s[f"{c}.query.weight"]
            out[f"{dst}/attention/linear_0/bias"] = s[f"{c}.query.bias"]
            out[f"{dst}/attention/linear_1/weight"] = np.concatenate(
                [s[f"{c}.key.weight"], s[f"{c}.value.weight"]]
            )
            out[f"{dst}/attention/linear_1/bias"] = np.concatenate([zeros, s[f"{c}.value.bias"]])
            out[f"{dst}/attention/linear_2/weight"] = s[f"{c}.out.weight"]
            out[f"{dst}/attention/linear_2/bias"] = s[f"{c}.out.bias"]
            out[f"{dst}/attention/layer_norm/gamma"] = s[f"{src}.cross_attn_ln.weight"]
            out[f"{dst}/attention/layer_norm/beta"] = s[f"{src}.cross_attn_ln.bias"]
        for i, j in ((0, 0), (1, 2)):
            out[f"{dst}/ffn/linear_{i}/weight"] = s[f"{src}.mlp.{j}.weight"]
            out[f"{dst}/ffn/linear_{i}/bias"] = s[f"{src}.mlp.{j}.bias"]
        out[f"{dst}/ffn/layer_norm/gamma"] = s[f"{src}.mlp_ln.weight"]
        out[f"{dst}/ffn/layer_norm/beta"] = s[f"{src}.mlp_ln.bias"]

    for i in range(n_audio):
        block(f"encoder.blocks.{i}", f"encoder/layer_{i}", cross=False)
    for i in range(n_text):
        block(f"decoder.blocks.{i}", f"decoder/layer_{i}", cross=True)
    return out


def test_conversion_round_trip_is_exact(tiny_checkpoint):
    """Every weight of the bundled model.bin comes back bit for bit from the converted
    checkpoint."""
    source = read_ct2(ct2_dir("tiny.en") / "model.bin")
    checkpoint = torch.load(tiny_checkpoint.path, map_location="cpu", weights_only=True)
    dims = checkpoint["dims"]
    assert dims == {
        "n_mels": 80,
        "n_audio_ctx": 1500,
        "n_audio_state": 384,
        "n_audio_head": 6,
        "n_audio_layer": 4,
        "n_vocab": 51864,
        "n_text_ctx": 448,
        "n_text_state": 384,
        "n_text_head": 6,
        "n_text_layer": 4,
    }
    back = to_ct2_names(checkpoint["model_state_dict"], dims["n_audio_layer"], dims["n_text_layer"])
    weights = {k: v for k, v in source.items() if v.ndim > 0 and k != "decoder/projection/weight"}
    assert set(back) == set(weights)
    for name, value in weights.items():
        np.testing.assert_array_equal(back[name], value.astype(np.float32), err_msg=name)
    # The fused key biases CTranslate2 stores are zeros: openai-whisper has no key bias to lose.
    for name, value in source.items():
        if name.endswith("self_attention/linear_0/bias"):
            assert not np.any(value[len(value) // 3 : 2 * len(value) // 3]), name


def test_checkpoint_loads_in_openai_whisper_with_alignment_heads(tiny_checkpoint):
    """openai-whisper's own loader reads the file; the heads stored inside are OpenAI's for
    tiny.en."""
    model = whisper.load_model(str(tiny_checkpoint.path), device="cpu")
    assert not model.is_multilingual
    official = np.frombuffer(
        gzip.decompress(base64.b85decode(whisper._ALIGNMENT_HEADS["tiny.en"])), dtype=bool
    )
    stored = torch.load(tiny_checkpoint.path, map_location="cpu", weights_only=True)[
        "alignment_heads"
    ]
    mask = np.zeros((4, 6), dtype=bool)
    for layer, head in stored:
        mask[layer, head] = True
    np.testing.assert_array_equal(mask.reshape(-1), official)
    engine = OpenAIWhisperEngine(
        "tiny.en", TranscribeOptions(engine="openai-whisper", device="cpu")
    )
    np.testing.assert_array_equal(
        engine._model.alignment_heads.to_dense().numpy().reshape(-1), official
    )


def test_sidecar_records_size_and_checksum(tiny_checkpoint):
    meta = json.loads(checkpoint_meta_path(tiny_checkpoint.path).read_text())
    assert meta["size_bytes"] == tiny_checkpoint.path.stat().st_size
    assert meta["sha256"] == verify_checkpoint(tiny_checkpoint.path).sha256
    assert meta["source"].endswith("model.bin")
    assert [list(h) for h in tiny_checkpoint.alignment_heads] == meta["alignment_heads"]


def test_base_uses_openai_alignment_heads():
    converted = convert_model("base")
    official = np.frombuffer(
        gzip.decompress(base64.b85decode(whisper._ALIGNMENT_HEADS["base"])), dtype=bool
    )
    assert [layer * 8 + head for layer, head in converted.alignment_heads] == list(
        np.flatnonzero(official)
    )
    assert converted.dims["n_vocab"] == 51865


CT2_TYPE_IDS = {
    np.dtype(np.float32): 0,
    np.dtype(np.int8): 1,
    np.dtype(np.int16): 2,
    np.dtype(np.int32): 3,
    np.dtype(np.float16): 4,
}


def write_ct2(path: Path, variables: dict[str, np.ndarray], aliases: list[tuple[str, str]]) -> None:
    """The test's own writer of CTranslate2's model.bin layout (checked below by CTranslate2
    itself)."""

    def string(fh, text: str) -> None:
        raw = text.encode("utf-8")
        fh.write(struct.pack("<H", len(raw) + 1) + raw + b"\0")

    with open(path, "wb") as fh:
        fh.write(struct.pack("<I", 6))
        string(fh, "WhisperSpec")
        fh.write(struct.pack("<II", 3, len(variables)))
        for name, value in variables.items():
            string(fh, name)
            fh.write(
                struct.pack("<B", value.ndim) + b"".join(struct.pack("<I", d) for d in value.shape)
            )
            raw = np.ascontiguousarray(value).tobytes()
            fh.write(struct.pack("<BI", CT2_TYPE_IDS[value.dtype], len(raw)) + raw)
        fh.write(struct.pack("<I", len(aliases)))
        for alias, target in aliases:
            string(fh, alias)
            string(fh, target)


def test_int8_weights_are_dequantised(tmp_path):
    """An int8 CTranslate2 model (per-row scales, as `ct2-transformers-converter --quantization
    int8`
    writes) converts to float weights within half a quantisation step of the originals."""
    import ctranslate2

    source = ct2_dir("tiny.en")
    original = read_ct2(source / "model.bin")
    quantised: dict[str, np.ndarray] = {}
    for name, value in original.items():
        if name == "decoder/projection/weight":
            continue
        if name.endswith("/weight"):
            rows = value.astype(np.float32).reshape(value.shape[0], -1)
            amax = np.abs(rows).max(axis=1)
            amax[amax == 0] = 127.0
            scale = (127.0 / amax).astype(np.float32)
            quantised[name] = np.rint(rows * scale[:, None]).astype(np.int8).reshape(value.shape)
            quantised[f"{name}_scale"] = scale
        else:
            quantised[name] = np.asarray(value)
    folder = tmp_path / "tiny-int8"
    folder.mkdir()
    write_ct2(
        folder / "model.bin",
        quantised,
        [
            ("decoder/projection/weight", "decoder/embeddings/weight"),
            ("decoder/projection/weight_scale", "decoder/embeddings/weight_scale"),
        ],
    )
    for extra in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (folder / extra).write_bytes((source / extra).read_bytes())
    assert not ctranslate2.models.Whisper(
        str(folder), device="cpu", compute_type="int8"
    ).is_multilingual

    converted = convert_ct2(folder / "model.bin", tmp_path / "int8.pt", name="tiny-int8")
    state = torch.load(converted.path, map_location="cpu", weights_only=True)["model_state_dict"]
    assert state["encoder.blocks.0.attn.query.weight"].dtype == torch.float32
    step = 1.0 / quantised["encoder/layer_0/self_attention/linear_0/weight_scale"]
    fused = original["encoder/layer_0/self_attention/linear_0/weight"].astype(np.float32)
    query = state["encoder.blocks.0.attn.query.weight"].numpy()
    assert np.all(np.abs(query - fused[:384]) <= step[:384, None] * 0.5 + 1e-6)
    embedding_step = 1.0 / quantised["decoder/embeddings/weight_scale"]
    error = np.abs(
        state["decoder.token_embedding.weight"].numpy()
        - original["decoder/embeddings/weight"].astype(np.float32)
    )
    assert np.all(error <= embedding_step[:, None] * 0.5 + 1e-6)
    assert converted.alignment_heads == (
        (1, 0),
        (2, 0),
        (2, 5),
        (3, 0),
        (3, 1),
        (3, 2),
        (3, 3),
        (3, 4),
    )  # from config.json


def test_not_a_ct2_file_is_a_clear_error(tmp_path):
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"\x06\x00\x00\x00" + b"\xff" * 64)
    with pytest.raises(ModelError, match="not a usable CTranslate2 model file"):
        read_ct2(bogus)
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes((ct2_dir("tiny.en") / "model.bin").read_bytes()[:200_000])
    with pytest.raises(ModelError, match="truncated"):
        read_ct2(truncated)


# --- the engine --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def openai_tiny():
    return OpenAIWhisperEngine("tiny.en", TranscribeOptions(engine="openai-whisper", device="cpu"))


@pytest.fixture(scope="module")
def known_transcripts(openai_tiny, tmp_path_factory):
    """known_en through both engines with tiny.en. faster-whisper runs in float32 here, the same
    arithmetic as openai-whisper on CPU, so the transcripts must agree word for word."""
    samples = load_audio(ROOT / KNOWN_EN).samples
    faster = FasterWhisperEngine("tiny.en", TranscribeOptions(compute_type="float32"))
    return faster.transcribe(samples, "en"), openai_tiny.transcribe(samples, "en")


@pytest.mark.slow
def test_engines_agree_on_known_clip(known_transcripts, clips):
    faster, openai = known_transcripts
    truth = clip(clips, KNOWN_EN)["text"]
    assert (
        openai.engine == "openai-whisper" and openai.model == "tiny.en" and openai.language == "en"
    )
    assert normalise(openai.text) == normalise(faster.text)
    assert abs(wer(truth, openai.text) - wer(truth, faster.text)) < 1.0
    assert wer(truth, openai.text) < 15.0


@pytest.mark.slow
def test_word_timestamps_present_monotonic_and_close(known_transcripts, clips):
    faster, openai = known_transcripts
    words = openai.words
    assert len(words) >= 0.8 * clip(clips, KNOWN_EN)["word_count"]
    duration = clip(clips, KNOWN_EN)["duration_s"]
    for previous, word in zip(words, words[1:], strict=False):
        assert word.start >= previous.start
    assert all(0.0 <= w.start <= w.end <= duration + 0.5 for w in words)
    for segment in openai.segments:
        assert segment.words and segment.start <= segment.words[0].start + 0.5
    # Same network, same alignment heads: word starts agree with faster-whisper's closely.
    assert len(faster.words) == len(words)
    gaps = [abs(a.start - b.start) for a, b in zip(faster.words, words, strict=False)]
    assert float(np.median(gaps)) < 0.1


@pytest.mark.slow
def test_detects_japanese_with_converted_base(clips):
    engine = OpenAIWhisperEngine("base", TranscribeOptions(engine="openai-whisper", device="cpu"))
    assert not engine.english_only
    language, probability = engine.detect_language(load_audio(ROOT / KNOWN_JA).samples)
    assert language == "ja" and probability > 0.5


def test_english_only_model_skips_detection(openai_tiny):
    assert openai_tiny.english_only
    assert openai_tiny.detect_language(np.zeros(16_000, dtype=np.float32)) == ("en", 1.0)


def test_own_pt_file_by_path_and_by_local_name(tiny_checkpoint, home):
    mine = home / "mine.pt"
    mine.symlink_to(tiny_checkpoint.path)
    assert resolve_checkpoint(str(mine)).kind == "local"
    local = home / "models" / "local"
    local.mkdir(parents=True, exist_ok=True)
    target = local / "my-tiny.pt"
    try:
        target.symlink_to(tiny_checkpoint.path)
        checkpoint = resolve_checkpoint("my-tiny")
        assert (checkpoint.kind, checkpoint.location) == ("local", str(target))
        engine = OpenAIWhisperEngine(
            "my-tiny", TranscribeOptions(engine="openai-whisper", device="cpu")
        )
        assert engine.english_only and engine.model_name == "my-tiny"
    finally:
        target.unlink()  # models/ is shared by every test of the session


def test_unknown_model_names_the_valid_ones():
    with pytest.raises(ModelError) as info:
        resolve_checkpoint("tiny-ish")
    message = str(info.value)
    assert "'tiny-ish'" in message and "tiny.en, base" in message and "large-v3" in message


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="checks the message shown when no GPU is visible"
)
def test_cuda_requested_without_gpu_is_a_clear_error():
    with pytest.raises(ModelError, match="sees no CUDA GPU"):
        OpenAIWhisperEngine("tiny.en", TranscribeOptions(engine="openai-whisper", device="cuda"))


def test_auto_device_is_cpu_without_gpu(openai_tiny):
    assert openai_tiny._device == ("cuda" if torch.cuda.is_available() else "cpu")
    assert next(openai_tiny._model.parameters()).dtype == torch.float32


def test_official_size_offline_says_what_to_do(monkeypatch):
    """Offline (a proxy that refuses every connection, so nothing is downloaded even where the
    network is up), an official size fails with the fix, not a traceback."""
    for variable in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    with pytest.raises(ModelError, match="could not be downloaded.*--model tiny.en"):
        OpenAIWhisperEngine("small", TranscribeOptions(engine="openai-whisper", device="cpu"))


@pytest.mark.slow
def test_analyze_cli_gives_the_same_report_with_either_engine():
    """`analyze --engine openai-whisper` goes through the whole pipeline and yields the same report
    shape."""
    from click.testing import CliRunner

    from speechcoach.cli import main

    reports = {}
    for engine in ("faster-whisper", "openai-whisper"):
        result = CliRunner().invoke(
            main,
            [
                "analyze",
                str(ROOT / SHORT_EN),
                "--engine",
                engine,
                "--model",
                "tiny.en",
                "--language",
                "en",
                "--json",
                "--no-save",
            ],
        )
        assert result.exit_code == 0, result.stderr
        reports[engine] = json.loads(result.stdout)
    faster, openai = reports["faster-whisper"], reports["openai-whisper"]
    assert (openai["engine"], openai["model"], openai["language"]) == (
        "openai-whisper",
        "tiny.en",
        "en",
    )
    assert set(openai) == set(faster)
    assert normalise(openai["transcript"]["text"]) and openai["word_count"] >= 6
    assert abs(openai["word_count"] - faster["word_count"]) <= 1
