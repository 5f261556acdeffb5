import pytest

from speechcoach.config import Band, Targets, format_duration, home_dir, parse_duration


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("90", 90),
        ("90s", 90),
        ("1m30s", 90),
        ("1m30", 90),
        ("3m", 180),
        ("2:30", 150),
        (" 45 s ", 45),
        ("1.5m", 90),
    ],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "3h", "m", "1m30x"])
def test_parse_duration_rejects_garbage_with_a_hint(text):
    with pytest.raises(ValueError, match="90s, 1m30s"):
        parse_duration(text)


@pytest.mark.parametrize(
    "seconds, text", [(0, "0:00"), (59.6, "1:00"), (185, "3:05"), (-30, "-0:30")]
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_duration_band_follows_target():
    band = Targets(duration_s=90).duration_band
    assert (band.low, band.high) == (76.5, 103.5)
    assert band.judge(60) == "low" and band.judge(90) == "ok" and band.judge(120) == "high"


def test_band_describe_names_its_source():
    assert "Street & Brady" in Targets().wpm.describe()
    assert Band(1, 2, "x", "src").describe() == "1-2 x (src)"


def test_home_dir_honours_env(home):
    assert home_dir() == home
