"""Delivery: how the introduction sounded, measured from the audio (numpy; pitch as librosa
computes it, see acoustics.py) and the word timestamps. Every number here says how it was
computed (see `DeliveryMetrics`).

Definitions
- speech: what the voice activity detector (Silero VAD, see vad.py) hears as speech, refined
  with Whisper's word timestamps; a level rule above the noise floor when it cannot run;
- speaking span: from the start of the first to the end of the last speech region (the silence
  before the speaker starts and after they stop is not part of the intro's length);
- pause: a gap between speech regions inside the span of at least `Targets.pause_min_s`
  (200 ms, Gao et al. 2025);
- voiced time: speaking span minus pauses;
- words per minute: words as spoken (a number counts as the words it is read as, 1455 = three)
  / speaking span; articulation rate: words / voiced time;
- pace windows: the same rate per 30 s of the speaking span, in words per minute, or in Japanese
  characters per minute when the pace is judged in characters (a mostly Japanese intro);
- fillers: counted in the Whisper transcript (patterns, so every spelling counts), plus held
  voiced stretches between words that Whisper left out (hesitation.py); each says how it was
  found; a lower bound (Whisper drops many um/uh, and a short one is not held long enough).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from . import acoustics, hesitation, languages, vad
from .config import SAMPLE_RATE, Targets
from .levels import RMS_BLOCK, frame_rms, framed_blocks  # noqa: F401  (RMS_BLOCK: delivery API)
from .types import ACOUSTIC, Filler, Sentence, Transcript, Word

log = logging.getLogger(__name__)

FRAME_S = 0.032  # 32 ms analysis frames: long enough for two periods of a 65 Hz voice
HOP_S = 0.010  # 10 ms hop: pause edges to within 10 ms
PACE_WINDOW_S = 30.0  # pace over time, per 30-second window, to show rushing
MIN_WINDOW_WORDS_S = 10.0  # a last window shorter than this is merged into the previous one
PITCH_FMIN_HZ, PITCH_FMAX_HZ = 65.0, 400.0  # covers low male to high female speaking voices
PITCH_HOP = 512  # 32 ms: pitch spread needs no finer resolution, and yin cost scales with frames
PITCH_FRAME = 1024  # 64 ms: two periods of the lowest pitch searched
PITCH_CHUNK_FRAMES = 940  # ~30 s of audio per yin call (bounds its working memory)
# Speech at least this long and this far from any transcribed sentence is left out of the
# Japanese/mixed pace (see _untranscribed_s); shorter stretches are timestamp noise.
UNTRANSCRIBED_MARGIN_S = 0.5
UNTRANSCRIBED_MIN_S = 1.0
# Unreliable segments are left out of the pace while they are at most this share of the span.
MAX_UNRELIABLE_PACE_SHARE = 0.5
# Units of the pace windows (the same strings as the Targets bands they compare with).
WORDS_PER_MIN = languages.PACE_UNITS[languages.WPM]
CHARS_PER_MIN = languages.PACE_UNITS[languages.CHARS_PER_MIN]


@dataclass(frozen=True)
class Pause:
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class PaceWindow:
    """The pace in one window of the speaking span: `count` words (or, for a Japanese intro,
    characters) said in it, as `rate` per minute in `unit`."""

    start: float
    end: float
    count: int
    rate: float
    unit: str = WORDS_PER_MIN

    @property
    def wpm(self) -> float | None:
        """The rate in words per minute; None for a window counted in characters."""
        return self.rate if self.unit == WORDS_PER_MIN else None


@dataclass(frozen=True)
class DeliveryMetrics:
    """Everything measured about the delivery. Rates are None where they mean nothing
    (e.g. words per minute for Japanese, or no speech at all)."""

    duration_s: float
    speech_start: float
    speech_end: float
    voiced_s: float
    word_count: int
    wpm: float | None
    articulation_wpm: float | None
    chars_per_min: float | None
    morae_per_min: float | None
    pace_windows: tuple[PaceWindow, ...]
    pauses: tuple[Pause, ...]
    min_pause_s: float
    long_pause_s: float
    fillers: tuple[Filler, ...]
    filler_method: str
    pitch_spread_semitones: float | None
    pitch_median_hz: float | None
    loudness_spread_db: float | None
    # Share of the speaking span in the sentences of the script pack (languages.script_pack:
    # the no-space script, Japanese today): 1 for an intro all in it, between 0 and 1 for a
    # mixed intro, None when none of it was heard. Pace is judged in characters or in words.
    script_share: float | None = None
    fillers_counted: bool = True  # False where no filler list exists for the language
    speech_method: str = vad.SILERO  # how speech, the span and the pauses were found

    @property
    def speech_s(self) -> float:
        return max(0.0, self.speech_end - self.speech_start)

    @property
    def long_pauses(self) -> tuple[Pause, ...]:
        return tuple(p for p in self.pauses if p.duration >= self.long_pause_s)

    @property
    def fillers_per_100_words(self) -> float | None:
        return (
            100.0 * len(self.fillers) / self.word_count
            if self.word_count and self.fillers_counted
            else None
        )

    @property
    def fillers_per_min(self) -> float | None:
        return (
            60.0 * len(self.fillers) / self.speech_s
            if self.speech_s > 0 and self.fillers_counted
            else None
        )


@dataclass(frozen=True)
class AudioFeatures:
    """What the delivery measures from the samples alone, before there is a transcript: the
    analyzer computes it while Whisper transcribes (analyze.py); `measure` adds the words.
    The voice activity detector is not in it: onnxruntime's ~70 MB loaded during the decoding
    would sit on top of the transcription's memory."""

    f0: np.ndarray  # yin per HOP_S frame (`_yin_chunked`)
    steady: tuple[hesitation.Hesitation, ...]  # flat-pitch, stable-spectrum stretches


