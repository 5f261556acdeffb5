"""The analysis record (speechcoach/result.py): its JSON round trip, validation, upgrade of
older records, and the shipped JSON Schema that `analyze --json` output is checked against."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
from click.testing import CliRunner
from conftest import DATA, ROOT

from speechcoach.cli import main
from speechcoach.result import SCHEMA_VERSION, AnalysisResult, ResultError, from_json, json_schema

SCHEMA_FILE = ROOT / "speechcoach" / "schema.json"
STORED_V1 = DATA / "web_analysis_ja.json"  # written before the record had a schema version


def v1() -> dict:
    return json.loads(STORED_V1.read_text(encoding="utf-8"))


def validate(record: dict) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(record)


def test_the_shipped_schema_is_generated_from_the_record():
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == json_schema(), (
        "regenerate it: python -m speechcoach.result > speechcoach/schema.json"
    )


def test_a_version_1_record_is_upgraded_once_and_round_trips():
    data = v1()
    assert "schema" not in data and "feedback_language" not in data
    record = from_json(data)
    assert isinstance(record, AnalysisResult) and record.schema == SCHEMA_VERSION
    # judged in characters per minute: the feedback was Japanese, and so are the titles
    assert record.feedback_language == "ja"
    assert record.pace.metric == "chars_per_min" and record.pace.unit == "chars/min"
    assert record.components["japan"].title == "日本に来た理由"
    out = record.to_json()
    validate(out)
    assert from_json(out) == record
    # nothing the old record held is lost or changed: only the new fields are added
    assert {k: v for k, v in out.items() if k in data and k != "components"} == {
        k: v for k, v in data.items() if k != "components"
    }
    for cid, component in data["components"].items():
        assert {k: v for k, v in out["components"][cid].items() if k in component} == component


def test_an_english_record_is_coached_in_english_even_when_whisper_said_ja():
    data = v1()
    data["judgements"] = {"duration": "ok", "wpm": "ok"}
    assert from_json(data).feedback_language == "en"
    assert from_json(data).components["project"].title == "Recent project"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.pop("file"), 'lacks "file"'),
        (
            lambda d: d.update(score=62.5),
            'has "score" as the number 62.5 (expected a whole number from 0 to 100)',
        ),
        (lambda d: d.update(components=[]), 'has "components" as a list (expected an object)'),
        (
            lambda d: d["components"]["japan"].update(covered="yes"),
            'has "components.japan.covered" as a string (expected true or false)',
        ),
        (
            lambda d: d["pauses"].update(longest_s="1"),
            'has "pauses.longest_s" as a string (expected a number or null)',
        ),
        (
            lambda d: d.update(duration_s=float("nan")),
            'has "duration_s" as the number nan (expected a number)',
        ),
        (lambda d: d["tips"][0].pop("message"), 'lacks "tips[0].message"'),
    ],
)
def test_a_damaged_record_is_named_by_its_first_problem(change, problem):
    data = v1()
    change(data)
    with pytest.raises(ResultError) as caught:
        from_json(data)
    assert caught.value.problem == problem


def test_a_record_from_a_newer_speechcoach_is_refused_with_what_to_do():
    data = copy.deepcopy(v1()) | {"schema": SCHEMA_VERSION + 1}
    with pytest.raises(ResultError, match="newer speechcoach.*upgrade speechcoach"):
        from_json(data)


@pytest.mark.slow
def test_analyze_json_output_validates_against_the_shipped_schema():
    done = CliRunner().invoke(main, ["analyze", str(DATA / "known_en.wav"), "--json", "--no-save"])
    assert done.exit_code == 0, done.output
    record = json.loads(done.stdout)
    validate(record)
    assert record["schema"] == SCHEMA_VERSION and record["feedback_language"] == "en"
    assert record["pace"] == {"metric": "wpm", "unit": "words/min"}
    assert from_json(record).to_json() == record


def test_a_record_before_schema_4_gets_its_pitfalls_sentence_start():
    old = json.loads((DATA / "web_analysis_ja.json").read_text(encoding="utf-8"))
    old = copy.deepcopy(old) | {"schema": 3}
    old["pitfalls"] = [{"id": "badmouth", "text": "上司がひどい。", "start": 12.5, "end": 14.0}]
    upgraded = from_json(old)
    assert upgraded.schema == 4
    assert upgraded.pitfalls[0].sentence_start == 12.5
