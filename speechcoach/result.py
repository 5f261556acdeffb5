"""The analysis record: one typed, frozen result for one recording, and its JSON.

`AnalysisResult` is what `Analyzer.analyze_file` returns and what the report, the history, the
class summary and the web app read. `to_json()` gives the JSON printed by `analyze --json` and
stored in the history; `from_json()` is the only way back: it validates the data (an import, a
row of the history) field by field and upgrades a record written by an older speechcoach.

The field names, types and defaults below ARE the schema: `schema.json` is generated from them
(`python -m speechcoach.result > speechcoach/schema.json`, checked by tests/test_result.py),
and the README's field table is checked against them (tests/test_docs.py).

>>> r = from_json({"file": "a.wav", "duration_s": 150, ...})  # doctest: +SKIP
>>> r.score, r.components["japan"].covered, r.to_json()["pace"]  # doctest: +SKIP
(72, True, {'metric': 'wpm', 'unit': 'words/min'})
"""

from __future__ import annotations

import dataclasses
import math
import sys
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import SpeechcoachError

__all__ = [
    "SCHEMA_VERSION",
    "AnalysisResult",
    "ResultError",
    "from_json",
    "problem",
]

# 1: records before the schema had a version (no "schema" key); 2: adds schema,
# feedback_language, pace and the component titles; 3: adds transcript.segments[].unreliable,
# unreliable_share and warnings (issue 10's trust signals); 4: pitfalls[].start is when the words
# that trigger the pitfall were said, pitfalls[].sentence_start the start of their sentence. Bump
# it, and teach `_upgrade` the step, whenever a field is added or changes meaning.
SCHEMA_VERSION = 4
MAX_SCORE = 100

record = dataclass(frozen=True, kw_only=True)


class ResultError(SpeechcoachError):
    """The data is not an analysis record. `problem` says where, e.g.
    'has "components" as a list (expected an object)'."""

    def __init__(self, problem: str):
        super().__init__(f"not a speechcoach analysis: it {problem}")
        self.problem = problem


def _omit_if_none() -> Any:
    # A key written only when it has a value (as the records before version 2 did).
    return field(default=None, metadata={"omit_none": True})


# ------------------------------------------------------------------------------ the record


@record
class PaceWindow:
    """The pace in one 30-second window of the speaking span, as `rate` per minute in `unit`."""

    start: float | None = None
    end: float | None = None
    rate: float | None = None
    unit: str | None = None  # "words/min" or "chars/min"; absent before units: words/min
    wpm: float | None = None  # the rate when counted in words, else null


@record
class Pace:
    """Which pace the intro was judged by: `metric` is the key of the rate ("wpm" or
    "chars_per_min"), `unit` its unit."""

    metric: str
    unit: str


@record
class LongPause:
    start: float
    end: float
    duration: float


@record
class Pauses:
    count: int
    long_count: int
    total_s: float | None = None
    longest_s: float | None
    longest_at: float | None
    long: tuple[LongPause, ...] = ()
    min_pause_s: float
    long_pause_s: float


@record
class FillerItem:
    text: str
    start: float | None = None
    how: str | None = None  # "transcript" or "acoustic"; absent in older records


@record
class Fillers:
    count: int | None  # null: not counted (no filler list for the language)
    per_100_words: float | None = None
    per_min: float | None = None
    items: tuple[FillerItem, ...]
    method: str | None = None


@record
class Pitch:
    spread_semitones: float | None
    median_hz: float | None = None
    method: str | None = None


@record
class Loudness:
    spread_db: float | None
    method: str | None = None


@record
class Evidence:
    text: str
    start: float
    end: float | None = None


@record
class Check:
    """One sub-point of a component (e.g. the project's role or result) and its sentence."""

    present: bool
    evidence: Evidence | None = None


@record
class Component:
    title: str | None = None  # in the feedback language (filled in for older records)
    covered: bool
    confidence: float | None = None
    seconds: float
    evidence: tuple[Evidence, ...]  # strongest first
    strength: str | None = None  # "full" (every sub-point), "partial" or "missing"
    checks: dict[str, Check] = field(default_factory=dict)
    denied_by: Evidence | None = _omit_if_none()  # the sentence saying this part is absent


@record
class Order:
    sequence: tuple[str, ...]
    ok: bool
    note: str | None = None


@record
class Pitfall:
    id: str
    text: str
    start: float  # when the words that trigger it were said (before schema 4: the sentence start)
    end: float | None = None
    # The start of the sentence that holds it (the web app finds the sentence by it); records
    # before schema 4 get their `start`.
    sentence_start: float | None = None
    only_reason: bool | None = _omit_if_none()
    # The words that show the pitfall: a window of the sentence around them, cut with "…".
    quote: str | None = _omit_if_none()