def audio_features(samples: np.ndarray) -> AudioFeatures:
    """The transcript-free part of `measure` for these samples (the values `measure` would
    compute itself)."""
    f0 = _yin_chunked(samples)
    return AudioFeatures(f0, tuple(hesitation.steady_stretches(samples, f0)))


def measure(
    samples: np.ndarray,
    transcript: Transcript,
    sentences: list[Sentence],
    targets: Targets,
    features: AudioFeatures | None = None,
) -> DeliveryMetrics:
    """Measure the delivery of one recording (16 kHz mono float32) and its transcript;
    `features` is `audio_features(samples)` when it was computed already."""
    hop = int(HOP_S * SAMPLE_RATE)
    rms = frame_rms(samples, int(FRAME_S * SAMPLE_RATE), hop)
    words = [w for w in transcript.words if w.text.strip()]
    activity = speech_activity(samples, words)
    voiced = activity.mask(hop, len(rms))
    span = (activity.speech_start, activity.speech_end)
    language = transcript.language
    pack = languages.get(language)
    mix = languages.script_pack(language, sentences)  # Japanese sentences: counted by script
    f0, steady = np.zeros(0, dtype=np.float32), None
    if voiced.any():
        f0 = features.f0 if features else _yin_chunked(samples)
        steady = features.steady if features else None
    fillers = (
        _mixed_fillers(mix, words, sentences) if mix else find_fillers(words, sentences, language)
    )
    held: list[hesitation.Hesitation] = []
    if fillers is not None:
        fillers, held = _with_held_fillers(samples, f0, words, fillers, steady)
        fillers = _outside(fillers, _doubtful_spans(transcript, span))
    # A held "mmm" is no silence, though the detector does not call a hum speech.
    pauses = _unfilled(
        activity.gaps(targets.pause_min_s), [(h.start, h.end) for h in held], targets.pause_min_s
    )
    voiced_s = max(0.0, (span[1] - span[0]) - sum(p.duration for p in pauses))
    doubtful = _doubtful_spans(transcript, span)
    paced, doubtful_s = _outside(words, doubtful), _overlap_s(doubtful, span)
    word_count = pack.count_words(paced)
    speech_s = span[1] - span[0] - doubtful_s
    wpm = _per_minute(word_count, speech_s) if word_count else None
    articulation_wpm = _per_minute(word_count, voiced_s - doubtful_s) if word_count else None
    chars_per_min = morae_per_min = None
    windows = _pace_windows(paced, span, pack.count_words) if word_count else ()
    by_script = _pace_by_script(mix, sentences, voiced, hop, span) if mix else None
    if by_script is not None:  # the script pack heard (see languages/ja/text.py)
        word_count, wpm, chars_per_min, morae_per_min = (
            by_script.latin_words,
            by_script.wpm,
            by_script.chars_per_min,
            by_script.morae_per_min,
        )
        latin_share = 1.0 - by_script.script_share if by_script.latin_minutes > 0 else 0.0
        articulation_wpm = (
            _per_minute(word_count, voiced_s * latin_share) if word_count and latin_share else None
        )
        metric = languages.pace_metric(language, by_script.script_share)
        if metric == languages.CHARS_PER_MIN:  # the windows count in the unit judged
            windows = _char_windows(mix, sentences, span)
        else:
            windows = (
                _pace_windows(_latin_words(mix, words, sentences), span)
                if word_count and pack.spaced
                else ()
            )
    pitch_spread, pitch_median = _pitch(f0, voiced, hop)
    return DeliveryMetrics(
        duration_s=len(samples) / SAMPLE_RATE,
        speech_start=span[0],
        speech_end=span[1],
        voiced_s=voiced_s,
        word_count=word_count,
        wpm=wpm,
        articulation_wpm=articulation_wpm,
        chars_per_min=chars_per_min,
        morae_per_min=morae_per_min,
        pace_windows=windows,
        pauses=tuple(pauses),
        min_pause_s=targets.pause_min_s,
        long_pause_s=targets.long_pause_s,
        fillers=tuple(fillers or ()),
        fillers_counted=fillers is not None,
        filler_method=filler_method(transcript),
        pitch_spread_semitones=pitch_spread,
        pitch_median_hz=pitch_median,
        loudness_spread_db=_loudness_spread(rms, voiced),
        script_share=round(by_script.script_share, 3) if by_script else None,
        speech_method=activity.method,
    )


