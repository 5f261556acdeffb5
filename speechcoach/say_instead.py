"""'Say instead' that fits the speaker: several example rewrites per tip, the closest one shown.

Each tip id (`missing:<component>`, `pitfall:<id>`; a partial part uses its component's) has a
few variants in `languages/<lang>/say_instead.json`. Slots such as `{job|software engineer}` take
the speaker's own words when the transcript names them (their job title, the tools they used,
the city they live in), else the default. Of the filled variants, the one whose embedding is
closest to what the speaker said (their sentence for the tip, else the whole transcript) is
shown: a data analyst is not told to "brush up my skills in system design".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

__all__ = ["SayInstead", "load_say_instead"]

SAY_INSTEAD_FILE = "say_instead.json"
SLOT = re.compile(r"\{(\w+)(?:\|([^}]*))?\}")
MAX_TOOLS = 2  # "Python and AWS": more reads as a list, not a sentence


@dataclass(frozen=True)
class SayInstead:
    slots: dict[str, tuple[re.Pattern, ...]]
    variants: dict[str, tuple[str, ...]]
    joiner: str  # between two tools: " and " / "と"

    def speaker_words(self, texts: list[str]) -> dict[str, str]:
        """The speaker's own job title, tools and city, where the transcript names them."""
        words: dict[str, str] = {}
        for slot, patterns in self.slots.items():
            found: list[str] = []
            for text in texts:
                for p in patterns:
                    for m in p.finditer(text):
                        value = (m.group(1) if m.groups() else m.group(0)).strip()
                        if value.lower() not in (f.lower() for f in found):
                            found.append(value)
            if found:
                limit = MAX_TOOLS if slot == "tools" else 1
                words[slot] = self.joiner.join(found[:limit])
        return words

    def candidates(self, tip_id: str, words: dict[str, str]) -> list[str]:
        key = tip_id if tip_id in self.variants else tip_id.replace("partial:", "missing:")
        return [fill(t, words) for t in self.variants.get(key, ())]


def fill(template: str, words: dict[str, str]) -> str:
    return SLOT.sub(lambda m: words.get(m.group(1)) or (m.group(2) or ""), template)


def closest(candidate_vectors: np.ndarray, context_vectors: np.ndarray) -> int:
    """Index of the candidate with the highest similarity to any of the context sentences."""
    if len(context_vectors) == 0:
        return 0
    return int(np.argmax((candidate_vectors @ context_vectors.T).max(axis=1)))


@cache
def load_say_instead(language: str) -> SayInstead | None:
    path = Path(__file__).resolve().parent / "languages" / language / SAY_INSTEAD_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return SayInstead(
        {
            slot: tuple(re.compile(p, re.IGNORECASE) for p in patterns)
            for slot, patterns in data["slots"].items()
        },
        {tip: tuple(v) for tip, v in data["variants"].items()},
        data.get("joiner", " and "),  # how two slot values join ("A and B"; ja: "AとB")
    )
