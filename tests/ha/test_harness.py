"""The Home Assistant harness itself, on each installation: a real Home Assistant boots,
its demo lights obey, its MQTT integration talks to our Mosquitto, the token survives a
restart, and the log check catches what it must."""

from __future__ import annotations

import json
import queue
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from ..brokers import Mosquitto
from ..homeassistant import HomeAssistant, Install, ha_current_root

pytestmark = pytest.mark.integration

DEMO_LIGHTS = ["light.bed_light", "light.ceiling_lights", "light.kitchen_lights"]


@contextmanager
def mqtt_client(
    broker: Mosquitto, *topics: str
) -> Iterator[tuple[mqtt.Client, queue.Queue[mqtt.MQTTMessage]]]:
    """A paho 2.x client on `broker`, subscribed to `topics`; yields it and what it receives."""
    received: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    subscribed = threading.Event()
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"ha-harness-{uuid.uuid4().hex[:10]}",
        protocol=mqtt.MQTTv5,
    )
    client.on_message = lambda _client, _userdata, message: received.put(message)
    client.on_subscribe = lambda *_: subscribed.set()
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        if topics:
            client.subscribe([(topic, 1) for topic in topics])
            assert subscribed.wait(5), "the subscription was not acknowledged"
        yield client, received
    finally:
        client.disconnect()
        client.loop_stop()


def publish(client: mqtt.Client, topic: str, payload: str, retain: bool = True) -> None:
    """Publish with QoS 1 and wait until the broker has it."""
    client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)


def test_boots_running_with_a_clean_log(home_assistant: HomeAssistant) -> None:
    config = home_assistant.get_config()

    assert config["state"] == "RUNNING"
    assert home_assistant.version is not None
    assert config["version"] == home_assistant.version
    assert {"demo", "mqtt", "input_number", "api", "websocket_api"} <= set(config["components"])
    assert home_assistant.url == f"http://127.0.0.1:{home_assistant.port}"
    assert home_assistant.ws_url == f"ws://127.0.0.1:{home_assistant.port}/api/websocket"
    assert home_assistant.unexpected_log_lines() == []


def test_the_plant_stand_ins_are_settable(home_assistant: HomeAssistant) -> None:
    home_assistant.call_service(
        "input_number", "set_value", {"entity_id": "input_number.plant_moisture", "value": 23}
    )

    state = home_assistant.get_state("input_number.plant_moisture")
    assert state is not None
    assert float(state["state"]) == 23
    assert home_assistant.get_state("input_number.plant_illuminance") is not None


def test_an_unknown_entity_has_no_state(home_assistant: HomeAssistant) -> None:
    assert home_assistant.get_state("light.nope") is None


def test_the_log_check_catches_a_warning_and_an_error(home_assistant: HomeAssistant) -> None:
    # A check whose record pattern matched nothing would pass blindly: show it can fail.
    marker = uuid.uuid4().hex
    for level in ("warning", "error"):
        home_assistant.call_service(
            "system_log",
            "write",
            {"message": f"{level} {marker}", "level": level, "logger": "cocoon.tests"},
        )
    try:
        caught = _wait_for_lines(home_assistant, marker, 2)
        assert "WARNING" in caught[0]
        assert f"warning {marker}" in caught[0]
        assert "ERROR" in caught[1]
        assert f"error {marker}" in caught[1]
        assert home_assistant.unexpected_log_lines(also_expected=[marker]) == []
    finally:
        # The session's instance goes on with a clean log.
        home_assistant.forget_log_records()


def _wait_for_lines(hass: HomeAssistant, marker: str, count: int) -> list[str]:
    """Poll the log until `count` unexpected records name `marker` (HA writes it from a thread)."""
    deadline = time.monotonic() + 10
    while True:
        found = [line for line in hass.unexpected_log_lines() if marker in line]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("entity_id", "brightness", "kelvin"),
    [
        ("light.bed_light", 77, 2700),
        ("light.ceiling_lights", 200, 4000),
        ("light.kitchen_lights", 12, 3000),
    ],
)
def test_a_demo_light_obeys_brightness_and_colour_temperature(
    home_assistant: HomeAssistant, entity_id: str, brightness: int, kelvin: int
) -> None:
    assert home_assistant.get_state(entity_id) is not None, f"the demo has no {entity_id}"

    changed = home_assistant.call_service(
        "light",
        "turn_on",
        {"entity_id": entity_id, "brightness": brightness, "color_temp_kelvin": kelvin},
    )

    assert entity_id in {state["entity_id"] for state in changed}
    state = home_assistant.get_state(entity_id)
    assert state is not None
    assert state["state"] == "on"
    assert state["attributes"]["brightness"] == brightness
    assert state["attributes"]["color_mode"] == "color_temp"
    # 2024.3 stores mireds: 2700 K reads back as 2702 K.
    assert state["attributes"]["color_temp_kelvin"] == pytest.approx(kelvin, rel=0.01)

    home_assistant.call_service("light", "turn_off", {"entity_id": entity_id})
    off = home_assistant.get_state(entity_id)
    assert off is not None
    assert off["state"] == "off"


