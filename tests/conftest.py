"""Shared fixtures. Every test gets its own SPEECHCOACH_HOME (so history and recordings never
leak between tests or into the user's folder); the joined/converted model files are shared
across the session through a symlinked models/ folder, so they are built once per run."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

# A suite started in the background by a non-interactive shell (`bash -c 'pytest &'`) inherits
# SIGINT ignored, and so does every CLI it starts: the Ctrl-C tests would fail (the CLI never sees
# the signal). A handler here makes exec'd children start with the default action again.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SAMPLES = ROOT / "samples"


@pytest.fixture(scope="session")
def shared_models_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(autouse=True)
def home(tmp_path, shared_models_dir, monkeypatch) -> Path:
    """A fresh SPEECHCOACH_HOME for this test."""
    path = tmp_path / "home"
    path.mkdir()
    (path / "models").symlink_to(shared_models_dir, target_is_directory=True)
    monkeypatch.setenv("SPEECHCOACH_HOME", str(path))
    return path


@pytest.fixture(scope="session")
def clips() -> dict:
    """The manifest of committed clips (exact text, durations) written by scripts/make_clips.py."""
    manifest = json.loads((DATA / "clips.json").read_text(encoding="utf-8"))
    return manifest


@pytest.fixture(scope="session")
def analyzer():
    """One Analyzer for the whole session (each model loads once), as a batch run would.

    It writes only under models/, which every test's home shares through the symlink.
    """
    from speechcoach.analyze import Analyzer

    return Analyzer()
