"""Reference bands and target: defaults < SPEECHCOACH_HOME/config.toml (or --config) < flags."""

import json

import pytest
from click.testing import CliRunner
from conftest import DATA

from speechcoach.cli import main
from speechcoach.config import load_targets
from speechcoach.errors import SpeechcoachError


def test_defaults_without_a_file(home):
    targets = load_targets()
    assert targets.duration_s == 180 and (targets.wpm.low, targets.wpm.high) == (120, 160)


def test_file_overrides_defaults_and_flag_overrides_file(home):
    (home / "config.toml").write_text(
        'target = "90s"\npause_min_s = 0.25\n[bands]\nwpm = [130, 170]\n'
    )
    targets = load_targets()
    assert targets.duration_s == 90 and targets.pause_min_s == 0.25
    assert (targets.wpm.low, targets.wpm.high, targets.wpm.source) == (130, 170, "your config.toml")
    assert load_targets(target_s=120).duration_s == 120


@pytest.mark.parametrize(
    "text, message",
    [
        ("target = [", "not valid TOML"),
        ("speed = 3", "unknown setting speed"),
        ("[bands]\nwpm = [200, 100]", "band wpm must be [low, high]"),
        ("[bands]\nspeed = [1, 2]", "unknown band 'speed'"),
        ('target = "soon"', "cannot read 'soon' as a duration"),
    ],
)
def test_a_bad_file_names_itself_and_the_problem(home, text, message):
    (home / "config.toml").write_text(text)
    with pytest.raises(
        SpeechcoachError, match="config.toml: .*" + message.replace("[", r"\[").replace("]", r"\]")
    ):
        load_targets()


def test_cli_reports_a_bad_config_in_one_line(home):
    (home / "config.toml").write_text("speed = 3")
    result = CliRunner().invoke(main, ["analyze", str(DATA / "known_en.wav"), "--no-save"])
    assert result.exit_code == 1
    assert (
        "config.toml: unknown setting speed" in result.stderr and "Traceback" not in result.stderr
    )


@pytest.mark.slow
def test_cli_applies_the_config_bands(home, tmp_path):
    config = tmp_path / "strict.toml"
    config.write_text('target = "20s"\n[bands]\nwpm = [200, 220]\n')
    result = CliRunner().invoke(
        main,
        [
            "--config",
            str(config),
            "analyze",
            str(DATA / "known_en.wav"),
            "--json",
            "--no-save",
            "--language",
            "en",
        ],
    )
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert (
        d["target_s"] == 20
        and d["judgements"]["wpm"] == "low"
        and "your config.toml" in d["bands"]["wpm"]
    )
