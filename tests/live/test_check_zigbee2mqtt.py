"""`cocoon check --live` against a real Mosquitto with the Zigbee2MQTT simulator on it:
names that are not there, with the closest real one; what a device cannot do; a
broker, a Zigbee2MQTT and a Home Assistant that cannot be had, each said in one line."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cocoon.adapters.simulator import Zigbee2MqttSimulator
from cocoon.cli import main

from ..brokers import Mosquitto, free_port
from ..daemon.harness import config_of, home, write_config
from ..faults.mosquittos import TunedMosquitto, password_file

pytestmark = pytest.mark.integration


def _home(broker: Mosquitto, base: str, **devices: dict[str, Any]) -> dict[str, Any]:
    """The harness's home on its own Zigbee2MQTT base topic, with some devices changed."""
    data = home(broker.port)
    data["mqtt"]["zigbee2mqtt_topic"] = base
    data["devices"] = {**data["devices"], **devices}
    return data


@pytest.fixture
def base(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[str]:
    """A Zigbee2MQTT base topic of the test's own, with the harness's devices simulated on
    it; its lights show 2203-4000 K (250-454 mireds)."""
    topic = f"z2m-{uuid.uuid4().hex[:8]}"
    (tmp_path / "real").mkdir()
    cfg = config_of(_home(mosquitto, topic), tmp_path / "real")
    sim = Zigbee2MqttSimulator(cfg, mosquitto.host, mosquitto.port, mireds=(250, 454))
    sim.start()
    yield topic
    sim.stop()


def _check(path: Path, capsys: pytest.CaptureFixture[str], *more: str) -> tuple[int, list[str]]:
    status = main(["check", "--live", str(path), *more])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{path}: valid")
    return status, out[1:]


def test_a_config_that_matches_zigbee2mqtt_passes(
    mosquitto: Mosquitto, base: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, _home(mosquitto, base))

    status, lines = _check(path, capsys)

    assert lines == [
        "sofa: ok (Zigbee2MQTT 'sofa_lamp')",
        "desk: ok (Zigbee2MQTT 'desk_lamp')",
        "radiator: ok (Zigbee2MQTT 'radiator')",
        "soil: ok (Zigbee2MQTT 'fern_sensor')",
        "4 devices: 4 match",
    ]
    assert status == 0


def test_a_misspelt_name_is_named_with_the_closest_real_one(
    mosquitto: Mosquitto, base: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _home(mosquitto, base, desk={"zigbee2mqtt": "desk_lmap"})
    path = write_config(tmp_path, data)

    status, lines = _check(path, capsys)

    assert "desk: Zigbee2MQTT has no device 'desk_lmap'; did you mean 'desk_lamp'?" in lines
    assert lines[-1] == "4 devices: 3 match, 1 with a problem"
    assert status == 1


def test_what_a_device_cannot_do_is_said(
    mosquitto: Mosquitto, base: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _home(
        mosquitto,
        base,
        sofa={"zigbee2mqtt": "sofa_lamp", "min_kelvin": 1800, "max_kelvin": 5000},
        radiator={"zigbee2mqtt": "fern_sensor", "kind": "thermostat", "min": 16, "max": 23},
    )
    path = write_config(tmp_path, data)

    status, lines = _check(path, capsys)

    assert lines[0] == (
        "sofa: min_kelvin 1800 is warmer than Zigbee2MQTT's 'sofa_lamp' goes"
        " (it shows 2203-4000 K); max_kelvin 5000 is colder than Zigbee2MQTT's 'sofa_lamp'"
        " goes (it shows 2203-4000 K)"
    )
    assert lines[2] == (
        "radiator: Zigbee2MQTT's 'fern_sensor' has no heating setpoint"
        " (occupied_heating_setpoint or current_heating_setpoint):"
        " it is neither a light nor a thermostat"
    )
    assert status == 1


def test_a_zigbee2mqtt_never_seen_is_said_in_words(
    mosquitto: Mosquitto, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, _home(mosquitto, "nobody-here"))

    status, lines = _check(path, capsys, "--wait", "0.5")

    assert lines == [
        "Zigbee2MQTT: never seen on the broker: no retained nobody-here/bridge/devices"
        " (is Zigbee2MQTT running, with base_topic 'nobody-here'? set mqtt.zigbee2mqtt_topic"
        " otherwise)",
        "4 devices: 0 match, 4 not checked (sofa, desk, radiator, soil), 1 service problem",
    ]
    assert status == 1


def test_an_unreachable_broker_is_named_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    data = home(port)

    status, lines = _check(write_config(tmp_path, data), capsys)

    assert lines == [
        f"Cannot reach the MQTT broker 127.0.0.1:{port}: nothing answers on that port"
        " (is the broker running? check mqtt.host and port)",
        "4 devices: 0 match, 4 not checked (sofa, desk, radiator, soil), 1 service problem",
    ]
    assert status == 1
    assert capsys.readouterr().err == ""


def test_an_unreachable_home_assistant_is_named_in_one_line(
    mosquitto: Mosquitto, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    data = home(mosquitto.port)
    data["home_assistant"] = {"url": f"http://127.0.0.1:{port}", "token": "not-asked"}
    data["devices"] = {"sofa": {"entity": "light.sofa"}}
    data["scenes"], data["rituals"], data["calm_modes"], data["plants"] = {}, {}, {}, {}

    status, lines = _check(write_config(tmp_path, data), capsys)

    assert lines == [
        f"Home Assistant at 127.0.0.1:{port} not reachable: nothing answers on that port"
        " (is it running?)",
        "1 device: 0 match, 1 not checked (sofa), 1 service problem",
    ]
    assert status == 1


def test_a_home_assistant_url_that_reaches_another_program_is_named_so(
    mosquitto: Mosquitto, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # home_assistant.url at the broker's port: something answers, but not over HTTP.
    data = home(mosquitto.port)
    data["home_assistant"] = {"url": f"http://127.0.0.1:{mosquitto.port}", "token": "not-asked"}
    data["devices"] = {"sofa": {"entity": "light.sofa"}}
    data["scenes"], data["rituals"], data["calm_modes"], data["plants"] = {}, {}, {}, {}

    status, lines = _check(write_config(tmp_path, data), capsys)

    assert lines == [
        f"Home Assistant at 127.0.0.1:{mosquitto.port}: what answers there is not Home"
        " Assistant (check home_assistant.url)",
        "1 device: 0 match, 1 not checked (sofa), 1 service problem",
    ]
    assert status == 1


def test_a_zigbee2mqtt_gone_offline_is_said_and_its_list_still_checked(
    mosquitto: Mosquitto, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _home(mosquitto, f"z2m-{uuid.uuid4().hex[:8]}")
    sim = Zigbee2MqttSimulator(config_of(data, tmp_path), mosquitto.host, mosquitto.port)
    sim.start()
    sim.stop()

    status, lines = _check(write_config(tmp_path, data), capsys)

    assert lines[0] == "sofa: ok (Zigbee2MQTT 'sofa_lamp')"
    assert lines[-2:] == [
        "Zigbee2MQTT: offline (its bridge/state says so); the devices below are checked"
        " against the list it left on the broker",
        "4 devices: 4 match, 1 service problem",
    ]
    assert status == 1


def test_a_broker_refusing_the_password_is_named_with_the_settings_to_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    users = password_file(tmp_path / "passwords", {"cocoon": "right"})
    broker = TunedMosquitto(
        tmp_path / "locked", options={"allow_anonymous": "false", "password_file": str(users)}
    )
    broker.start()
    try:
        data = home(broker.port)
        data["mqtt"].update(username="cocoon", password="wrong-horse")
        status, lines = _check(write_config(tmp_path, data), capsys)
    finally:
        broker.stop()

    assert len(lines) == 2
    assert lines[0].startswith(f"The MQTT broker 127.0.0.1:{broker.port} refused cocoon (")
    # mosquitto answers "Not authorized" to a wrong password.
    assert "): check mqtt.username, mqtt.password" in lines[0]
    assert "wrong-horse" not in lines[0]
    assert status == 1