def _doubtful_spans(transcript: Transcript, span: tuple[float, float]) -> list[tuple[float, float]]:
    """The unreliable segments' times (a loop, a failed decoding: types.Segment.unreliable),
    left out of the pace and the fillers: a loop writing one phrase forty times says nothing of
    how fast the speaker spoke, nor of an "um" in it. When unreliable segments are most of the
    span, only the loops are left out (the low-confidence rest is all there is to go on)."""
    looped = [(s.start, s.end) for s in transcript.segments if s.looped]
    doubtful = [(s.start, s.end) for s in transcript.segments if s.unreliable and not s.looped]
    if _overlap_s(looped + doubtful, span) > MAX_UNRELIABLE_PACE_SHARE * (span[1] - span[0]):
        return looped  # a loop is invented text however much of it there is
    return looped + doubtful


def _overlap_s(spans: list[tuple[float, float]], span: tuple[float, float]) -> float:
    return sum(max(0.0, min(e, span[1]) - max(b, span[0])) for b, e in spans)


def _outside(items: list, spans: list[tuple[float, float]]) -> list:
    """The words or fillers whose middle is in none of `spans`."""

    def middle(x) -> float:
        return (x.start + (x.end if x.end is not None else x.start)) / 2

    return [x for x in items if not any(b <= middle(x) <= e for b, e in spans)]


def speech_activity(
    samples: np.ndarray, words: list[Word], detected: vad.SpeechActivity | None = None
) -> vad.SpeechActivity:
    """Speech regions from the voice activity detector (`detected`: its regions for these
    samples, when already found), refined with the words."""
    return vad.refine(detected if detected is not None else vad.detect(samples), words)


def _unfilled(
    gaps: list[tuple[float, float]], held: list[tuple[float, float]], min_s: float
) -> list[Pause]:
    """The gaps without the held fillers inside them: what is left of each, if long enough."""
    pauses = []
    for start, end in gaps:
        pieces = [(start, end)]
        for h0, h1 in held:
            pieces = [
                part
                for a, b in pieces
                for part in ((a, min(b, h0)), (max(a, h1), b))
                if part[1] > part[0]
            ]
        pauses += [Pause(round(a, 2), round(b, 2)) for a, b in pieces if b - a >= min_s]
    return pauses


HELD_FILLER = "(held voice)"  # the text of a filler found in the sound, not in the transcript


def _with_held_fillers(
    samples: np.ndarray,
    f0: np.ndarray,
    words: list[Word],
    fillers: list[Filler],
    steady: tuple[hesitation.Hesitation, ...] | None = None,
) -> tuple[list[Filler], list[hesitation.Hesitation]]:
    """The transcript's fillers plus the held voiced stretches between words it left out; and
    every held stretch (written or not), which is no pause."""
    starts = {f.start for f in fillers}
    held = hesitation.held_between_words(samples, f0, words, lambda w: w.start in starts, steady)
    extra = hesitation.unwritten(
        held, [(f.start, f.end if f.end is not None else f.start) for f in fillers]
    )
    found = fillers + [Filler(HELD_FILLER, h.start, h.end, how=ACOUSTIC) for h in extra]
    return sorted(found, key=lambda f: f.start), held


