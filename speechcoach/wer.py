"""Word error rate, for the benchmark and the engine-parity tests (not used by the analysis)."""

from __future__ import annotations

import re


def normalise(text: str) -> list[str]:
    """Lower-case words without punctuation; hyphens split words ("back-end" = "back end")."""
    return re.sub(r"[^\w\s']", " ", text.lower().replace("-", " ")).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word-level Levenshtein distance / number of reference words (0.0 = identical)."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(1, len(ref))
