"""Which sentences may be evidence for a part of the introduction, and which parts are denied.

Matching by meaning alone puts "Good morning, I'm Maria, a backend developer from Chile." near
the project examples and "I'm not sure why I came to Japan." near the reasons for Japan. The
rules here, per language in the `evidence` section of `languages/<lang>/checks.json`, take
such sentences out before any part is decided:

- not evidence: a sentence that only greets, gives a name or a job title, or says where someone
  lives or comes from, with no reason in it ("because", "so", "to build ...");
- a denial: a sentence that says a part is absent ("I don't really have a plan yet") is no
  evidence either, and the part it denies is not covered (its tip quotes the sentence).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache

from .checks import checks_path

__all__ = ["EvidenceRules", "load_evidence_rules"]


@dataclass(frozen=True)
class EvidenceRules:
    not_evidence: tuple[re.Pattern, ...]
    reason_markers: tuple[re.Pattern, ...]
    negations: dict[str, tuple[re.Pattern, ...]]  # component id -> patterns that deny it
    negation_tip: str  # with {time}, {sentence}, {message}
    # The one tip of a recording that does not sound like a self-introduction (content.py).
    not_introduction_tip: str = ""

    def is_preamble(self, text: str) -> bool:
        """A greeting, a name, a title or a place of residence, with no reason given."""
        return any(p.search(text) for p in self.not_evidence) and not any(
            p.search(text) for p in self.reason_markers
        )

    def denied(self, text: str) -> str | None:
        """The component this sentence says is absent, or None."""
        return next(
            (
                cid
                for cid, patterns in self.negations.items()
                if any(p.search(text) for p in patterns)
            ),
            None,
        )


@cache
def load_evidence_rules(language: str) -> EvidenceRules | None:
    path = checks_path(language)
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8")).get("evidence")
    if data is None:
        return None

    def compile_all(patterns) -> tuple[re.Pattern, ...]:
        return tuple(re.compile(p, re.IGNORECASE) for p in patterns)

    return EvidenceRules(
        compile_all(data["not_evidence"]),
        compile_all(data["reason_markers"]),
        {cid: compile_all(ps) for cid, ps in data["negations"].items()},
        data["negation_tip"],
        data.get("not_introduction_tip", ""),
    )
