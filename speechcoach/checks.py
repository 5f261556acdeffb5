"""What each part of the introduction says and lacks: the article's sub-points, per component.

Each component has sub-points (`japan`: career_reason, commitment; `project`: concept, role,
tools, result; ...), defined per language in `languages/<lang>/checks.json` as phrase patterns.
A sub-point is present when one of its patterns matches a sentence that belongs to the
component: one of its evidence sentences, or a sentence right next to one that is evidence for
nothing else ("It cut delivery times by fifteen percent." after the project's sentence says the
project's result without naming a project). A sub-point may instead be derived (`requires` and
`unless_pitfalls`): `positive_framing` is the growth reason given with no blame.

The component's strength follows: "full" (every sub-point), "partial" (covered, some missing)
or "missing" (not covered), and its tip names exactly what is missing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = [
    "CHECKS_FILE",
    "SubPointDef",
    "CheckRules",
    "SubPointResult",
    "load_checks",
    "evaluate_checks",
    "strength",
]

CHECKS_FILE = "checks.json"
# A sentence this close (in sentences) to a component's evidence, and evidence for no other
# component, may carry one of its sub-points: speakers spread a part over a few sentences.
NEIGHBOUR_SPAN = 2
FULL, PARTIAL, MISSING = "full", "partial", "missing"


@dataclass(frozen=True)
class SubPointDef:
    id: str
    name: str  # in plain words, for tips: "your role"
    patterns: tuple[re.Pattern, ...]
    requires: str | None = None  # derived: present when this sub-point is ...
    unless_pitfalls: frozenset[str] = frozenset()  # ... and none of these pitfalls was found
    # A sentence that shows a pitfall cannot carry it ("I want to change jobs because I just
    # want to get out" gives no growth reason).
    not_in_pitfall_sentences: bool = False
    # The weak-reason pitfall this sub-point answers: a career reason for Japan means culture
    # was not the only reason (the report must not say both).
    answers_pitfall: str | None = None


@dataclass(frozen=True)
class CheckRules:
    language: str
    subpoints: dict[str, tuple[SubPointDef, ...]]  # component id -> its sub-points, in order
    partial_tip: dict[str, str]  # component id -> template with {have} and {missing}
    none_tip: dict[str, str]  # component id -> template with {missing}, when it has none
    nothing_yet: str  # {have} when the part names none of its sub-points
    list_separator: str
    last_separator: str  # before the last of a list of what is missing: "D or E"
    and_separator: str  # before the last of a list of what is there: "A, B and C"

    def names(self, cid: str, ids) -> list[str]:
        by_id = {s.id: s.name for s in self.subpoints[cid]}
        return [by_id[i] for i in ids]

    def join(self, items: list[str], last: str | None = None) -> str:
        if len(items) <= 1:
            return "".join(items)
        return self.list_separator.join(items[:-1]) + (last or self.last_separator) + items[-1]


@dataclass(frozen=True)
class SubPointResult:
    present: bool
    sentence: int | None = None  # index (in the analysed sentences) of the sentence that says it


def checks_path(language: str) -> Path:
    return Path(__file__).resolve().parent / "languages" / language / CHECKS_FILE


@cache
def load_checks(language: str) -> CheckRules | None:
    """The sub-point rules of `language`, or None when the language has no checks file."""
    path = checks_path(language)
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    subpoints = {}
    for cid, items in data["components"].items():
        subpoints[cid] = tuple(
            SubPointDef(
                s["id"],
                s["name"],
                tuple(re.compile(p, re.IGNORECASE) for p in s.get("patterns", ())),
                s.get("requires"),
                frozenset(s.get("unless_pitfalls", ())),
                bool(s.get("not_in_pitfall_sentences", False)),
                s.get("answers_pitfall"),
            )
            for s in items["subpoints"]
        )
    return CheckRules(
        language,
        subpoints,
        {cid: items["partial_tip"] for cid, items in data["components"].items()},
        {
            cid: items.get("partial_tip_none", items["partial_tip"])
            for cid, items in data["components"].items()
        },
        data["nothing_yet"],
        data["list_separator"],
        data["last_separator"],
        data.get("and_separator", data["last_separator"]),
    )


def evaluate_checks(
    rules: CheckRules,
    texts: list[str] | Mapping[str, list[str]],
    evidence: dict[str, list[int]],
    sentence_components: list[set[str]],
    sentence_pitfalls: list[set[str]],
    excluded: set[int],
    owners: list[frozenset[str]] | None = None,
) -> dict[str, dict[str, SubPointResult]]:
    """Sub-point results per component.

    `texts`: what each sentence says towards a sub-point, the same for every component or per
    component (a sentence that shows a pitfall without the words that show it: "I watched
    Studio Ghibli films" gives no career reason);
    `evidence[cid]`: indices of the sentences counted as evidence for `cid`, strongest first
    (empty when not covered); `sentence_components[i]` / `sentence_pitfalls[i]`: what sentence i
    was matched to; `excluded`: sentences that may never be evidence (greetings, negations,
    unreliable transcription); `owners[i]`: the components sentence i says most about (a
    neighbour lends a part a sub-point only when it is about that part, see content._owners).
    """
    found_pitfalls = set().union(*sentence_pitfalls) if sentence_pitfalls else set()
    out: dict[str, dict[str, SubPointResult]] = {}
    for cid, subs in rules.subpoints.items():
        said = texts.get(cid, []) if isinstance(texts, Mapping) else texts
        own = evidence.get(cid, [])
        scope = _scope(cid, own, sentence_components, excluded, len(said), owners)
        results: dict[str, SubPointResult] = {}
        for sub in subs:
            if not own:
                results[sub.id] = SubPointResult(False)
            elif sub.requires:
                base = results.get(sub.requires, SubPointResult(False))
                clean = not (found_pitfalls & sub.unless_pitfalls)
                results[sub.id] = SubPointResult(base.present and clean, base.sentence)
            else:
                hit = next(
                    (
                        i
                        for i in scope
                        if not (sub.not_in_pitfall_sentences and sentence_pitfalls[i])
                        and any(p.search(said[i]) for p in sub.patterns)
                    ),
                    None,
                )
                results[sub.id] = SubPointResult(hit is not None, hit)
        out[cid] = results
    return out


def _scope(
    cid: str,
    own: list[int],
    components: list[set[str]],
    excluded: set[int],
    n: int,
    owners: list[frozenset[str]] | None = None,
) -> list[int]:
    """The component's evidence (strongest first), then neighbours that are evidence for nothing
    and say most about this component: "Last year I ran a campaign for a new drink" next to a
    reason to change jobs is about a project, and lends that reason no growth."""
    near = sorted(
        {
            j
            for i in own
            for j in range(max(0, i - NEIGHBOUR_SPAN), min(n, i + NEIGHBOUR_SPAN + 1))
            if j not in own
            and j not in excluded
            and not components[j]
            and (owners is None or cid in owners[j])
        }
    )
    return list(own) + near


def strength(covered: bool, results: dict[str, SubPointResult]) -> str:
    if not covered:
        return MISSING
    return FULL if all(r.present for r in results.values()) else PARTIAL


def partial_message(rules: CheckRules, cid: str, results: dict[str, SubPointResult]) -> str:
    """ "Your project part says what you built but not your role or the tools you used."""
    have = rules.names(cid, [k for k, r in results.items() if r.present])
    missing = rules.names(cid, [k for k, r in results.items() if not r.present])
    if not have:
        return rules.none_tip[cid].format(missing=rules.join(missing))
    return rules.partial_tip[cid].format(
        have=rules.join(have, rules.and_separator) if have else rules.nothing_yet,
        missing=rules.join(missing),
    )
