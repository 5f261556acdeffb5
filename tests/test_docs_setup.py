"""Issue 12 items 29-30: the set-up the README describes is the one users get, and the project
refers to nothing outside itself (a clone has no ../shared)."""

from __future__ import annotations

import dataclasses
import re

from conftest import ROOT

from speechcoach.config import Band, Targets

ARTICLE = "Reasons why you didn't get a callback"


def quick_start() -> str:
    return (ROOT / "README.md").read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]


def test_nothing_refers_to_files_outside_the_repository():
    offenders = []
    for path in [ROOT / "README.md", *sorted((ROOT / "speechcoach").rglob("*"))]:
        if path.is_file() and path.suffix in {
            ".md",
            ".py",
            ".json",
            ".toml",
            ".html",
            ".js",
            ".css",
        }:
            text = path.read_text(encoding="utf-8", errors="replace")
            offenders += [f"{path.relative_to(ROOT)}" for _ in re.finditer(r"shared/", text)]
    assert offenders == []


def test_the_rubric_is_described_in_the_project_citing_the_article():
    rubric = " ".join((ROOT / "docs" / "RUBRIC.md").read_text(encoding="utf-8").split())
    assert ARTICLE in rubric
    for component in ("`japan`", "`career_change`", "`project`", "`plan`"):
        assert component in rubric
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "docs/RUBRIC.md" in readme and ARTICLE in readme


def test_every_band_source_that_names_a_file_names_one_in_the_repository():
    for field in dataclasses.fields(Targets):
        band = getattr(Targets(), field.name)
        if isinstance(band, Band):
            for name in re.findall(r"[\w/]+\.md", band.source):
                assert (ROOT / name).is_file(), (field.name, band.source)


def test_quick_start_warns_about_the_cuda_torch_and_gives_the_cpu_build_and_sizes():
    text = " ".join(quick_start().split())
    assert "CUDA build" in text
    assert "https://download.pytorch.org/whl/cpu" in text
    assert not re.search(r"__[A-Z0-9]+__", text), "size placeholders left in the README"
    sizes = re.findall(r"\d[\d.]* (?:MB|GB)", text)
    assert len(sizes) >= 4, sizes  # download and disk, for each command