def _pace_by_script(
    mix: languages.Language,
    sentences: list[Sentence],
    voiced: np.ndarray,
    hop: int,
    span: tuple[float, float],
):
    """Characters and morae for Japanese sentences, words for Latin-script ones, each over its
    share of the transcribed span; None for a transcript with no Japanese (the plain wpm path)."""
    return mix.pace_by_script(sentences, _transcribed_span_s(voiced, hop, span, sentences))


def _transcribed_span_s(
    voiced: np.ndarray, hop: int, span: tuple[float, float], sentences: list[Sentence]
) -> float:
    """The speaking span without the speech Whisper did not write down (run as Japanese, it
    often drops an English closing): voiced time more than UNTRANSCRIBED_MARGIN_S away from
    every sentence. Left in, it would slow the measured pace of what was transcribed. A missed
    stretch at either end trims the span (with the silence before it); one inside is subtracted."""
    speech_s = span[1] - span[0]
    times = np.arange(len(voiced)) * hop / SAMPLE_RATE
    covered = np.zeros(len(voiced), dtype=bool)
    for s in sentences:
        covered |= (times >= s.start - UNTRANSCRIBED_MARGIN_S) & (
            times <= s.end + UNTRANSCRIBED_MARGIN_S
        )
    frame_s = hop / SAMPLE_RATE
    if float(np.count_nonzero(voiced & ~covered)) * frame_s < UNTRANSCRIBED_MIN_S:
        return speech_s
    kept = np.flatnonzero(voiced & covered)
    if kept.size == 0:
        return speech_s
    lo, hi = kept[0], kept[-1] + 1
    inside_missed = float(np.count_nonzero(voiced[lo:hi] & ~covered[lo:hi])) * frame_s
    return (hi - lo) * frame_s - inside_missed


def _mixed_fillers(
    mix: languages.Language, words: list[Word], sentences: list[Sentence]
) -> list[Filler]:
    """Fillers of a transcript with the script pack's script in it (Japanese today): Latin-script
    sentences with the fallback (English) list, the rest with the pack's own (an English intro
    closed in Japanese keeps its um/uh)."""
    latin = _latin_words(mix, words, sentences)
    latin_ids = {id(w) for w in latin}
    scripted = [w for w in words if id(w) not in latin_ids]
    found = (find_fillers(latin, sentences, languages.FALLBACK) or []) + (
        find_fillers(scripted, sentences, mix.code) or []
    )
    return sorted(found, key=lambda f: f.start)


def _latin_words(
    mix: languages.Language, words: list[Word], sentences: list[Sentence]
) -> list[Word]:
    spans = [(s.start, s.end) for s in sentences if mix.script_of(s.text) == "latin"]
    return [w for w in words if any(lo <= w.start <= hi for lo, hi in spans)]


def filler_method(transcript: Transcript) -> str:
    return (
        f"counted in the {transcript.engine} {transcript.model} transcript (how: transcript) and "
        f"as voice held steady for {hesitation.MIN_HESITATION_S} s or more between words (how: "
        "acoustic); Whisper leaves out many 'um'/'uh' and short ones are not held, so this is a "
        "lower bound"
    )


def _per_minute(count: int, seconds: float) -> float | None:
    return 60.0 * count / seconds if seconds > 0 else None


def _window_bounds(span: tuple[float, float]) -> list[float]:
    """Edges of consecutive 30-second windows over the speaking span."""
    bounds = list(np.arange(span[0], span[1], PACE_WINDOW_S)) + [span[1]]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < MIN_WINDOW_WORDS_S:
        del bounds[-2]  # fold a short tail into the previous window instead of a noisy rate
    return bounds


def _pace_windows(
    words: list[Word], span: tuple[float, float], count=len
) -> tuple[PaceWindow, ...]:
    """Words per minute in consecutive 30-second windows of the speaking span (`count` gives
    how many words a word is: a number counts as said)."""
    bounds = _window_bounds(span)
    starts = np.array([w.start for w in words])
    weights = np.array([count([w]) for w in words])
    windows = []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        # Whisper may time the first word a little before the energy-based span: count it in
        # the first window (and the last words in the last), so the windows add up to `wpm`.
        low = -np.inf if lo == bounds[0] else lo
        high = np.inf if hi == bounds[-1] else hi
        n = int(weights[(starts >= low) & (starts < high)].sum())
        windows.append(
            PaceWindow(round(lo, 1), round(hi, 1), n, round(60.0 * n / (hi - lo), 1), WORDS_PER_MIN)
        )
    return tuple(windows)