@record
class Tip:
    id: str | None = None
    priority: float | None = None
    message: str
    sentence: str | None = None
    start: float | None = None
    say_instead: str | None = None


@record
class SentenceRecord:
    """A sentence as split for feedback, with its times (the web app highlights it)."""

    start: float
    end: float
    text: str


@record
class TranscriptSegment:
    start: float | None = None
    end: float | None = None
    text: str | None = None
    # Whisper's own doubt about this segment (see transcribe.Segment.unreliable): never evidence.
    unreliable: bool | None = _omit_if_none()


@record
class TranscriptText:
    text: str | None = None
    segments: tuple[TranscriptSegment, ...] = ()


@record
class AnalysisResult:
    """Everything speechcoach says about one recording (see the README's field table)."""

    schema: int = SCHEMA_VERSION
    file: str
    language: str | None = None  # what Whisper detected (or --language)
    feedback_language: str | None = None  # the language of the tips, verdicts and titles
    engine: str | None = None
    model: str | None = None
    duration_s: float
    speech_s: float
    voiced_s: float | None = None
    target_s: float
    word_count: int | None = None
    wpm: float | None = None
    articulation_wpm: float | None = None
    chars_per_min: float | None = None
    morae_per_min: float | None = None
    pace: Pace | None = None
    pace_windows: tuple[PaceWindow, ...]
    pauses: Pauses
    fillers: Fillers
    pitch: Pitch
    loudness: Loudness
    components: dict[str, Component]
    order: Order
    pitfalls: tuple[Pitfall, ...]
    score: int = field(metadata={"range": (0, MAX_SCORE)})
    score_basis: str | None = None
    score_parts: dict[str, float] = field(default_factory=dict)
    judgements: dict[str, str]
    bands: dict[str, str]
    tips: tuple[Tip, ...]
    sentences: tuple[SentenceRecord, ...] = ()
    # The report and the history read no transcript: a record kept without one still shows.
    transcript: TranscriptText = field(default_factory=TranscriptText)
    # Share of the speech (by time) in segments Whisper flagged as unreliable; null before 3.
    unreliable_share: float | None = None
    warnings: tuple[str, ...] = ()  # e.g. a forced --language that the speech contradicts
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def content_checked(self) -> bool:
        return bool(self.components)

    @property
    def covered(self) -> list[str]:
        """Ids of the components the intro covers, in rubric order."""
        return [cid for cid, c in self.components.items() if c.covered]

    def to_json(self) -> dict:
        """The JSON-ready dict (`analyze --json`, the history, exports)."""
        return _to_json(self)

    to_dict = to_json  # the name the first versions used


# ------------------------------------------------------------------------------ JSON out


