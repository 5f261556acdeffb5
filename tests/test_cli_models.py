"""`speechcoach models` and `models convert` through the real CLI, plus the errors a user can meet:
an unknown name, a damaged converted file, a full disk."""

from __future__ import annotations

import json
import os
import shutil
from importlib.util import find_spec
from pathlib import Path

import pytest
from click.testing import CliRunner

from speechcoach.cli import main
from speechcoach.models import checkpoint_meta_path, list_models, resolve_ct2

# Converting needs PyTorch (the openai-whisper extra). CI installs it, so there it never skips.
needs_torch = pytest.mark.skipif(
    not os.environ.get("CI") and find_spec("torch") is None,
    reason="the openai-whisper extra is not installed",
)


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args):
    return runner.invoke(main, list(args))


@pytest.fixture
def converted(runner) -> Path:
    """tiny.en converted into the session's shared models/ folder (once per session)."""
    result = run(runner, "models", "convert", "tiny.en")
    assert result.exit_code == 0, result.stderr
    return Path(result.stdout.strip())


@pytest.fixture
def private_home(tmp_path, monkeypatch, converted) -> Path:
    """A SPEECHCOACH_HOME of its own (not the shared models/), holding a copy of the converted
    tiny.en, for tests that damage files or add models."""
    home = tmp_path / "private"
    target = home / "models" / "openai-whisper"
    target.mkdir(parents=True)
    shutil.copyfile(converted, target / converted.name)
    shutil.copyfile(checkpoint_meta_path(converted), checkpoint_meta_path(target / converted.name))
    monkeypatch.setenv("SPEECHCOACH_HOME", str(home))
    return home


def rows(stdout: str) -> list[list[str]]:
    return [line.split() for line in stdout.splitlines()[1:]]


def test_models_lists_the_bundled_ones(runner):
    result = run(runner, "models")
    assert result.exit_code == 0, result.stderr
    header = result.stdout.splitlines()[0].split()
    assert header == ["NAME", "ENGINE", "KIND", "SIZE", "PATH"]
    table = {(r[0], r[1]): r for r in rows(result.stdout)}
    tiny = table[("tiny.en", "faster-whisper")]
    assert tiny[2] == "bundled" and tiny[4] == "MB" and float(tiny[3]) > 70
    assert Path(tiny[5], "model.bin").is_file()
    assert table[("base", "faster-whisper")][2] == "bundled"
    assert run(runner, "models", "list").stdout == result.stdout


@needs_torch
def test_convert_prints_path_and_lists_it(runner, converted):
    assert converted.name == "tiny.en.pt" and converted.is_file()
    again = run(runner, "models", "convert", "tiny.en")
    assert again.exit_code == 0
    assert again.stdout.strip() == str(converted)
    assert "already converted and is intact" in again.stderr
    listed = [
        json.loads(line) for line in run(runner, "models", "list", "--json").stdout.splitlines()
    ]
    entry = next(m for m in listed if m["engine"] == "openai-whisper" and m["name"] == "tiny.en")
    assert entry["kind"] == "converted" and entry["path"] == str(converted)
    assert entry["size_bytes"] == converted.stat().st_size and entry["note"] == ""


@needs_torch
def test_convert_force_shows_progress_on_stderr(runner, private_home):
    result = run(runner, "models", "convert", "tiny.en", "--force")
    assert result.exit_code == 0, result.stderr
    assert "converting tiny.en" in result.stderr
    assert "converted tiny.en in" in result.stderr
    assert result.stdout.strip() == str(private_home / "models" / "openai-whisper" / "tiny.en.pt")
    assert not list((private_home / "models" / "openai-whisper").glob(".*.tmp"))


def test_convert_unknown_name_names_the_valid_ones(runner):
    result = run(runner, "models", "convert", "tiny-en")
    assert result.exit_code == 1
    assert "unknown model 'tiny-en'" in result.stderr
    assert "tiny.en, base" in result.stderr
    assert "Traceback" not in result.stderr


