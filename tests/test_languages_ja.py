"""Japanese self-introductions measured as Japanese (issue #6): characters and morae per minute,
sentences without punctuation, fillers, the polite register, the Japanese content rubric, mixed
English/Japanese intros, and the real CLI on the committed Japanese clips."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
import soundfile as sf
from conftest import DATA, ROOT

from speechcoach.config import SAMPLE_RATE
from speechcoach.languages.ja import fillers as ja_fillers
from speechcoach.languages.ja import register as ja_register
from speechcoach.languages.ja import text as ja_text
from speechcoach.sentences import Sentence, split_sentences
from speechcoach.types import Segment, Transcript, Word

KNOWN_JA = "tests/data/known_ja.wav"
KNOWN_EN = "tests/data/known_en.wav"
INTRO_JA = "samples/intro_ja.m4a"
DURATION_TOLERANCE = 0.01  # issue #6: duration within 1 %
CHARS_TOLERANCE = 0.05  # issue #6: characters per minute within 5 %
COMPONENT_ACCURACY = 0.90


# ---------------------------------------------------------------------------- counting


@pytest.mark.parametrize(
    ("text", "chars"),
    [
        ("東京で働いています。", 9),
        ("はじめまして、グエンと申します。", 14),  # punctuation excluded
        ("ダニエル・ウェーバー", 9),  # the middle dot is punctuation
        ("2019年に3人で", 9),  # 二千十九年に三人で
        ("２０１９年", 5),  # full-width digits too
        ("PythonとAWSを使いました", 20),  # パイソン と エーダブリューエス を使いました
    ],
)
def test_count_chars_counts_what_is_read(text, chars):
    assert ja_text.count_chars(text) == chars


def test_numerals_and_katakana_give_the_same_count_as_whisper_may_write_them():
    # The clip text says 三年前 and エーピーアイ; Whisper may write 3年前 and API.
    assert ja_text.count_chars("3年前にAPIを設計しました") == ja_text.count_chars(
        "三年前にエーピーアイを設計しました"
    )
    assert ja_text.count_morae("3年前") == ja_text.count_morae("三年前")


@pytest.mark.parametrize(
    ("text", "morae"),
    [
        ("きょうと", 3),  # きょ・う・と: a small kana joins the one before
        ("東京", 4),  # とう・きょう -> ト・ウ・キョ・ウ
        ("がっこう", 4),  # the small っ is a mora of its own
        ("コーヒー", 4),  # so is the long-vowel mark
        ("よろしくお願いします。", 11),  # ヨ・ロ・シ・ク・オ・ネ・ガ・イ・シ・マ・ス
        ("2019年", 9),  # ニ・セ・ン・ジュ・ウ・キュ・ウ・ネ・ン
    ],
)
def test_count_morae(text, morae):
    assert ja_text.count_morae(text) == morae


def test_to_kanji_numerals():
    assert (
        ja_text.to_kanji_numerals("2019年、10人、1,500円、3.5倍")
        == "二千十九年、十人、千五百円、三点五倍"
    )
    assert ja_text.to_kanji_numerals("1億2000万") == "一億二千万"


# ---------------------------------------------------------------------------- sentences


def _words(pieces: list[tuple[str, float, float]]) -> tuple[Word, ...]:
    return tuple(Word(text, start, end) for text, start, end in pieces)


def _transcript(segments: list[list[tuple[str, float, float]]], language: str = "ja") -> Transcript:
    segs = tuple(Segment("".join(p[0] for p in s), s[0][1], s[-1][2], _words(s)) for s in segments)
    return Transcript(language=language, segments=segs, engine="faster-whisper", model="base")


def test_japanese_without_punctuation_is_split_at_sentence_ends():
    # As Whisper base wrote a Japanese clip: no 。 at all; segments end mid-sentence too.
    transcript = _transcript(
        [
            [("はじめ", 0.0, 0.3), ("まして", 0.3, 0.7)],
            [("最近", 1.0, 1.3), ("の", 1.3, 1.4), ("プロジェクト", 1.4, 1.9), ("では", 1.9, 2.1)],
            [
                ("予約", 2.4, 2.7),
                ("システム", 2.7, 3.1),
                ("を", 3.1, 3.2),
                ("開発", 3.2, 3.5),
                ("しました", 3.5, 4.0),
            ],
            [("よろしく", 4.5, 4.9), ("お願い", 4.9, 5.2), ("します", 5.2, 5.5)],
        ]
    )
    texts = [s.text for s in split_sentences(transcript)]
    assert texts == [
        "はじめまして",
        "最近のプロジェクトでは予約システムを開発しました",
        "よろしくお願いします",
    ]


def test_punctuated_japanese_splits_on_japanese_punctuation():
    transcript = _transcript(
        [[("東京", 0.0, 0.4), ("です。", 0.4, 0.8), ("大阪", 0.9, 1.3), ("でした。", 1.3, 1.8)]]
    )
    assert [s.text for s in split_sentences(transcript)] == ["東京です。", "大阪でした。"]


def test_english_words_keep_their_spaces_in_a_japanese_transcript():
    # Whisper run as Japanese on an English intro: pieces carry leading spaces, except the
    # first word of a segment.
    transcript = _transcript(
        [
            [
                ("Hello", 0.0, 0.2),
                (" my", 0.2, 0.4),
                (" name", 0.4, 0.6),
                (" is", 0.6, 0.8),
                (" Maria", 0.8, 1.1),
            ],
            [("I", 1.2, 1.3), (" came", 1.3, 1.5), (" to", 1.5, 1.6), (" Japan.", 1.6, 2.0)],
            [("よろしく", 2.6, 3.0), ("お願い", 3.0, 3.3), ("します", 3.3, 3.6)],
        ]
    )
    texts = [s.text for s in split_sentences(transcript)]
    # Unpunctuated English: a capital after a segment end opens a sentence.
    assert texts == ["Hello my name is Maria", "I came to Japan.", "よろしくお願いします"]


def test_script_of():
    assert ja_text.script_of("PythonとAWSでAPIを作りました。") == "ja"
    assert ja_text.script_of("I came to Japan in 2019.") == "latin"
    assert ja_text.script_of("2019") is None


def test_pace_by_script_splits_the_span_by_sentence_time():
    sentences = [
        Sentence("My name is Maria and I am a backend engineer.", 0.0, 6.0, 0),  # 10 words in 6 s
        Sentence("よろしくお願いします。", 6.5, 8.5, 1),  # 10 characters in 2 s
    ]
    pace = ja_text.pace_by_script(sentences, speech_s=8.0)  # the 0.5 s gap is shared 3:1
    assert pace.latin_words == 10 and pace.ja_chars == 10 and pace.ja_morae == 11
    assert pace.latin_minutes == pytest.approx(6.0 / 60) and pace.ja_minutes == pytest.approx(
        2.0 / 60
    )
    assert pace.wpm == pytest.approx(100.0) and pace.chars_per_min == pytest.approx(300.0)
    only_ja = ja_text.pace_by_script(sentences[1:], speech_s=2.5)
    assert only_ja.wpm is None and only_ja.chars_per_min == pytest.approx(240.0)


# ---------------------------------------------------------------------------- fillers


def _filler_rules() -> dict:
    return json.loads(
        (ROOT / "speechcoach" / "languages" / "ja" / "fillers.json").read_text(encoding="utf-8")
    )


def _timed(pieces: list[str]) -> list[Word]:
    return [Word(p, i * 0.25, i * 0.25 + 0.2) for i, p in enumerate(pieces)]


def test_fillers_are_found_with_their_times():
    words = _timed(
        ["えー", "と", "、", "あの", "、", "私", "は", "まあ", "、", "エンジニア", "です"]
    )
    found = ja_fillers.find_fillers(words, _filler_rules())
    assert [(f.text, f.start) for f in found] == [("えーと", 0.0), ("あの", 0.75), ("まあ", 1.75)]


def test_demonstratives_are_not_fillers():
    # あの会社 / その後 / 私なんか / まあまあ do a word's job.
    for pieces in (
        ["あの", "会社", "で", "働き", "ました"],
        ["その", "後", "転職", "しました"],
        ["私", "なんか", "まだ", "まだ", "です"],
        ["結果", "は", "まあまあ", "でした"],
    ):
        assert ja_fillers.find_fillers(_timed(pieces), _filler_rules()) == [], pieces


def test_filler_list_has_the_rubric_fillers():
    rules = _filler_rules()
    listed = set(rules["always"]) | set(rules["contextual"])
    assert {
        "えー",
        "えーと",
        "えっと",
        "あの",
        "あのー",
        "その",
        "なんか",
        "まあ",
        "ええ",
    } <= listed


# ---------------------------------------------------------------------------- register


@pytest.mark.parametrize(
    ("casual", "polite"),
    [
        ("本当にうれしい経験だった。", "本当にうれしい経験でした。"),
        ("私はエンジニアである。", "私はエンジニアです。"),
        ("これが一番の理由だ", "これが一番の理由です"),
        ("東京で働いている", "東京で働いています"),
        ("三人のチームをリードした。", "三人のチームをリードしました。"),
        ("大規模な開発の経験はない。", "大規模な開発の経験はありません。"),
        ("簡単な仕事じゃない。", "簡単な仕事ではありません。"),
        ("まだ決めていなかった。", "まだ決めていませんでした。"),
        ("御社に貢献したい。", "御社に貢献したいです。"),
        ("とても楽しかった。", "とても楽しかったです。"),
        ("もっと頑張ろうと思う。", "もっと頑張ろうと思います。"),
        ("この本は読んだよね。", "この本は読みましたよね。"),
    ],
)
def test_plain_endings_are_casual_and_get_their_polite_form(casual, polite):
    assert ja_register.register_of(casual) == "casual"
    assert ja_register.polite_form(casual) == polite
    assert ja_register.register_of(polite) == "polite"


@pytest.mark.parametrize(
    "text", ["はじめまして。", "以上です。", "よろしくお願いします。", "御社を志望しております。"]
)
def test_polite_or_neutral_endings_are_not_casual(text):
    assert ja_register.register_of(text) != "casual"


def test_a_polite_intro_that_slips_gets_one_tip_with_the_sentence():
    sentences = [
        Sentence("ダニエルと申します。", 0.5, 2.0, 0),
        Sentence("大阪でエンジニアとして働いています。", 2.5, 5.0, 1),
        Sentence("お店の売り上げが伸びたのは、本当にうれしい経験だった。", 42.0, 46.0, 2),
        Sentence("将来はテックリードになりたいです。", 47.0, 50.0, 3),
    ]
    (tip,) = ja_register.register_tips(sentences)
    assert tip.id == "register:casual"
    assert tip.sentence == sentences[2].text and tip.start == 42.0
    assert tip.say_instead == "お店の売り上げが伸びたのは、本当にうれしい経験でした。"
    assert "です・ます" in tip.message


def test_a_consistently_polite_intro_gets_no_register_tip():
    sentences = [
        Sentence(t, i, i + 1.0, i)
        for i, t in enumerate(
            ["ダニエルと申します。", "大阪に住んでいます。", "よろしくお願いします。"]
        )
    ]
    assert ja_register.register_tips(sentences) == []


# ---------------------------------------------------------------------------- content rubric


def _labelled() -> list[dict]:
    lines = (DATA / "labelled_ja.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_labelled_set_shape_and_disjoint_from_the_rubric():
    rows = _labelled()
    kinds = Counter(r["kind"] for r in rows)
    assert len(rows) >= 60
    assert kinds["paraphrase"] >= len(rows) / 3
    assert kinds["near_miss"] >= 5
    rubric = json.loads(
        (ROOT / "speechcoach" / "languages" / "ja" / "components.json").read_text(encoding="utf-8")
    )
    examples = {e for part in rubric["components"] + rubric["pitfalls"] for e in part["examples"]}
    examples |= set(rubric["other_examples"])
    assert not examples & {r["text"] for r in rows}


def test_component_accuracy_on_the_japanese_labelled_set():
    from speechcoach.content import ContentAnalyzer

    rows = _labelled()
    predicted = ContentAnalyzer("ja").classify([r["text"] for r in rows])
    correct = sum(
        set(r["components"]) == comps for r, (comps, _) in zip(rows, predicted, strict=True)
    )
    assert correct / len(rows) >= COMPONENT_ACCURACY


def test_english_analysis_never_loads_the_japanese_dictionary():
    code = (
        "import sys\n"
        "from speechcoach.delivery import measure\n"
        "from speechcoach.sentences import Sentence, split_sentences\n"
        "from speechcoach.types import Segment, Transcript, Word\n"
        "import numpy as np\n"
        "from speechcoach.config import Targets\n"
        "w = (Word(' I', 0.1, 0.3), Word(' came', 0.3, 0.6), Word(' to', 0.6, 0.7), Word(' "
        "Japan.', 0.7, 1.0))\n"
        "t = Transcript('en', (Segment(' I came to Japan.', 0.1, 1.0, w),), 'faster-whisper', "
        "'tiny.en')\n"
        "x = np.sin(np.arange(16000) / 16000 * 2 * np.pi * 150).astype('float32')\n"
        "measure(x, t, split_sentences(t), Targets())\n"
        "print('sudachipy' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------- the real CLI on clips


def _cli_json(*args: str) -> dict:
    from click.testing import CliRunner

    from speechcoach.cli import main

    result = CliRunner().invoke(main, ["analyze", *args, "--json", "--no-save"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def _clip(clips: dict, name: str) -> dict:
    entries = clips["clips"] if isinstance(clips, dict) and "clips" in clips else clips
    return next(c for c in entries if c["file"] == name)


@pytest.mark.slow
@pytest.mark.parametrize("name", [KNOWN_JA, INTRO_JA])
def test_japanese_clip_measured_as_japanese(clips, name):
    truth = _clip(clips, name)
    d = _cli_json(str(ROOT / name))
    assert d["language"] == "ja"
    assert d["duration_s"] == pytest.approx(truth["duration_s"], rel=DURATION_TOLERANCE)
    assert d["chars_per_min"] == pytest.approx(truth["chars_per_min"], rel=CHARS_TOLERANCE)
    assert d["wpm"] is None and d["word_count"] == 0
    # morae: about 1.1-1.4 per character in ordinary Japanese text
    assert 1.0 * d["chars_per_min"] < d["morae_per_min"] < 1.5 * d["chars_per_min"]
    assert d["judgements"]["chars_per_min"] in ("low", "ok", "high")
    assert d["judgements"]["morae_per_min"] in ("low", "ok", "high")
    assert "wpm" not in d["judgements"]


@pytest.mark.slow
def test_forced_language_gives_the_same_japanese_measures(clips):
    detected = _cli_json(str(ROOT / KNOWN_JA))
    forced = _cli_json(str(ROOT / KNOWN_JA), "--language", "ja")
    assert forced["language"] == "ja"
    assert forced["chars_per_min"] == pytest.approx(detected["chars_per_min"], rel=0.02)


@pytest.mark.slow
def test_japanese_intro_content_and_register(clips):
    truth = _clip(clips, INTRO_JA)
    d = _cli_json(str(ROOT / INTRO_JA))
    covered = {cid for cid, c in d["components"].items() if c["covered"]}
    assert covered == {"japan", "career_change", "project", "plan"}
    tips = {t["id"]: t for t in d["tips"]}
    casual = next(s for s in truth["sentences"] if s["tag"] == "casual")
    tip = tips["register:casual"]
    assert tip["start"] == pytest.approx(casual["start_s"], abs=1.0)
    # Whisper base at temperature 0 (deterministic) writes this sentence as "...嬉しい経験だった"
    # or stops at "...嬉しい": either way it is plain form, and the polite rewrite is offered.
    assert tip["sentence"].rstrip("。").endswith(("だった", "嬉しい", "うれしい"))
    assert tip["say_instead"].rstrip("。").endswith(("でした", "です"))


# -- mixed languages: committed clips joined into one recording


def _sentence_audio(clips: dict, name: str, index: int) -> np.ndarray:
    entry = _clip(clips, name)
    samples, rate = sf.read(ROOT / name, dtype="float32")
    assert rate == SAMPLE_RATE
    s = entry["sentences"][index]
    return samples[int(s["start_s"] * rate) : int(s["end_s"] * rate)]


def _speech(clips: dict, name: str) -> np.ndarray:
    entry = _clip(clips, name)
    samples, rate = sf.read(ROOT / name, dtype="float32")
    return samples[int(entry["speech_start_s"] * rate) : int(entry["speech_end_s"] * rate)]


def _write_mix(path, *parts: np.ndarray) -> None:
    gap = np.zeros(int(0.6 * SAMPLE_RATE), dtype=np.float32)
    pieces = [gap]
    for part in parts:
        pieces += [part, gap]
    sf.write(path, np.concatenate(pieces), SAMPLE_RATE)


@pytest.mark.slow
def test_english_intro_with_a_japanese_closing(clips, tmp_path):
    closing = len(_clip(clips, KNOWN_JA)["sentences"]) - 1  # よろしくお願いします。
    mix = tmp_path / "en_then_ja.wav"
    _write_mix(mix, _speech(clips, KNOWN_EN), _sentence_audio(clips, KNOWN_JA, closing))
    truth = _clip(clips, KNOWN_EN)
    for language in (None, "ja"):  # base detects "ja" here, and drops the Japanese closing
        d = _cli_json(str(mix), *(["--language", language] if language else []))
        # Mostly English: judged in words per minute whatever Whisper labelled it, and the
        # untranscribed closing does not slow the measured pace.
        assert "wpm" in d["judgements"] and "chars_per_min" not in d["judgements"], d["judgements"]
        assert d["wpm"] == pytest.approx(truth["wpm"], rel=CHARS_TOLERANCE), language
        assert d["chars_per_min"] is None or d["chars_per_min"] > 0
    # Forced to English, Whisper writes the closing as (hallucinated) English words: the metrics
    # stay English and finite.
    d = _cli_json(str(mix), "--language", "en")
    assert d["language"] == "en" and "wpm" in d["judgements"] and 100 < d["wpm"] < 180


@pytest.mark.slow
def test_japanese_intro_with_an_english_closing(clips, tmp_path):
    mix = tmp_path / "ja_then_en.wav"
    _write_mix(mix, _speech(clips, KNOWN_JA), _sentence_audio(clips, KNOWN_EN, 0))
    truth = _clip(clips, KNOWN_JA)
    for language in (None, "ja"):
        d = _cli_json(str(mix), *(["--language", language] if language else []))
        assert "chars_per_min" in d["judgements"], d["judgements"]
        # The Japanese part keeps its rate whether or not Whisper wrote the English sentence down.
        assert d["chars_per_min"] == pytest.approx(truth["chars_per_min"], rel=CHARS_TOLERANCE), (
            language
        )


def test_module_examples_hold():
    import doctest

    from speechcoach import languages
    from speechcoach.languages import nospace
    from speechcoach.languages.ja import sentences

    for module in (ja_text, sentences, ja_fillers, ja_register, nospace, languages):
        assert doctest.testmod(module).failed == 0, module.__name__


def test_a_segment_cut_inside_a_phrase_with_no_pause_ends_no_sentence():
    # qa.md 4: Whisper cut "…本当に嬉しい" | "経験だった" (49.16 s both sides); the splitter made
    # "嬉しい" a sentence and the register tip quoted the fragment instead of "…経験だった".
    from speechcoach.sentences import split_sentences
    from speechcoach.types import Segment, Transcript, Word

    def segment(pieces, start):
        words = tuple(Word(p, start + 0.4 * i, start + 0.4 * (i + 1)) for i, p in enumerate(pieces))
        return Segment("".join(pieces), words[0].start, words[-1].end, words)

    first = segment(
        ["お店", "の", "売り上げ", "が", "伸び", "た", "の", "は", "本当", "に", "嬉しい"], 45.2
    )
    second = segment(["経験", "だっ", "た"], first.end)  # no gap
    text = [s.text for s in split_sentences(Transcript("ja", (first, second), "test", "test"))]
    assert text == ["お店の売り上げが伸びたのは本当に嬉しい経験だった"], text