def _to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        out = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if item is None and f.metadata.get("omit_none"):
                continue
            out[f.name] = _to_json(item)
        return out
    if isinstance(value, (tuple, list)):
        return [_to_json(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _to_json(v) for k, v in value.items()}
    return value


# ------------------------------------------------------------------------------ JSON in


def from_json(data: Any, *, where: str = "") -> AnalysisResult:
    """The record in `data` (a dict from `to_json`, the history or an import), validated and
    upgraded to this version; ResultError names the first problem, e.g. 'lacks "file"'.

    `where` prefixes the key paths in the message ("analysis" gives "analysis.file").
    """
    if isinstance(data, AnalysisResult):
        return data
    version = data.get("schema", 1) if isinstance(data, Mapping) else None
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise ResultError(
            f"was written by a newer speechcoach (schema {version}; this one reads up to "
            f"{SCHEMA_VERSION}): upgrade speechcoach"
        )
    result = _convert(data, AnalysisResult, where)
    return _upgrade(result)


def parse(value: Any, tp: Any, where: str = "") -> Any:
    """`value` (JSON) as the record type `tp`, e.g. `parse(d, dict[str, Component])`;
    ResultError names the first problem."""
    return _convert(value, tp, where)


def problem(data: Any, *, where: str = "") -> str | None:
    """What is wrong with `data` as an analysis record (None: nothing)."""
    try:
        from_json(data, where=where)
    except ResultError as exc:
        return exc.problem
    return None


def _upgrade(r: AnalysisResult) -> AnalysisResult:
    """Fill in what older records lack, from what they hold (schema 1 -> 2, 3 -> 4)."""
    if r.schema >= SCHEMA_VERSION and r.feedback_language and r.pace:
        return r
    # Before 4 a pitfall was timed at its sentence's start.
    pitfalls = tuple(
        p if p.sentence_start is not None else dataclasses.replace(p, sentence_start=p.start)
        for p in r.pitfalls
    )
    from . import languages

    feedback = r.feedback_language or judged_language(r.language, r.judgements)
    metric = languages.recorded_pace(r.language, r.judgements)
    pace = r.pace or Pace(metric=metric, unit=languages.PACE_UNITS[metric])
    titles = languages.component_titles(feedback)
    components = {
        cid: c if c.title else dataclasses.replace(c, title=titles.get(cid, cid))
        for cid, c in r.components.items()
    }
    return dataclasses.replace(
        r,
        schema=SCHEMA_VERSION,
        feedback_language=feedback,
        pace=pace,
        components=components,
        pitfalls=pitfalls,
    )


def judged_language(language: str | None, judgements: Mapping) -> str:
    """The feedback language of a schema-1 record (see languages.judged_language)."""
    from . import languages

    return languages.judged_language(language, judgements)


def _is_number(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and math.isfinite(value)
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def kind(value: Any) -> str:
    """A JSON value's type, in words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"the number {value:g}" if isinstance(value, float) else f"the number {value}"
    names = {dict: "an object", list: "a list", str: "a string"}
    return names.get(
        type(value), "an object" if isinstance(value, Mapping) else type(value).__name__
    )


def _wrong(where: str, value: Any, expected: str) -> ResultError:
    return ResultError(
        f'has "{where}" as {kind(value)} (expected {expected})'
        if where
        else f"is {kind(value)} (expected {expected})"
    )


_LEAVES = {
    float: ("a number", _is_number),
    int: ("a whole number", _is_int),
    str: ("a string", lambda v: isinstance(v, str)),
    bool: ("true or false", lambda v: isinstance(v, bool)),
}


def _split_optional(tp: Any) -> tuple[Any, bool]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0], len(args) < len(typing.get_args(tp))
    return tp, False


def _convert(value: Any, tp: Any, where: str, meta: Mapping | None = None) -> Any:
    tp, nullable = _split_optional(tp)
    if value is None and nullable:
        return None
    or_null = " or null" if nullable else ""
    if tp in _LEAVES:
        name, test = _LEAVES[tp]
        low, high = (meta or {}).get("range", (None, None))
        if low is not None:
            name = f"{name} from {low} to {high}"
            ok = test(value) and low <= value <= high
        else:
            ok = test(value)
        if not ok:
            raise _wrong(where, value, name + or_null)
        # A number field is a float even when written whole (0 -> 0.0): the analyzer builds its
        # record through here too, so a record read back prints as the analyzer wrote it.
        return float(value) if tp is float else value
    origin = typing.get_origin(tp)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise _wrong(where, value, "a list" + or_null)
        item = typing.get_args(tp)[0]
        return tuple(_convert(v, item, f"{where}[{n}]") for n, v in enumerate(value))
    if not isinstance(value, Mapping):
        raise _wrong(where, value, "an object" + or_null)
    if origin is dict:
        item = typing.get_args(tp)[1]
        return {k: _convert(v, item, f"{where}.{k}" if where else k) for k, v in value.items()}
    return _convert_record(value, tp, where)


def _convert_record(value: Mapping, cls: type, where: str) -> Any:
    hints = _hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        path = f"{where}.{f.name}" if where else f.name
        if f.name not in value:
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            if required:
                raise ResultError(f'lacks "{path}"')
            continue
        values[f.name] = _convert(value[f.name], hints[f.name], path, f.metadata)
    return cls(**values)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


# ------------------------------------------------------------------------------ JSON Schema


def json_schema() -> dict:
    """The JSON Schema (draft 2020-12) of `to_json()`'s output, generated from the record."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/speechcoach/speechcoach/schema.json",
        "title": "speechcoach analysis",
        "description": (AnalysisResult.__doc__ or "").strip(),
        **_schema_of(AnalysisResult),
    }


def _schema_of(tp: Any, meta: Mapping | None = None) -> dict:
    tp, nullable = _split_optional(tp)
    schema = _schema_of_type(tp, meta)
    if nullable:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


def _schema_of_type(tp: Any, meta: Mapping | None) -> dict:
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        low, high = (meta or {}).get("range", (None, None))
        bounds = {} if low is None else {"minimum": low, "maximum": high}
        return {"type": "integer", **bounds}
    if tp is float:
        return {"type": "number"}
    if tp is str:
        return {"type": "string"}
    origin = typing.get_origin(tp)
    if origin is tuple:
        return {"type": "array", "items": _schema_of(typing.get_args(tp)[0])}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema_of(typing.get_args(tp)[1])}
    hints = _hints(tp)
    fields = dataclasses.fields(tp)
    schema: dict[str, Any] = {"type": "object"}
    if tp.__doc__ and tp is not AnalysisResult and not tp.__doc__.startswith(tp.__name__ + "("):
        schema["description"] = " ".join(tp.__doc__.split())
    schema["properties"] = {f.name: _schema_of(hints[f.name], f.metadata) for f in fields}
    schema["required"] = [
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    return schema


if __name__ == "__main__":  # python -m speechcoach.result > speechcoach/schema.json
    import json

    sys.stdout.write(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n")
