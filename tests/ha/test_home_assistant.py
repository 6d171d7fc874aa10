"""cocoon against a real Home Assistant: its dashboard button, its lights, its people."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cocoon.adapters.topics import Topics
from cocoon.config.schema import CocoonConfig
from cocoon.runtime.clock import ScaledClock

from ..brokers import Mosquitto
from ..daemon.harness import DaemonThread, config_of, wait_until
from ..homeassistant import HomeAssistant, light_brightness

pytestmark = pytest.mark.integration

CEILING, KITCHEN, HEAT = "light.ceiling_lights", "light.kitchen_lights", "climate.heatpump"


def ha_home(hass: HomeAssistant, broker: Mosquitto, **changes: Any) -> dict[str, Any]:
    """A home whose devices are Home Assistant's demo entities."""
    data: dict[str, Any] = {
        "home": {
            "name": "HA flat",
            "latitude": 50.85,
            "longitude": 4.35,
            "timezone": "Europe/Brussels",
        },
        "mqtt": {
            "host": "127.0.0.1",
            "port": broker.port,
            "client_id": f"cocoon-ha-{time.monotonic_ns()}",
        },
        "home_assistant": {"url": hass.url, "token": hass.token},
        "settings": {"rate_limit": 100, "max_step": 5, "fade_step": "10s"},
        "devices": {
            "ceiling": {"entity": CEILING},
            "kitchen": {"entity": KITCHEN},
            "heat": {"entity": HEAT, "min": 16, "max": 21},
            "soil": {"entity": "input_number.plant_moisture"},
        },
        "scenes": {
            "calm": {
                "lights": {"ceiling": {"brightness": 20, "kelvin": 2000}, "kitchen": "off"},
                "heat": {"heat": "+3"},
            },
            "evening": {"lights": {"ceiling": {"brightness": 80, "kelvin": 2700}}},
        },
        "rituals": {
            "evening": {"at": "19:00", "duration": "2h", "scene": "evening", "fade": "2min"}
        },
        "calm_modes": {"calm_now": {"scene": "calm", "duration": "4s", "fade": 0}},
        "plants": {"fern": {"moisture": {"sensor": "soil", "below": 25}}},
    }
    data.update(changes)
    return data


def _kelvin(state: dict[str, Any]) -> int | None:
    value = state["attributes"].get("color_temp_kelvin")
    return None if value is None else int(value)


def _reset(hass: HomeAssistant) -> None:
    hass.call_service(
        "light", "turn_on", {"entity_id": CEILING, "brightness": 180, "color_temp_kelvin": 4000}
    )
    hass.call_service(
        "light", "turn_on", {"entity_id": KITCHEN, "brightness": 120, "color_temp_kelvin": 3000}
    )
    hass.call_service("climate", "set_temperature", {"entity_id": HEAT, "temperature": 19})
    hass.call_service(
        "input_number", "set_value", {"entity_id": "input_number.plant_moisture", "value": 40}
    )


@pytest.fixture
def cocoon(
    home_assistant: HomeAssistant, mosquitto: Mosquitto, tmp_path: Path
) -> Iterator[CocoonConfig]:
    _reset(home_assistant)
    cfg = config_of(ha_home(home_assistant, mosquitto), tmp_path)
    with DaemonThread(cfg, tmp_path / "state") as running:
        node = Topics.for_config(cfg).node_id
        home_assistant.wait_for_state(
            f"button.{node}_calm_calm_now", lambda s: s["state"] != "unavailable"
        )
        # Subscribed to Home Assistant's events, its states read: ready for a trigger.
        gateway = running.daemon.home_assistant
        assert gateway is not None
        wait_until(lambda: gateway.connected, what="cocoon connected to Home Assistant")
        yield cfg


def test_calm_now_pressed_in_home_assistant_brings_the_calm_scene_and_gives_back(
    cocoon: CocoonConfig, home_assistant: HomeAssistant
) -> None:
    hass = home_assistant
    node = Topics.for_config(cocoon).node_id
    hass.call_service("button", "press", {"entity_id": f"button.{node}_calm_calm_now"})
    calm = hass.wait_for_state(CEILING, lambda s: light_brightness(s) == 51)
    assert abs((_kelvin(calm) or 0) - 2000) <= 20
    assert hass.wait_for_state(KITCHEN, lambda s: s["state"] == "off")
    heat = hass.wait_for_state(HEAT, lambda s: s["attributes"].get("temperature") == 21)
    assert heat["attributes"]["temperature"] == 21  # 19 + 3, held at the device's max of 21
    # After the calm mode's 4 s, exactly what was there before.
    back = hass.wait_for_state(CEILING, lambda s: light_brightness(s) == 180, timeout=10)
    assert abs((_kelvin(back) or 0) - 4000) <= 40
    kitchen = hass.wait_for_state(KITCHEN, lambda s: light_brightness(s) == 120)
    assert abs((_kelvin(kitchen) or 0) - 3000) <= 30
    hass.wait_for_state(HEAT, lambda s: s["attributes"].get("temperature") == 19)


