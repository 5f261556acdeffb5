"""Japanese rubric patterns and gates match on the reading as well as the written form: Whisper
writes the same words with other kanji or in kana (on real Japanese, base's character error
rate is about 24 % but about 6 % on the kana reading)."""

from __future__ import annotations

import re

from speechcoach import languages
from speechcoach.languages.ja.text import match_reading, reading_pattern


def test_a_kanji_mishearing_with_the_same_reading_still_matches():
    pattern = re.compile(
        "(給料|給与|年収|収入|報酬|月給).*(低|安|少な|上げ|高|増や|アップ|良い|いい)"
    )
    heard = "給料が引くかったので転職します"  # Whisper's spelling of 低かった (ひくかった)
    assert not pattern.search(heard)
    assert not languages.get("en").matches(pattern, heard)  # written form only
    assert languages.get("ja").matches(pattern, heard)
    assert languages.get("ja").matches(pattern, "給料が低かったので")


def test_readings_of_patterns_never_widen_them():
    assert reading_pattern("給料|逃げ") == "キュウリョウ|ニゲ"
    assert (
        reading_pattern("もっと稼|昇給(が|も)な") == "もっと稼|ショウキュウ(ガ|モ)ナ"
    )  # a lost part: kept
    assert reading_pattern("桜") == "桜"  # a lone kanji's reading alone is a guess: kept written
    assert match_reading("API を使いました") == "API ヲツカイマシタ"


def test_japanese_pitfall_fires_on_the_reading():
    from speechcoach.content import ContentAnalyzer
    from speechcoach.types import Sentence

    result = ContentAnalyzer("ja").analyse(
        [Sentence("給料が引くかったので辞めたいです。", 0, 3, 0)]
    )
    assert [p["id"] for p in result.to_dict()["pitfalls"]] == ["salary_only"]
