"""The `Language` interface: everything the generic pipeline asks of a language.

A pack is a folder `speechcoach/languages/<code>/` of data files (components.json: the content
rubric; fillers.json; delivery.json and report.json: the feedback texts; embeddings.npz) and,
where the language needs it, code: a subclass of `Language` registered in `languages/__init__`.
A spaced language needs no code at all: `Generic` reads its folder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from importlib import resources
from importlib.resources.abc import Traversable

from ..errors import SpeechcoachError
from ..feedback import Tip
from ..types import Filler, Sentence, Word

PACKAGE = "speechcoach.languages"
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")  # an ISO 639-1/-3 code: never a path
# Pace metrics (keys of the analysis record) and the unit each is judged in.
WPM, CHARS_PER_MIN = "wpm", "chars_per_min"
PACE_UNITS = {WPM: "words/min", CHARS_PER_MIN: "chars/min"}


class Language:
    """One language: its units, sentence ends, fillers, extra tips and texts.

    The defaults suit a spaced language (words separated by spaces, pace in words per minute,
    fillers from the pack's fillers.json).
    """

    code: str = ""
    spaced: bool = True  # words are separated by spaces (pieces join with " ")
    pace_metric: str = WPM  # the key of the pace judged for an intro in this language
    # An initial prompt written with fillers, which can make Whisper keep them (None: none;
    # transcribe.TranscribeOptions.filler_prompt turns it on).
    filler_prompt: str | None = None

    def __init__(self, code: str | None = None):
        if code is not None:
            self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r})"

    @property
    def pace_unit(self) -> str:
        return PACE_UNITS[self.pace_metric]

    # -------------------------------------------------------------------------- data files

    def file(self, name: str) -> Traversable | None:
        """The pack's data file `name`, or None when the pack has none."""
        if not LANGUAGE_CODE.fullmatch(self.code or ""):
            return None
        try:
            path = resources.files(PACKAGE).joinpath(self.code, name)
        except (FileNotFoundError, ModuleNotFoundError):
            return None
        return path if path.is_file() else None

    def data(self, name: str) -> dict | None:
        """The parsed JSON file `name` of the pack; None when absent. Invalid JSON is a
        SpeechcoachError naming the file (a broken install, not a crash)."""
        path = self.file(name)
        if path is None:
            return None
        try:
            return json.loads(path.read_text("utf-8"))
        except ValueError as exc:
            raise SpeechcoachError(
                f"languages/{self.code}/{name} is not valid JSON ({exc}); "
                "fix it or reinstall speechcoach"
            ) from exc

    # -------------------------------------------------------------------------- text

    def join(self, words: Sequence[Word], segment_starts: Sequence[bool]) -> str:
        """The text of a run of Whisper's word pieces."""
        if self.spaced:
            return _join_spaced([w.text for w in words])
        from .nospace import join_pieces  # keeps the spaces of English words inside

        return join_pieces([w.text for w in words], list(segment_starts))

    def ends_sentence(
        self, current: Sequence[Word], upcoming: Sequence[Word], pause: bool, starts: Sequence[bool]
    ) -> bool:
        """Does a sentence end after `current` where the transcript has no punctuation?
        Most languages: only at punctuation or a long pause (see sentences.py)."""
        return False

    def sentence_start(self, first: Word) -> float:
        """When a sentence beginning with `first` starts: in a no-space language, the pause
        Whisper folded into a stretched first piece is not speech."""
        from .nospace import STRETCHED_PIECE_S, stretched

        if not self.spaced and stretched(first):
            return first.end - STRETCHED_PIECE_S / 2
        return first.start

    def count_words(self, words: Sequence[Word]) -> int:
        """Words for words per minute: none where Whisper's pieces are not words."""
        return len(words) if self.spaced else 0

    def matches(self, pattern: re.Pattern, text: str) -> bool:
        """Does a rubric pattern match `text`? Where a language writes one word several ways
        (Japanese kanji or kana), its pack also matches on the reading."""
        return bool(pattern.search(text))

    # -------------------------------------------------------------------------- fillers

    def fillers(self, words: Sequence[Word], sentences: Sequence[Sentence]) -> list[Filler] | None:
        """Filler words with the time each was said; None when the pack has no filler list
        (then nothing can be said about fillers, not even "none found")."""
        rules = self.data("fillers.json")
        if rules is None:
            return None
        if self.spaced:
            from .spaced import spaced_fillers

            return spaced_fillers(words, sentences, rules)
        return _standalone_fillers(words, rules)

    # -------------------------------------------------------------------------- feedback

    def extra_tips(self, sentences: Sequence[Sentence]) -> list[Tip]:
        """Tips only this language has (Japanese: the です/ます register)."""
        return []


def _standalone_fillers(words: Sequence[Word], rules: dict) -> list[Filler]:
    # No-space languages: Whisper's word pieces are not words; match filler strings that stand
    # as a piece of their own (えー、あの、) so that その in その後 is not counted.
    fillers = sorted(rules["always"], key=len, reverse=True)
    found = []
    for word in words:
        piece = word.text.strip().rstrip("、。,.!?！？ー")
        if piece and any(piece == f.rstrip("ー") for f in fillers):
            found.append(Filler(word.text.strip(), word.start))
    return found


# A piece Whisper writes with no leading space that continues the word before it: ",000" in
# "$50,000", "-end" in "back-end". Joined with a space they read "$50 ,000" (qa.md 20).
ATTACHED_PIECE = re.compile(r"^[,.;:!?%)\]'’-]")


def _join_spaced(pieces: Sequence[str]) -> str:
    out = ""
    for piece in pieces:
        text = piece.strip()
        if not text:
            continue
        glued = out and not piece[:1].isspace() and ATTACHED_PIECE.match(text)
        out += text if glued else (" " + text if out else text)
    return out
