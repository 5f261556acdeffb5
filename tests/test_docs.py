"""The README's promises hold: CI runs its test command, the shipped data is current."""

import re
import subprocess
import sys

from conftest import ROOT


def readme_commands() -> list[str]:
    quick = (ROOT / "README.md").read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", quick)


def test_quick_start_is_exactly_two_commands_and_ci_runs_the_second():
    commands = readme_commands()
    assert len(commands) == 2
    assert "speechcoach analyze samples/" in commands[0]
    assert commands[1].strip() in (ROOT / ".ci" / "run").read_text()


def test_quick_start_sample_exists():
    sample = re.search(r"speechcoach analyze (samples/\S+)", readme_commands()[0]).group(1)
    assert (ROOT / sample).is_file()


def test_shipped_rubric_embeddings_are_current():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "embed_rubric.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