def test_mqtt_discovery_and_a_button_press_reach_the_broker(
    home_assistant: HomeAssistant, mosquitto: Mosquitto
) -> None:
    assert home_assistant.mqtt_entry_state() == "loaded"
    config_topic = "homeassistant/button/testnode/test_button/config"
    availability_topic = "cocoon-test/testnode/status"
    command_topic = "cocoon-test/testnode/test_button/press"
    entity_id = "button.cocoon_test_button"
    config = {
        "name": "Test button",
        "unique_id": "cocoon_test_button",
        # 2024.3 reads the first, 2026.4 and later only the second.
        "object_id": "cocoon_test_button",
        "default_entity_id": entity_id,
        "command_topic": command_topic,
        "payload_press": "PRESS",
        "availability": [
            {
                "topic": availability_topic,
                "payload_available": "online",
                "payload_not_available": "offline",
            }
        ],
        "device": {"identifiers": ["cocoon_testnode"], "name": "Cocoon test node"},
        "origin": {"name": "cocoon tests"},
    }
    with mqtt_client(mosquitto, command_topic) as (client, received):
        try:
            publish(client, availability_topic, "online")
            publish(client, config_topic, json.dumps(config))
            # Discovery has a cool-down of about 2 s after Home Assistant starts.
            home_assistant.wait_for_state(entity_id, lambda s: s["state"] != "unavailable", 15)

            home_assistant.call_service("button", "press", {"entity_id": entity_id})

            message = received.get(timeout=5)
            assert (message.topic, message.payload) == (command_topic, b"PRESS")
            pressed = home_assistant.get_state(entity_id)
            assert pressed is not None
            assert pressed["state"].startswith("20")  # the ISO time of the last press

            publish(client, availability_topic, "offline")
            home_assistant.wait_for_state(entity_id, lambda s: s["state"] == "unavailable", 5)
        finally:
            publish(client, config_topic, "")
            publish(client, availability_topic, "")
    assert received.empty()


def test_native_automations_come_from_extra_yaml(
    tmp_path: Path, mosquitto: Mosquitto, ha_install: Install
) -> None:
    automation = """\
automation:
  - id: dry_plant
    alias: Dry plant
    trigger:
      - platform: numeric_state
        entity_id: input_number.plant_moisture
        below: 20
    action:
      - service: light.turn_on
        target:
          entity_id: light.kitchen_lights
        data:
          brightness: 10
"""
    hass = HomeAssistant(
        tmp_path / "home-assistant", mosquitto.port, extra_yaml=automation, install=ha_install
    )
    hass.start()
    try:
        assert hass.get_state("automation.dry_plant") is not None

        hass.call_service(
            "input_number", "set_value", {"entity_id": "input_number.plant_moisture", "value": 15}
        )

        hass.wait_for_state(
            "light.kitchen_lights", lambda s: s["attributes"].get("brightness") == 10, 5
        )
        assert hass.unexpected_log_lines() == []
    finally:
        hass.stop()


def test_a_restart_keeps_the_dir_the_port_and_the_token(
    fresh_home_assistant: HomeAssistant,
) -> None:
    hass = fresh_home_assistant
    port, token = hass.port, hass.token
    hass.call_service("light", "turn_on", {"entity_id": "light.bed_light"})

    hass.restart()

    assert (hass.port, hass.token) == (port, token)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/config", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request) as response:
        assert json.loads(response.read())["state"] == "RUNNING"
    assert hass.mqtt_entry_state() == "loaded"
    bed_light = hass.get_state("light.bed_light")
    assert bed_light is not None
    assert bed_light["state"] == "off", "the demo's state lives in memory and starts over"
    assert hass.unexpected_log_lines() == []


@pytest.mark.parametrize(
    ("install", "script"),
    [
        (Install("oldest", Path("/no-venv"), "scripts/ha-venv"), "scripts/ha-venv"),
        (
            Install("current", Path("/opt/ha"), "scripts/ha-current", Path("/no-root")),
            "scripts/ha-current",
        ),
    ],
    ids=["venv", "root"],
)
def test_a_missing_installation_fails_loudly(tmp_path: Path, install: Install, script: str) -> None:
    hass = HomeAssistant(tmp_path / "home-assistant", 1883, install=install)

    assert hass.version is None
    with pytest.raises(RuntimeError, match=f"run {script}"):
        hass.start()
    assert not hass.running


def test_names_resolve_on_loopback_only_where_the_current_one_runs() -> None:
    # 2026.x looks up hosts on the internet at start; no query may leave the machine.
    resolv = (ha_current_root() / "etc" / "resolv.conf").read_text(encoding="utf-8")
    servers = [line.split()[1] for line in resolv.splitlines() if line.startswith("nameserver")]
    assert servers
    assert all(server.startswith("127.") for server in servers), servers
