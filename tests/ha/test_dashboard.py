"""The dashboard `cocoon dashboard` prints, taken by a real Home Assistant (2024.3.3 and
2026.11.0): a home of this test's own (two calm modes, a named ritual, a plant, a
thermostat, lights in two rooms) runs on a real Mosquitto; every entity the dashboard
names exists in Home Assistant's states; Home Assistant stores the dashboard as a
dashboard of its own and gives it back unchanged; and the Mode select, which shows
the calm modes by name, starts the one chosen by name.

(tests/ha/test_entity_ids.py does the same for the example home of config/cocoon.yaml,
and tests/deploy/test_dashboard_browser.py opens a dashboard in a real browser.)"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from cocoon.adapters.dashboard import dashboard, dashboard_yaml
from cocoon.adapters.topics import Topics
from cocoon.config.schema import CocoonConfig
from cocoon.runtime.clock import ScaledClock

from ..brokers import Mosquitto
from ..daemon.harness import DaemonThread, config_of, wait_until
from ..deploy.example import dashboard_entity_ids
from ..homeassistant import HomeAssistant, Install, light_brightness

pytestmark = pytest.mark.integration

READING, BEDSIDE = "light.ceiling_lights", "light.bed_light"
NODE = "cocoon_tea_house"
MODE = f"select.{NODE}_mode"
ACTIVE = f"sensor.{NODE}_active_scene"
# Half past two: the only ritual (early tea, 06:00-06:10) is long over.
AFTERNOON = "2026-11-25 14:30:00"
# The lovelace integration keeps storage-mode dashboards; Home Assistant loads it with
# its frontend, which these tests do without.
LOVELACE = "lovelace:\n"


def tea_house(broker_port: int, hass: HomeAssistant) -> dict[str, Any]:
    """A home unlike the example: other names, rooms, modes; the demo's entities."""
    return {
        "home": {
            "name": "Tea house",
            "latitude": 50.85,
            "longitude": 4.35,
            "timezone": "Europe/Brussels",
        },
        "mqtt": {
            "host": "127.0.0.1",
            "port": broker_port,
            "client_id": f"cocoon-dashboard-{uuid.uuid4().hex[:8]}",
        },
        "home_assistant": {"url": hass.url, "token": hass.token},
        "devices": {
            "reading_lamp": {"entity": READING, "room": "Reading corner"},
            "radiator": {"entity": "climate.heatpump", "room": "Reading corner", "min": 16},
            "bedside": {"entity": BEDSIDE, "room": "Bedroom", "name": "Bedside light"},
            "fern_soil": {"entity": "input_number.plant_moisture"},
        },
        "scenes": {
            "quiet": {"lights": {"reading_lamp": {"brightness": 20, "kelvin": 2000}}},
            "slow": {"lights": {"bedside": {"brightness": 20, "kelvin": 2200}}},
            "tea": {"lights": {"reading_lamp": {"brightness": 40}}, "heat": {"radiator": "+0.5"}},
        },
        "rituals": {
            "tea": {"at": "06:00", "duration": "10min", "scene": "tea", "name": "Early tea"},
        },
        "calm_modes": {
            "calm_now": {"scene": "quiet", "fade": 0, "button": "Quiet please"},
            "breathe": {"scene": "slow", "fade": 0, "duration": "10min"},
        },
        "plants": {
            "fern": {"moisture": {"sensor": "fern_soil", "below": 25}, "name": "Little fern"},
        },
        "settings": {"rate_limit": 100},
    }


@dataclass
class TeaHouse:
    hass: HomeAssistant
    cfg: CocoonConfig
    topics: Topics


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, ha_install: Install) -> Iterator[TeaHouse]:
    """A Home Assistant and a broker of their own, and cocoon running the tea house."""
    directory = tmp_path_factory.mktemp(f"dashboard-{ha_install.label}")
    broker = Mosquitto(directory / "mosquitto")
    broker.start()
    hass = HomeAssistant(
        directory / "home-assistant", broker.port, extra_yaml=LOVELACE, install=ha_install
    )
    try:
        hass.start()
        cfg = config_of(tea_house(broker.port, hass), directory)
        afternoon = datetime.fromisoformat(AFTERNOON).replace(tzinfo=cfg.home.zone)
        with DaemonThread(cfg, directory / "state", clock=ScaledClock(afternoon, speed=1)) as d:
            gateway = d.daemon.home_assistant
            assert gateway is not None
            wait_until(lambda: gateway.connected, what="cocoon connected to Home Assistant")
            hass.wait_for_state(MODE, lambda s: s["state"] != "unavailable", 20)
            yield TeaHouse(hass, cfg, Topics.for_config(cfg))
    finally:
        hass.stop()
        broker.stop()


