"""Config: flag parsing, presets with overrides, validation and the workdir's config.json."""

from __future__ import annotations

import dataclasses
import json

import pytest

from infogan_tf import config as config_lib


@pytest.mark.parametrize(
    "text, expected",
    [("20,20,20,20", (20, 20, 20, 20)), ("10", (10,)), (" 3, 5 ", (3, 5)), ("", ()), ("none", ())],
)
def test_parse_categorical(text, expected):
    assert config_lib.parse_categorical(text) == expected


@pytest.mark.parametrize("text", ["abc", "10,,10", "10;10", "1", "10,0"])
def test_parse_categorical_rejects_bad_input_naming_the_flag(text):
    with pytest.raises(config_lib.ConfigError, match="--categorical"):
        config_lib.parse_categorical(text)


def test_resolve_applies_overrides_to_the_preset():
    config = config_lib.resolve("shapes", {"steps": 7, "categorical": (4, 4)})
    assert config.steps == 7 and config.categorical == (4, 4)
    assert config.architecture == "dcgan64" and config.image_shape == (64, 64, 1)


def test_resolve_rejects_an_unknown_dataset():
    with pytest.raises(config_lib.ConfigError, match="--dataset"):
        config_lib.resolve("no_such_dataset", {})


@pytest.mark.parametrize(
    "overrides, flag",
    [
        ({"steps": 0}, "--steps"),
        ({"steps": -3}, "--steps"),
        ({"batch_size": 0}, "--batch_size"),
        ({"q_std": "wide"}, "--q_std"),
        ({"log_every": 0}, "--log_every"),
        ({"info_weight_cont": -1.0}, "--info_weight_cont"),
    ],
)
def test_validate_rejects_bad_values_naming_the_flag(overrides, flag):
    with pytest.raises(config_lib.ConfigError, match=flag):
        config_lib.validate(dataclasses.replace(config_lib.Config(), **overrides))


def test_validate_accepts_the_defaults_and_presets():
    config_lib.validate(config_lib.Config())
    for preset in config_lib.PRESETS.values():
        config_lib.validate(preset)


def test_config_json_round_trip():
    config = config_lib.Config(categorical=(20, 20, 20, 20), continuous=1, devices=("/cpu:0", "/cpu:1"), seed=3)
    restored = config_lib.Config.from_json(config.to_json())
    assert restored == config
    assert isinstance(restored.categorical, tuple) and isinstance(restored.image_shape, tuple)
    assert json.loads(config.to_json())["categorical"] == [20, 20, 20, 20]


def test_write_or_check_accepts_the_same_model_and_rejects_another(tmp_path):
    config = config_lib.Config(steps=5)
    config_lib.write_or_check(config, str(tmp_path))
    assert config_lib.Config.from_json((tmp_path / "config.json").read_text()) == config
    # More steps on resume is fine; a different latent spec is not.
    config_lib.write_or_check(dataclasses.replace(config, steps=10), str(tmp_path))
    with pytest.raises(config_lib.ConfigError, match="config.json"):
        config_lib.write_or_check(dataclasses.replace(config, categorical=(4,)), str(tmp_path))
