"""The transcript types every stage shares: what Whisper heard, split into timed sentences.

Plain frozen dataclasses with no numpy, so that modules which only read results (the history
commands, the report) import them without loading the audio stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ACOUSTIC", "Filler", "Segment", "Sentence", "Transcript", "Word"]


# Whisper's own thresholds for a failed decoding (whisper/transcribe.py defaults), used to mark
# segments as unreliable (see Segment.unreliable).
UNRELIABLE_COMPRESSION = 2.4
UNRELIABLE_LOGPROB = -1.0
UNRELIABLE_NO_SPEECH = 0.6
UNRELIABLE_NO_SPEECH_LOGPROB = -0.5


@dataclass(frozen=True)
class Word:
    text: str  # as Whisper wrote it, usually with a leading space
    start: float  # seconds from the start of the recording
    end: float
    probability: float = 1.0


@dataclass(frozen=True)
class Segment:
    text: str
    start: float
    end: float
    words: tuple[Word, ...] = ()
    # Whisper's own measures of doubt (None where the engine gives none).
    avg_logprob: float | None = None
    compression_ratio: float | None = None
    no_speech_prob: float | None = None
    # Whisper wrote a loop here and decoding it again did not help (see loops.py).
    looped: bool = False

    @property
    def unreliable(self) -> bool:
        """Whisper's own failure signs, with the thresholds Whisper itself uses to retry a
        segment: a repetitive text (compression ratio > 2.4), a low average log-probability
        (< -1.0), or probably no speech at all (no-speech probability > 0.6 with a low
        log-probability); or a loop that survived decoding again (loops.py). Such a segment
        is marked in the JSON and never used as evidence."""
        if self.looped:
            return True
        if self.compression_ratio is not None and self.compression_ratio > UNRELIABLE_COMPRESSION:
            return True
        if self.avg_logprob is not None and self.avg_logprob < UNRELIABLE_LOGPROB:
            return True
        return (
            self.no_speech_prob is not None
            and self.no_speech_prob > UNRELIABLE_NO_SPEECH
            and self.avg_logprob is not None
            and self.avg_logprob < UNRELIABLE_NO_SPEECH_LOGPROB
        )


@dataclass(frozen=True)
class Transcript:
    """What the engine heard. `language` is an ISO 639-1 code ("en", "ja")."""

    language: str
    segments: tuple[Segment, ...]
    engine: str
    model: str
    language_probability: float = 1.0
    seconds: float = 0.0  # wall time spent transcribing (for the benchmark)

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments).strip()

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]


@dataclass(frozen=True)
class Sentence:
    text: str
    start: float  # seconds
    end: float
    index: int = 0  # position in the transcript, 0-based
    # Whisper's timed words, when the sentence was built from them: a pitfall is timed at the
    # words that trigger it, not at the sentence start (Whisper may join two sentences in one).
    words: tuple[Word, ...] = field(default=(), compare=False, repr=False)

    def time_at(self, offset: int) -> float:
        """When the character at `offset` of `text` was said: the start of the word holding it
        (the sentence start without word times, or when the words cannot be found in the text)."""
        at, cursor = self.start, 0
        folded = self.text.casefold()
        for word in self.words:
            piece = word.text.strip().casefold()
            found = folded.find(piece, cursor) if piece else -1
            if found < 0:
                continue
            if found > offset:
                break
            at, cursor = word.start, found + len(piece)
        return max(at, self.start)


# Filler.how of a held voice found in the sound (its text is delivery.HELD_FILLER, no word: the
# renderers name it in their language, never print the text).
ACOUSTIC = "acoustic"


@dataclass(frozen=True)
class Filler:
    text: str
    start: float  # seconds
    end: float | None = None
    # How it was found: "transcript" (Whisper wrote it) or "acoustic" (a held voice between
    # words that Whisper left out, see hesitation.py).
    how: str = "transcript"
