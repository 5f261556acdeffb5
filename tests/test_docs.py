"""The README's promises hold: CI runs its test command, the shipped data is current."""

import re
import subprocess
import sys

import pytest
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


# Fields the CLI adds to the record it prints (not part of the analysis itself).
CLI_FIELDS = {"attempt_id"}


def readme_json_fields() -> dict[str, str]:
    """The README's field table ("JSON output"): documented name -> its meaning."""
    section = (ROOT / "README.md").read_text().split("## JSON output", 1)[1].split("\n## ", 1)[0]
    fields = {}
    for names, meaning in re.findall(r"^\| (`[^|]+`) \| (.+) \|$", section, flags=re.M):
        for name in re.findall(r"`([a-z_0-9]+)`", names):
            fields[name] = meaning
    return fields


def _braced_names(text: str) -> list[str] | None:
    """The top-level names of the first `{a, b: [...], c}` in `text`."""
    start = text.find("{")
    if start < 0:
        return None
    names, depth, current = [], 0, ""
    for char in text[start:]:
        depth += char in "{[" and 1 or char in "}]" and -1 or 0
        if depth == 0:
            break
        if depth == 1 and char in ",{":
            current and names.append(current)
            current = ""
        elif depth == 1 and char not in "}":
            current += char
    names.append(current)
    return [n.split(":")[0].strip() for n in names if n.strip()]


def _record_type(tp):
    """The record class inside `tp` (unwrapping Optional, tuple[...], dict[str, ...])."""
    import dataclasses
    import typing

    while not dataclasses.is_dataclass(tp):
        args = [a for a in typing.get_args(tp) if a is not type(None) and a is not Ellipsis]
        if not args:
            return None
        tp = args[-1]
    return tp


def test_readme_field_table_matches_the_record():
    import dataclasses
    import typing

    from speechcoach.result import AnalysisResult

    documented = readme_json_fields()
    hints = typing.get_type_hints(AnalysisResult)
    assert set(documented) - CLI_FIELDS == set(hints), "README 'JSON output' table"
    for name, meaning in documented.items():
        record = _record_type(hints.get(name))
        listed = _braced_names(meaning)
        if record is None or listed is None:
            continue
        assert listed == [f.name for f in dataclasses.fields(record)], name


@pytest.mark.slow
def test_the_readme_example_report_is_what_analyze_prints(analyzer):
    """The README's "What you get" block, line for line and in order, is in the report analyze
    prints for the sample at 100 columns ("..." lines stand for lines left out)."""
    from speechcoach.report import render_report

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("$ speechcoach analyze samples/intro_weak_en.mp3\n", 1)[1]
    example = [line for line in block.split("\n```", 1)[0].splitlines() if line.strip() != "..."]
    record = analyzer.analyze_file(ROOT / "samples" / "intro_weak_en.mp3").to_dict()
    printed = render_report(record, width=100).splitlines()
    at = 0
    for line in example:
        assert line in printed[at:], f"README line not printed (in order): {line!r}"
        at = printed.index(line, at) + 1
