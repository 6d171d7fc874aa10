"""A building against a real Home Assistant: one websocket for every flat's entities.

Two flats, each with one of Home Assistant's demo lights: a `cocoon_trigger` event
names the flat it is for, and only that flat's light moves; each flat is a device of
its own in Home Assistant, its entities available while the process and the flat are.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cocoon.config.site import Site, load_site
from cocoon.ports import Message

from ..brokers import Mosquitto
from ..daemon.harness import DaemonThread, wait_until
from ..homeassistant import HomeAssistant, light_brightness
from .test_home_assistant import CEILING, KITCHEN

pytestmark = pytest.mark.integration

LIGHTS = {"flat_a": CEILING, "flat_b": KITCHEN}


def _flat(entity: str) -> dict[str, object]:
    return {
        "home": {"latitude": 50.85, "longitude": 4.35, "timezone": "Europe/Brussels"},
        "devices": {"lamp": {"entity": entity}},
        "scenes": {"calm": {"lights": {"lamp": {"brightness": 20, "kelvin": 2000}}}},
        "calm_modes": {"calm_now": {"scene": "calm", "duration": "10min", "fade": 0}},
    }


@pytest.fixture
def building(
    home_assistant: HomeAssistant, mosquitto: Mosquitto, tmp_path: Path
) -> Iterator[tuple[Site, DaemonThread]]:
    for entity in LIGHTS.values():
        home_assistant.call_service(
            "light", "turn_on", {"entity_id": entity, "brightness": 180, "color_temp_kelvin": 4000}
        )
    site = {
        "mqtt": {"host": "127.0.0.1", "port": mosquitto.port, "client_id": f"c-{time.time_ns()}"},
        "home_assistant": {"url": home_assistant.url, "token": home_assistant.token},
        "settings": {"rate_limit": 100},
        "homes": {
            **{ident: _flat(entity) for ident, entity in LIGHTS.items()},
            # A flat whose lamp is on Zigbee2MQTT: Home Assistant is only its dashboard.
            "flat_c": {
                **_flat(""),
                "devices": {"lamp": {"zigbee2mqtt": "flat_c/lamp"}},
            },
        },
    }
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(site))
    loaded = load_site(path)
    with DaemonThread(loaded, tmp_path / "state") as running:
        for ident in [*LIGHTS, "flat_c"]:
            home_assistant.wait_for_state(
                f"button.cocoon_{ident}_calm_calm_now", lambda s: s["state"] != "unavailable"
            )
        hub = running.daemon.hub
        assert hub is not None
        wait_until(lambda: hub.link.connected, what="cocoon connected to Home Assistant")
        yield loaded, running


def test_a_cocoon_trigger_presses_in_the_flat_it_names_only(
    building: tuple[Site, DaemonThread], home_assistant: HomeAssistant
) -> None:
    _, running = building
    home_assistant.request("POST", "events/cocoon_trigger", {"name": "calm_now"})
    home_assistant.request("POST", "events/cocoon_trigger", {"name": "calm_now", "home": "flat_b"})
    home_assistant.wait_for_state(KITCHEN, lambda s: light_brightness(s) == 51)
    # The one without a home pressed nowhere: the ceiling of flat_a is as it was.
    assert light_brightness(_state(home_assistant, CEILING)) == 180
    assert "calm_now" in running.daemon.homes["flat_b"].engine.state.calm
    assert not running.daemon.homes["flat_a"].engine.state.calm
    # A flat without Home Assistant entities is pressed the same way.
    home_assistant.request("POST", "events/cocoon_trigger", {"name": "calm_now", "home": "flat_c"})
    wait_until(
        lambda: "calm_now" in running.daemon.homes["flat_c"].engine.state.calm,
        what="flat_c's calm mode",
    )
    assert not running.daemon.homes["flat_a"].engine.state.calm


def test_each_flat_is_a_device_of_its_own_whose_entities_go_with_the_process(
    building: tuple[Site, DaemonThread], home_assistant: HomeAssistant
) -> None:
    _, running = building
    home_assistant.call_service(
        "button", "press", {"entity_id": "button.cocoon_flat_a_calm_calm_now"}
    )
    home_assistant.wait_for_state(CEILING, lambda s: light_brightness(s) == 51)
    assert light_brightness(_state(home_assistant, KITCHEN)) == 180
    # What the broker says when the process dies (its last will): every flat goes with it.
    link = running.daemon.link
    running.call(lambda: link.publish(Message("cocoon/status", b"offline", qos=1, retain=True)))
    for ident in LIGHTS:
        home_assistant.wait_for_state(
            f"button.cocoon_{ident}_calm_calm_now", lambda s: s["state"] == "unavailable"
        )
    running.call(lambda: link.publish(Message("cocoon/status", b"online", qos=1, retain=True)))
    for ident in LIGHTS:
        home_assistant.wait_for_state(
            f"button.cocoon_{ident}_calm_calm_now", lambda s: s["state"] != "unavailable"
        )


def _state(hass: HomeAssistant, entity: str) -> dict[str, Any]:
    state: dict[str, Any] = hass.request("GET", f"states/{entity}")
    return state