@needs_torch
def test_damaged_checkpoint_is_reported_with_the_fix(runner, private_home):
    checkpoint = private_home / "models" / "openai-whisper" / "tiny.en.pt"
    with open(checkpoint, "r+b") as fh:  # a few flipped bytes in the middle, size unchanged
        fh.seek(checkpoint.stat().st_size // 2)
        fh.write(b"\x00" * 32)
    fix = "speechcoach models convert tiny.en --force"

    result = run(
        runner,
        "analyze",
        str(Path(__file__).parent / "data" / "known_en.wav"),
        "--engine",
        "openai-whisper",
        "--model",
        "tiny.en",
        "--language",
        "en",
        "--no-save",
    )
    assert result.exit_code == 1
    assert "is damaged (its checksum does not match)" in result.stderr and fix in result.stderr

    again = run(runner, "models", "convert", "tiny.en")
    assert again.exit_code == 1 and "is damaged" in again.stderr

    checkpoint.write_bytes(checkpoint.read_bytes()[:1000])  # truncated: the listing notices it too
    listing = run(runner, "models")
    assert f"damaged or incomplete; rebuild with: {fix}" in listing.stdout

    repaired = run(runner, "models", "convert", "tiny.en", "--force")
    assert repaired.exit_code == 0, repaired.stderr
    assert run(runner, "models", "convert", "tiny.en").exit_code == 0


@needs_torch
def test_missing_record_means_interrupted_conversion(runner, private_home):
    checkpoint = private_home / "models" / "openai-whisper" / "tiny.en.pt"
    checkpoint_meta_path(checkpoint).unlink()
    result = run(runner, "models", "convert", "tiny.en")
    assert result.exit_code == 1
    assert "no valid record tiny.en.pt.json (an interrupted conversion?)" in result.stderr
    assert "--force" in result.stderr


@needs_torch
def test_no_space_left_removes_the_partial_file(runner, private_home):
    """The temporary file is /dev/full, where every write fails with ENOSPC, as on a full disk."""
    folder = private_home / "models" / "openai-whisper"
    checkpoint = folder / "tiny.en.pt"
    before = checkpoint.read_bytes()
    partial = folder / f".tiny.en.pt.{os.getpid()}.tmp"
    partial.symlink_to("/dev/full")
    result = run(runner, "models", "convert", "tiny.en", "--force")
    assert result.exit_code == 1
    assert f"no space left in {folder} for the converted model tiny.en" in result.stderr
    assert "free some space" in result.stderr
    assert "Traceback" not in result.stderr
    assert not partial.exists() and not partial.is_symlink()
    assert checkpoint.read_bytes() == before  # the good file is untouched


@needs_torch
def test_faster_whisper_folder_converts_under_its_name(runner, private_home, tmp_path):
    folder = tmp_path / "my-tiny"
    folder.mkdir()
    for item in Path(resolve_ct2("tiny.en").location).iterdir():
        if item.is_file():
            (folder / item.name).symlink_to(item)
    result = run(runner, "models", "convert", str(folder))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(private_home / "models" / "openai-whisper" / "my-tiny.pt")


@needs_torch
def test_local_models_are_listed_and_usable(private_home, converted):
    local = private_home / "models" / "local"
    local.mkdir()
    (local / "mine.pt").symlink_to(converted)
    ct2 = local / "my-faster"
    ct2.mkdir()
    for item in Path(resolve_ct2("tiny.en").location).iterdir():
        if item.is_file():
            (ct2 / item.name).symlink_to(item)
    found = {(m.name, m.engine): m for m in list_models()}
    assert found[("mine", "openai-whisper")].kind == "local"
    assert found[("mine", "openai-whisper")].size_bytes == converted.stat().st_size
    assert found[("my-faster", "faster-whisper")].kind == "local"
    assert found[("tiny.en", "openai-whisper")].kind == "converted"
    source = resolve_ct2("my-faster")  # faster-whisper finds a local folder by its name too
    assert source.location == str(ct2) and source.english_only


def test_models_help_exists(runner):
    for args in (
        ("models", "--help"),
        ("models", "convert", "--help"),
        ("models", "list", "--help"),
    ):
        result = run(runner, *args)
        assert result.exit_code == 0 and "Usage:" in result.stdout


@pytest.mark.parametrize(
    ("blocked", "args", "expected"),
    [
        (
            "whisper",
            [
                "analyze",
                "tests/data/known_en_stereo44k.wav",
                "--engine",
                "openai-whisper",
                "--model",
                "tiny.en",
                "--language",
                "en",
                "--no-save",
            ],
            (
                "the openai-whisper engine is not installed (whisper is missing); install it "
                "with: pip install 'speechcoach[openai-whisper]'"
            ),
        ),
        (
            "torch",
            ["models", "convert", "tiny.en", "--force"],
            (
                "converting for openai-whisper needs PyTorch; install it with: pip install "
                "'speechcoach[openai-whisper]'"
            ),
        ),
    ],
)
def test_without_the_extra_the_error_says_how_to_install(blocked, args, expected, home):
    """A Python where the package cannot be imported (None in sys.modules makes `import` fail)."""
    import subprocess
    import sys

    code = f"import sys; sys.modules[{blocked!r}] = None; from speechcoach.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=600,
    )
    assert done.returncode == 1, done.stderr
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
