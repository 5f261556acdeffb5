"""The package's import structure: no import cycle between speechcoach's modules, and the
history commands start without the audio stack (numpy, librosa, Whisper)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

from conftest import DATA, ROOT

PACKAGE = ROOT / "speechcoach"
HEAVY = ("numpy", "librosa", "faster_whisper", "ctranslate2", "torch")


def _module_name(path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path, name: str) -> set[str]:
    """speechcoach modules that `name` imports anywhere (a function-level import is a
    dependency too), except those only for type annotations (`if TYPE_CHECKING:`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skipped = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            target = f"{base}.{node.module}" if node.module else base
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("speechcoach"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("speechcoach"))
    return found


def test_no_import_cycle():
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {
        name: {
            m
            for m in _imports(path, name)
            if m in modules and m != name and not name.startswith(m + ".")  # not a parent
        }
        for name, path in modules.items()
    }
    done: set[str] = set()

    def visit(name: str, stack: list[str]) -> None:
        if name in stack:
            raise AssertionError(
                "import cycle: " + " -> ".join(stack[stack.index(name) :] + [name])
            )
        if name in done:
            return
        for nxt in sorted(graph[name]):
            visit(nxt, stack + [name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_history_commands_start_without_the_audio_stack(tmp_path):
    """`history`, `show` and `export` read SQLite and JSON only: no numpy (0.3-0.5 s)."""
    analysis = json.loads((DATA / "web_analysis_ja.json").read_text(encoding="utf-8"))
    audio = tmp_path / "intro.wav"
    audio.write_bytes(b"not audio, only hashed")
    code = f"""
import json, sys
from speechcoach.store import History
with History.open() as h:
    h.save(json.loads({json.dumps(json.dumps(analysis))}), {str(audio)!r})
from speechcoach.cli import main
for args in (["history"], ["show", "1"], ["export", {str(tmp_path / "out.json")!r}]):
    try:
        main(args, standalone_mode=False)
    except SystemExit as exc:
        assert not exc.code, (args, exc.code)
print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)), file=sys.stderr)
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "SPEECHCOACH_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 0, done.stderr
    assert "intro.wav" in done.stdout
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []


def test_english_default_analysis_loads_one_model_and_not_librosa(tmp_path):
    """`speechcoach analyze` on English with the defaults (language detected by the model that
    transcribes) loads one Whisper model, and none of what it does not need: librosa with
    scipy.signal/scipy.stats/numba (~200 MB and seconds of a cold start; acoustics.py computes
    its yin and MFCC), the Japanese dictionary, torch."""
    code = f"""
import json, sys
import faster_whisper
loaded = []
load = faster_whisper.WhisperModel.__init__
def counting(self, *args, **kwargs):
    loaded.append(1)
    load(self, *args, **kwargs)
faster_whisper.WhisperModel.__init__ = counting
from speechcoach.cli import main
try:
    main(["analyze", {str(DATA / "known_en.wav")!r}, "--json", "--no-save"])
except SystemExit as exc:
    assert not exc.code, exc.code
heavy = ("librosa", "numba", "scipy.signal", "scipy.stats", "sudachipy", "torch")
print(json.dumps([len(loaded), sorted(m for m in heavy if m in sys.modules)]), file=sys.stderr)
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["language"] == "en"
    assert json.loads(done.stderr.strip().splitlines()[-1]) == [1, []]
