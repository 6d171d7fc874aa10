"""`cocoon check --live` against the real Home Assistants (the oldest supported and the
current one): entity ids that are not there, with the closest real one, and entities of
the wrong kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cocoon.cli import main

from ..brokers import Mosquitto
from ..daemon.harness import write_config
from ..homeassistant import HomeAssistant

pytestmark = pytest.mark.integration


def _home(hass: HomeAssistant, broker: Mosquitto, **devices: dict[str, Any]) -> dict[str, Any]:
    """A home of Home Assistant's demo entities, some of them changed."""
    return {
        "home": {"latitude": 50.85, "longitude": 4.35, "timezone": "Europe/Brussels"},
        "mqtt": {"host": "127.0.0.1", "port": broker.port},
        "home_assistant": {"url": hass.url, "token": hass.token},
        "devices": {
            "ceiling": {"entity": "light.ceiling_lights"},
            "heat": {"entity": "climate.heatpump", "min": 16, "max": 21},
            "soil": {"entity": "input_number.plant_moisture"},
            **devices,
        },
        "scenes": {"evening": {"lights": {"ceiling": {"brightness": 40}}}},
    }


def _check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    status = main(["check", "--live", str(path)])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{path}: valid")
    return status, out[1:]


def test_a_config_that_matches_home_assistant_passes(
    home_assistant: HomeAssistant,
    mosquitto: Mosquitto,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_config(tmp_path, _home(home_assistant, mosquitto))

    status, lines = _check(path, capsys)

    assert lines == [
        "ceiling: ok (Home Assistant light.ceiling_lights)",
        "heat: ok (Home Assistant climate.heatpump)",
        "soil: ok (Home Assistant input_number.plant_moisture)",
        "3 devices: 3 match",
    ]
    assert status == 0


def test_a_misspelt_entity_and_a_wrong_kind_are_named(
    home_assistant: HomeAssistant,
    mosquitto: Mosquitto,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = _home(
        home_assistant,
        mosquitto,
        ceiling={"entity": "light.ceiling_light"},
        heat={"entity": "light.bed_light", "kind": "thermostat"},
    )
    path = write_config(tmp_path, data)

    status, lines = _check(path, capsys)

    assert lines == [
        "ceiling: Home Assistant has no entity 'light.ceiling_light';"
        " did you mean 'light.ceiling_lights'?",
        "heat: light.bed_light is a light entity, but a thermostat needs a climate entity",
        "soil: ok (Home Assistant input_number.plant_moisture)",
        "3 devices: 1 matches, 2 with a problem",
    ]
    assert status == 1


def test_a_thermostat_that_takes_only_a_range_is_named(
    home_assistant: HomeAssistant,
    mosquitto: Mosquitto,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The demo's Ecobee takes a low and a high target, not the one setpoint cocoon sends.
    data = _home(home_assistant, mosquitto, heat={"entity": "climate.ecobee"})
    path = write_config(tmp_path, data)

    status, lines = _check(path, capsys)

    assert (
        lines[1] == "heat: climate.ecobee takes no target temperature (only a range, low to high)"
    )
    assert status == 1


def test_a_refused_token_is_named_in_one_line(
    home_assistant: HomeAssistant,
    mosquitto: Mosquitto,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = _home(home_assistant, mosquitto)
    data["home_assistant"]["token"] = "revoked-long-ago"

    status, lines = _check(write_config(tmp_path, data), capsys)

    host = home_assistant.url.removeprefix("http://")
    assert lines == [
        f"Home Assistant at {host} refused the token (expired or revoked?): create a new"
        " long-lived access token and put it in secrets.yaml",
        "3 devices: 0 match, 3 not checked (ceiling, heat, soil), 1 service problem",
    ]
    assert status == 1