def test_every_entity_on_the_dashboard_exists_in_home_assistant(home: TeaHouse) -> None:
    used = sorted(set(dashboard_entity_ids(dashboard(home.cfg))))
    # cocoon's 10 (2 calm modes, a ritual, a plant, mode, hands off, active scene, next
    # ritual, plants needing care, problem) and the home's 4 Home Assistant devices.
    assert len(used) == 14, used
    for entity_id in used:
        state = home.hass.wait_for_state(entity_id, lambda s: s["state"] != "unavailable", 20)
        if f".{NODE}_" in entity_id:
            assert state["attributes"]["friendly_name"].startswith("Cocoon Tea house "), state


def test_home_assistant_keeps_the_dashboard_as_a_dashboard_of_its_own(home: TeaHouse) -> None:
    hass = home.hass
    board = yaml.safe_load(dashboard_yaml(home.cfg))  # what a person pastes
    created = hass.command(
        "lovelace/dashboards/create",
        url_path="cocoon-tea-house",
        title="Cocoon",
        icon="mdi:meditation",
        show_in_sidebar=True,
    )
    assert created["url_path"] == "cocoon-tea-house"
    assert created["mode"] == "storage"

    hass.command("lovelace/config/save", url_path="cocoon-tea-house", config=board)

    assert hass.command("lovelace/config", url_path="cocoon-tea-house", force=True) == board
    listed = hass.command("lovelace/dashboards/list")
    assert [d["url_path"] for d in listed] == ["cocoon-tea-house"]
    (view,) = board["views"]
    assert view["type"] == "sections"
    assert hass.unexpected_log_lines() == []


def test_the_mode_select_shows_names_and_starts_the_mode_chosen_by_name(home: TeaHouse) -> None:
    hass = home.hass
    mode = hass.wait_for_state(MODE, lambda s: s["state"] == "Off", 20)
    assert mode["attributes"]["options"] == ["Off", "Quiet please", "Breathe"]
    hass.wait_for_state(ACTIVE, lambda s: s["state"] == "Nothing")
    hass.call_service(
        "light", "turn_on", {"entity_id": BEDSIDE, "brightness": 200, "color_temp_kelvin": 4000}
    )
    hass.wait_for_state(BEDSIDE, lambda s: light_brightness(s) == 200)

    hass.call_service("select", "select_option", {"entity_id": MODE, "option": "Breathe"})

    hass.wait_for_state(BEDSIDE, lambda s: light_brightness(s) == 51)  # 20 % of 255
    hass.wait_for_state(MODE, lambda s: s["state"] == "Breathe")
    hass.wait_for_state(ACTIVE, lambda s: s["state"] == "Breathe")

    # "Off" ends it and gives back what was there.
    hass.call_service("select", "select_option", {"entity_id": MODE, "option": "Off"})
    hass.wait_for_state(BEDSIDE, lambda s: light_brightness(s) == 200)
    hass.wait_for_state(MODE, lambda s: s["state"] == "Off")


def test_an_automation_that_sends_the_mode_id_still_works(home: TeaHouse) -> None:
    hass = home.hass
    hass.wait_for_state(MODE, lambda s: s["state"] == "Off", 20)
    publish = {"topic": home.topics.mode_set, "payload": "calm_now"}

    hass.call_service("mqtt", "publish", publish)

    hass.wait_for_state(MODE, lambda s: s["state"] == "Quiet please")
    hass.wait_for_state(ACTIVE, lambda s: s["state"] == "Quiet please")
    hass.call_service("mqtt", "publish", {**publish, "payload": "off"})
    hass.wait_for_state(MODE, lambda s: s["state"] == "Off")


def test_the_dashboard_file_is_what_a_person_pastes(home: TeaHouse, tmp_path: Path) -> None:
    # `cocoon dashboard > dashboard.yaml`: the comment on top is YAML comment only.
    path = tmp_path / "dashboard.yaml"
    path.write_text(dashboard_yaml(home.cfg), encoding="utf-8")
    assert yaml.safe_load(path.read_text(encoding="utf-8")) == dashboard(home.cfg)
