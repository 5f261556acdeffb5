"""The loop guard (speechcoach/loops.py) on real speech.

At temperature 0 Whisper base loops on an excerpt of a real non-native speaker reading English
(speechocean762 speaker 9635, 25-45 s of tests/data/real/speechocean762_spk9635.opus; source and
licence in tests/data/real/README.md): "... at the back of his head, his head, his head. He was
the only preemptive, the other at the back of his head." The guard decodes the stretch again in
pieces cut at silences, and what still loops is marked unreliable and left out of the pace.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from speechcoach import loops
from speechcoach.audio import load_audio
from speechcoach.config import SAMPLE_RATE, Targets
from speechcoach.types import Segment, Word

REAL = Path(__file__).resolve().parent / "data" / "real"
EXCERPT = ("speechocean762_spk9635.opus", 25.0, 45.0)  # file, start s, end s


@pytest.fixture(scope="module")
def pool():
    from speechcoach.transcribe import ModelPool, TranscribeOptions

    return ModelPool(TranscribeOptions(language="en"))


@pytest.fixture(scope="module")
def excerpt():
    name, start, end = EXCERPT
    samples = load_audio(REAL / name).samples
    return samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]


def test_repeats_found_and_ordinary_repetition_left_alone():
    assert loops.tandem_repeats("his head his head his head".split()) == [(0, 2, 3)]
    assert loops.tandem_repeats("a a a a a".split()) == [(0, 1, 5)]
    looped = [
        Word(f" {t}", i, i + 0.5) for i, t in enumerate("at his head, his head, his head.".split())
    ]
    kept = loops.collapsed([Segment("".join(w.text for w in looped), 0.0, 3.0, tuple(looped))])
    assert [s.text for s in kept] == [" at his head,"]
    for fine in (
        "he looked at me and smiled and i smiled back",
        "i worked very very hard",
        "thank you thank you",
        "no it was real no it was real",
        "i i i want to",
    ):
        assert loops.tandem_repeats(fine.split()) == [], fine


def test_a_real_loop_is_decoded_again_and_none_is_left_unmarked(pool, excerpt):
    engine = pool.get("base")
    raw = engine.transcribe(excerpt, "en")
    assert loops.find_loops(raw.segments), raw.text  # base really loops here without the guard
    guarded = pool.transcribe(excerpt)  # the path `speechcoach analyze` takes
    trusted = [s for s in guarded.segments if not s.looped]
    assert not loops.find_loops(trusted), guarded.text
    assert loops.normalised(guarded.text).count("his head his head") == 0, guarded.text
    # Deterministic: the same audio gives the same transcript again.
    assert pool.transcribe(excerpt).segments == guarded.segments


def test_unreliable_segments_are_left_out_of_the_pace(pool):
    from speechcoach.delivery import measure
    from speechcoach.sentences import split_sentences

    # A real speaker base transcribes without loops (speaker 9631), its first segment marked.
    excerpt = load_audio(REAL / "speechocean762_spk9631.opus").samples[: 20 * SAMPLE_RATE]
    transcript = pool.transcribe(excerpt)
    assert not any(s.unreliable for s in transcript.segments)
    plain = measure(excerpt, transcript, split_sentences(transcript), Targets())
    first = transcript.segments[0]
    marked = replace(transcript, segments=(replace(first, looped=True),) + transcript.segments[1:])
    paced = measure(excerpt, marked, split_sentences(marked), Targets())
    words_in_first = sum(1 for w in first.words if w.text.strip())
    assert words_in_first and paced.word_count == plain.word_count - words_in_first
    span = (paced.speech_start, paced.speech_end)
    left_out = min(first.end, span[1]) - max(first.start, span[0])
    assert paced.wpm == pytest.approx(60 * paced.word_count / (span[1] - span[0] - left_out))
    # A loop is left out however much of the recording it is; other doubt only up to half.
    every = replace(transcript, segments=tuple(replace(s, looped=True) for s in marked.segments))
    assert measure(excerpt, every, split_sentences(every), Targets()).wpm is None


def test_japanese_written_one_character_per_piece_is_no_loop():
    # Whisper writes Japanese one kana or kanji per word piece: eight such pieces in a row were
    # taken for "letters written one by one", so every Japanese segment was marked looped.
    from speechcoach.types import Segment, Word

    text = "データエンジニアをしています日本の市場は成長しています"
    words = tuple(Word(c, 0.2 * i, 0.2 * i + 0.15) for i, c in enumerate(text))
    assert loops.find_loops([Segment(text, 0.0, words[-1].end, words)]) == []
