"""Is a transcript good enough to coach on? Refuse audio Whisper could not hear reliably.

A noisy or very quiet recording can come back from Whisper empty, as a few words, or as
invented text (looping phrases, letters spelled one by one, subtitles credits). Scoring that
would be worse than no report, so `unusable_reason` names what went wrong and the analysis
stops with one line: "too noisy or too quiet to transcribe reliably: <reason>; record again
closer to the microphone".

Two checks, both against what the voice activity detector heard (see vad.py):
- voice for a long time but almost no words: fewer than MIN_WORDS_PER_VOICE_S words (or, in a
  language written without spaces, MIN_CHARS_PER_VOICE_S characters) per second of voice;
- most of the transcript unreliable: more than MAX_LOW_CONFIDENCE_SHARE of the words come with
  Whisper's own probability under LOW_CONFIDENCE.
Thresholds: fluent speech is 2-3 words per second of voice. On the development clips of
tests/data/real/ (clean, white noise and babble at 15 dB; scripts/eval_real.py prints the
share per clip), transcripts with more than 40 % of their words under 30 % confidence had
WER 65-112 % (invented text), those under it 0-59 %.
"""

from __future__ import annotations

from collections.abc import Sequence

MIN_VOICE_S = 8.0  # shorter voice activity is judged by the "too little speech" check instead
MIN_WORDS_PER_VOICE_S = 0.5
MIN_CHARS_PER_VOICE_S = 1.0
LOW_CONFIDENCE = 0.3
MAX_LOW_CONFIDENCE_SHARE = 0.4
MIN_WORDS_FOR_SHARE = 10  # a share over fewer words says nothing
ADVICE = "record again closer to the microphone, away from noise"


def unusable_reason(words: Sequence, voice_s: float, spaced: bool = True) -> str | None:
    """Why the transcript cannot be trusted, or None when it can."""
    words = [w for w in words if w.text.strip()]
    if voice_s >= MIN_VOICE_S:
        if spaced and len(words) < MIN_WORDS_PER_VOICE_S * voice_s:
            return f"{voice_s:.0f} s of voice but only {len(words)} words recognised"
        chars = sum(len(w.text.strip()) for w in words)
        if not spaced and chars < MIN_CHARS_PER_VOICE_S * voice_s:
            return f"{voice_s:.0f} s of voice but only {chars} characters recognised"
    if len(words) >= MIN_WORDS_FOR_SHARE:
        low = sum(1 for w in words if w.probability < LOW_CONFIDENCE)
        if low > MAX_LOW_CONFIDENCE_SHARE * len(words):
            return (
                f"{100 * low // len(words)} % of the words were recognised with low confidence "
                f"(under {LOW_CONFIDENCE:.0%})"
            )
    return None


def message(reason: str) -> str:
    return f"too noisy or too quiet to transcribe reliably: {reason}; {ADVICE}"
