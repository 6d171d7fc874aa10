"""`!secret` and `!include`: values from other files, and secrets kept out of every message."""

from __future__ import annotations

from pathlib import Path

import pytest

from cocoon.config.load import load_config, mask
from cocoon.errors import ConfigError

from .texts import HA_TOKEN, MINIMAL, MQTT_PASSWORD, Config, Write


def _error(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value


def test_secret_is_read_from_secrets_yaml(config: Config) -> None:
    cfg = load_config(
        config("mqtt: {username: !secret mqtt_user, password: !secret mqtt_password}\n")
    )

    assert cfg.home_assistant is not None
    assert cfg.home_assistant.token.get_secret_value() == HA_TOKEN
    assert cfg.mqtt is not None
    assert cfg.mqtt.username == "cocoon"
    assert cfg.mqtt.password is not None
    assert cfg.mqtt.password.get_secret_value() == MQTT_PASSWORD
    assert MQTT_PASSWORD not in repr(cfg)


def test_missing_secret_names_the_key_and_the_file_not_a_value(config: Config) -> None:
    path = config("mqtt: {password: !secret mqtt_pasword}\n")

    error = _error(path)

    assert str(error) == (
        f"{path}:11:18: mqtt.password: secret 'mqtt_pasword' is not in"
        f" {path.parent / 'secrets.yaml'} — did you mean 'mqtt_password'?"
    )
    assert MQTT_PASSWORD not in str(error)
    assert HA_TOKEN not in str(error)


def test_missing_secrets_file(write: Write) -> None:
    path = write("cocoon.yaml", MINIMAL)

    assert str(_error(path)) == (
        f"{path}:6:10: home_assistant.token: secret 'ha_token' cannot be read from"
        f" {path.parent / 'secrets.yaml'}: no such file"
    )


def test_secret_in_a_numeric_field_is_never_shown(config: Config) -> None:
    path = config("mqtt: {port: !secret mqtt_password}\n")

    error = _error(path)

    assert str(error) == f"{path}:11:8: mqtt.port: expected a whole number, not text"
    assert MQTT_PASSWORD not in str(error)


def test_secret_echoed_by_a_validator_is_masked(config: Config) -> None:
    # The duration parser quotes the text it could not read; here that text is a secret.
    path = config("settings: {grace: !secret mqtt_password}\n")

    error = _error(path)

    assert MQTT_PASSWORD not in str(error)
    assert str(error) == (
        f"{path}:11:12: settings.grace: '***' is not a duration; write it like 20min, 1h30m or 90s"
    )


def test_secrets_file_syntax_error_names_its_line_but_no_value(write: Write) -> None:
    secrets = write("secrets.yaml", f"ha_token: {HA_TOKEN}\nbroken: 'open\n")
    path = write("cocoon.yaml", MINIMAL)

    (problem,) = _error(path).problems

    assert problem.file == str(secrets)
    assert problem.line is not None
    assert HA_TOKEN not in str(problem)


def test_mask_replaces_longest_secrets_first() -> None:
    assert mask("abc and abcdef", ["abc", "abcdef"]) == "*** and ***"


def test_include_reads_the_file_relative_to_the_includer(config: Config, write: Write) -> None:
    write("parts/scenes.yaml", "evening: {lights: {sofa_lamp: {brightness: 35}}}\n")
    path = config("scenes: !include parts/scenes.yaml\n")

    cfg = load_config(path)

    assert cfg.scenes["evening"].lights["sofa_lamp"].brightness == 35


def test_positions_inside_an_include_name_the_included_file(config: Config, write: Write) -> None:
    scenes = write(
        "parts/scenes.yaml",
        """\
        evening:
          lights:
            sofa_lmap: {brightness: 35}
        calm: !include calm.yaml
        """,
    )
    calm = write("parts/calm.yaml", "lights: {desk_lamp: {kelvn: 2000}}\n")
    path = config("scenes: !include parts/scenes.yaml\n")

    assert [str(p) for p in _error(path).problems] == [
        f"{calm}:1:22: scenes.calm.lights.desk_lamp.kelvn: unknown key 'kelvn'"
        " — did you mean 'kelvin'?",
        f"{scenes}:3:5: scenes.evening.lights.sofa_lmap: unknown device 'sofa_lmap'"
        " — did you mean 'sofa_lamp'?",
    ]


def test_missing_include_is_reported_where_it_is_included(config: Config) -> None:
    path = config("scenes: !include nowhere.yaml\n")

    assert str(_error(path)) == (
        f"{path}:11:9: scenes: cannot include {path.parent / 'nowhere.yaml'}: no such file"
    )


def test_include_loop_is_an_error(config: Config, write: Write) -> None:
    loop = write("loop.yaml", "calm: !include loop.yaml\n")
    path = config("scenes: !include loop.yaml\n")

    assert str(_error(path)) == (
        f"{loop}:1:7: scenes.calm: {loop} includes itself (through !include)"
    )


def test_syntax_error_in_an_include_names_that_file(config: Config, write: Write) -> None:
    broken = write("scenes.yaml", "evening: {lights: \n")
    path = config("scenes: !include scenes.yaml\n")

    (problem,) = _error(path).problems

    assert problem.file == str(broken)
    assert problem.message.startswith("YAML syntax error:")
