"""A piece of advice: the shared currency of the delivery and content checks and the report."""

from __future__ import annotations

from dataclasses import dataclass

# The id of the tip that asks for a missing component: "missing:" + the component's id.
MISSING_TIP = "missing:"


@dataclass(frozen=True)
class Tip:
    """One thing to fix. The report shows the highest `priority` first (100 = most urgent).

    `sentence`/`start` point at what was said (None when the problem is something missing);
    `say_instead` is a concrete alternative from the article's advice.
    """

    id: str  # e.g. "missing:japan", "pitfall:badmouth", "pace:fast", "duration:short"
    priority: int
    message: str
    sentence: str | None = None
    start: float | None = None
    say_instead: str | None = None

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "priority": self.priority,
            "message": self.message,
            "sentence": self.sentence,
            "start": None if self.start is None else round(self.start, 2),
            "say_instead": self.say_instead,
        }