def _char_windows(
    mix: languages.Language, sentences: list[Sentence], span: tuple[float, float]
) -> tuple[PaceWindow, ...]:
    """Japanese characters per minute in the same 30-second windows.

    Whisper's Japanese word pieces split numbers and loanwords (2019 as 20|19), so characters are
    counted per sentence, as for `chars_per_min`, and each sentence's count is spread over the
    windows in proportion to the time it overlaps them. Latin-script sentences add nothing: in a
    mixed intro their windows read slower.
    """
    bounds = _window_bounds(span)
    if len(bounds) < 2:
        return ()
    counts = np.zeros(len(bounds) - 1)
    # The outer windows take any speech timed outside the span (sentence edges are approximate).
    edges = [-np.inf] + bounds[1:-1] + [np.inf]
    for s in sentences:
        if mix.script_of(s.text) != mix.code:
            continue
        chars = mix.count_chars(s.text)
        length = s.end - s.start
        for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
            if length <= 0:
                counts[i] += chars if lo <= s.start < hi else 0
            else:
                counts[i] += chars * max(0.0, min(hi, s.end) - max(lo, s.start)) / length
    return tuple(
        PaceWindow(
            round(lo, 1), round(hi, 1), int(round(n)), round(60.0 * n / (hi - lo), 1), CHARS_PER_MIN
        )
        for lo, hi, n in zip(bounds[:-1], bounds[1:], counts, strict=True)
        if hi > lo
    )


def _pitch(f0: np.ndarray, voiced: np.ndarray, hop: int) -> tuple[float | None, float | None]:
    """Spread (std, semitones) and median of the voice's pitch over voiced frames, from `f0`
    (`_yin_chunked`: yin, not pyin, which costs ~3x the transcription itself on this CPU)."""
    if not voiced.any() or not len(f0):
        return None, None
    # Map each pitch frame to the 10 ms voicing frames and keep voiced ones in the plausible range.
    frame_voiced = voiced[np.minimum((np.arange(len(f0)) * PITCH_HOP) // hop, len(voiced) - 1)]
    f0 = f0[frame_voiced & (f0 > PITCH_FMIN_HZ * 1.05) & (f0 < PITCH_FMAX_HZ * 0.95)]
    if f0.size < 20:
        return None, None
    median = float(np.median(f0))
    semitones = 12 * np.log2(f0 / median)
    # Octave errors of yin would inflate the spread: clip to +-1 octave around the median.
    semitones = semitones[np.abs(semitones) <= 12]
    return round(float(np.std(semitones)), 2), round(median, 1)


def _yin_chunked(samples: np.ndarray) -> np.ndarray:
    """librosa.yin (as acoustics.yin computes it, without librosa's import), frame for frame as
    one call over the whole recording (centred frames, zero padding), computed over blocks of
    ~30 s that each carry the half frame of audio on either side their edge frames need: yin's
    working arrays stay those of 30 s (~20 MB) instead of growing with the file (+120 MB for 3
    minutes in one call)."""
    f0 = np.zeros(1 + len(samples) // PITCH_HOP)
    for first, end, block in framed_blocks(samples, PITCH_HOP, PITCH_FRAME, PITCH_CHUNK_FRAMES):
        f0[first:end] = acoustics.yin(
            block,
            fmin=PITCH_FMIN_HZ,
            fmax=PITCH_FMAX_HZ,
            sr=SAMPLE_RATE,
            frame_length=PITCH_FRAME,
            hop=PITCH_HOP,
            center=False,
        )
    return f0


def _loudness_spread(rms: np.ndarray, voiced: np.ndarray) -> float | None:
    if np.count_nonzero(voiced) < 20:
        return None
    db = 20 * np.log10(np.maximum(rms[voiced], 1e-10))
    return round(float(np.std(db)), 2)


# ---------------------------------------------------------------------------- fillers


def find_fillers(
    words: list[Word], sentences: list[Sentence], language: str
) -> list[Filler] | None:
    """Filler words in the transcript, with the time each was said; None if the language has
    no filler list (then nothing can be said about fillers, not even "none found")."""
    found = languages.get(language).fillers(words, sentences)
    if found is None:
        log.info("no filler list for language %r; fillers not counted", language)
    return found