def test_a_thirsty_plant_shows_in_home_assistant(
    cocoon: CocoonConfig, home_assistant: HomeAssistant
) -> None:
    node = Topics.for_config(cocoon).node_id
    sensor = f"binary_sensor.{node}_plant_fern"
    home_assistant.wait_for_state(sensor, lambda s: s["state"] == "off")
    home_assistant.call_service(
        "input_number", "set_value", {"entity_id": "input_number.plant_moisture", "value": 10}
    )
    home_assistant.wait_for_state(sensor, lambda s: s["state"] == "on")
    needing = home_assistant.wait_for_state(
        f"sensor.{node}_plants_needing_care", lambda s: s["state"] == "1"
    )
    assert needing["state"] == "1"


def test_a_light_changed_by_a_person_is_left_alone(
    cocoon: CocoonConfig, home_assistant: HomeAssistant
) -> None:
    hass = home_assistant
    node = Topics.for_config(cocoon).node_id
    hass.call_service("button", "press", {"entity_id": f"button.{node}_calm_calm_now"})
    hass.wait_for_state(CEILING, lambda s: light_brightness(s) == 51)
    # A person turns it up through the REST API, as the app would.
    hass.call_service("light", "turn_on", {"entity_id": CEILING, "brightness": 230})
    # The calm mode ends after 4 s and would give back 180; the person's 230 stays.
    hass.wait_for_state(KITCHEN, lambda s: light_brightness(s) == 120, timeout=10)
    time.sleep(0.5)
    assert light_brightness(hass.get_state(CEILING) or {}) == 230


def test_an_evening_fades_in_steps_never_above_the_maximum_step(
    home_assistant: HomeAssistant, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    hass = home_assistant
    _reset(hass)
    hass.call_service(
        "light", "turn_on", {"entity_id": CEILING, "brightness": 26, "color_temp_kelvin": 2700}
    )
    cfg = config_of(ha_home(hass, mosquitto), tmp_path)
    clock = ScaledClock(_local(cfg, "2026-11-25 18:59:50"), speed=20)
    seen: list[int] = []
    stop = threading.Event()

    def record() -> None:
        while not stop.is_set():
            state = hass.get_state(CEILING)
            value = None if state is None else light_brightness(state)
            if value is not None and (not seen or seen[-1] != value):
                seen.append(value)
            time.sleep(0.02)

    recorder = threading.Thread(target=record, daemon=True)
    recorder.start()
    try:
        with DaemonThread(cfg, tmp_path / "state", clock=clock):
            # 2 min of fade at 20x: 6 s.
            hass.wait_for_state(CEILING, lambda s: light_brightness(s) == 204, timeout=20)
    finally:
        stop.set()
        recorder.join(2)
    steps = [b - a for a, b in itertools.pairwise(seen)]
    assert len(steps) >= 5, seen  # it went in steps, not at once
    assert max(steps) <= round(255 * 5 / 100) + 1, seen  # 5 % of 255, and a rounding


def _local(cfg: CocoonConfig, text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text).replace(tzinfo=cfg.home.zone)


def test_a_home_assistant_restart_mid_calm_mode_and_the_calm_scene_is_back(
    fresh_home_assistant: HomeAssistant, fresh_mosquitto: Mosquitto, tmp_path: Path
) -> None:
    hass = fresh_home_assistant
    data = ha_home(hass, fresh_mosquitto)
    data["calm_modes"]["calm_now"] = {"scene": "calm", "duration": "5min", "fade": 0}
    cfg = config_of(data, tmp_path)
    node = Topics.for_config(cfg).node_id
    _reset(hass)
    with DaemonThread(cfg, tmp_path / "state") as daemon:
        hass.wait_for_state(f"button.{node}_calm_calm_now", lambda s: s["state"] != "unavailable")
        hass.call_service("button", "press", {"entity_id": f"button.{node}_calm_calm_now"})
        hass.wait_for_state(CEILING, lambda s: light_brightness(s) == 51)
        hass.restart()  # demo states start afresh: the ceiling is on at full again
        back = hass.wait_for_state(CEILING, lambda s: light_brightness(s) == 51, timeout=20)
        assert abs((_kelvin(back) or 0) - 2000) <= 20
        wait_until(lambda: "Home Assistant" not in str(daemon.daemon.engine.problems))


def test_a_cocoon_trigger_event_presses_without_mqtt(
    cocoon: CocoonConfig, home_assistant: HomeAssistant
) -> None:
    home_assistant.request("POST", "events/cocoon_trigger", {"name": "calm_now"})
    home_assistant.wait_for_state(CEILING, lambda s: light_brightness(s) == 51)
