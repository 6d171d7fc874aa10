"""The dashboard's entity ids hold on every Home Assistant: cocoon (the example home of
config/cocoon.yaml, a real daemon on a real Mosquitto) announces itself to each
installation, every entity that `cocoon dashboard` names for it exists under exactly
that id (cocoon's own are those of deploy/dashboard.yaml), neither log has a word of
deprecation about cocoon's discovery, and "Calm now" pressed through Home Assistant
changes the lights. (tests/ha/test_dashboard.py does the same for a home of its own,
and has Home Assistant store the dashboard.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
import yaml

from cocoon.adapters.dashboard import dashboard
from cocoon.config.schema import CocoonConfig
from cocoon.runtime.clock import ScaledClock

from ..brokers import Mosquitto
from ..daemon.harness import DaemonThread, config_of, wait_until
from ..deploy.example import DASHBOARD, FLOOR, SOFA, dashboard_entity_ids, example_home
from ..homeassistant import HomeAssistant, Install, light_brightness

pytestmark = pytest.mark.integration

NODE = "cocoon_brussels_flat"
CALM_NOW = f"button.{NODE}_calm_calm_now"
# A quiet afternoon: no ritual runs, so what the lights do is the calm mode's doing.
AFTERNOON = "2026-11-25 14:00:00"
# What Home Assistant says about discovery it will stop honouring (2025.10-2026.3:
# "uses the deprecated option object_id ... will stop working in ...").
DEPRECATION = re.compile(r"deprecat|will stop working|no longer supported", re.IGNORECASE)


@dataclass
class ExampleHome:
    hass: HomeAssistant
    cfg: CocoonConfig
    daemon: DaemonThread


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory, ha_install: Install) -> Iterator[ExampleHome]:
    """A Home Assistant and a broker of their own, and cocoon running the example home."""
    directory = tmp_path_factory.mktemp(f"example-{ha_install.label}")
    broker = Mosquitto(directory / "mosquitto")
    broker.start()
    hass = HomeAssistant(directory / "home-assistant", broker.port, install=ha_install)
    try:
        hass.start()
        cfg = config_of(example_home(broker.port, hass.url, hass.token), directory)
        zone_afternoon = datetime.fromisoformat(AFTERNOON).replace(tzinfo=cfg.home.zone)
        clock = ScaledClock(zone_afternoon, speed=1)
        with DaemonThread(cfg, directory / "state", clock=clock) as daemon:
            gateway = daemon.daemon.home_assistant
            assert gateway is not None
            wait_until(lambda: gateway.connected, what="cocoon connected to Home Assistant")
            yield ExampleHome(hass, cfg, daemon)
    finally:
        hass.stop()
        broker.stop()


def test_every_entity_on_the_dashboard_exists_under_its_id(example: ExampleHome) -> None:
    # The example's own devices are the demo's here; cocoon's entities are the same.
    used = sorted(set(dashboard_entity_ids(dashboard(example.cfg))))
    deployed = yaml.safe_load(DASHBOARD.read_text(encoding="utf-8"))
    own = [entity for entity in used if entity.split(".")[1].startswith(NODE)]
    assert own == sorted(e for e in set(dashboard_entity_ids(deployed)) if NODE in e)
    assert len(own) >= 10

    for entity_id in used:
        state = example.hass.wait_for_state(entity_id, lambda s: s["state"] != "unavailable", 20)
        if entity_id in own:  # named after cocoon's device
            assert state["attributes"]["friendly_name"].startswith("Cocoon Brussels flat "), state


def test_home_assistant_says_nothing_deprecated_about_cocoon(example: ExampleHome) -> None:
    example.hass.wait_for_state(CALM_NOW, lambda s: s["state"] != "unavailable", 20)
    records = example.hass.log_records()
    assert records, "the log check read no record at all: its pattern is out of date"
    deprecated = [
        record
        for record in records
        if DEPRECATION.search(record) and re.search(r"cocoon|mqtt|object_id", record)
    ]
    assert deprecated == []
    assert example.hass.unexpected_log_lines() == []


def test_calm_now_pressed_through_home_assistant_changes_the_lights(
    example: ExampleHome,
) -> None:
    hass = example.hass
    hass.call_service(
        "light", "turn_on", {"entity_id": SOFA, "brightness": 180, "color_temp_kelvin": 4000}
    )
    hass.call_service(
        "light", "turn_on", {"entity_id": FLOOR, "brightness": 120, "color_temp_kelvin": 3000}
    )
    hass.wait_for_state(CALM_NOW, lambda s: s["state"] != "unavailable", 20)

    hass.call_service("button", "press", {"entity_id": CALM_NOW})

    calm = hass.wait_for_state(SOFA, lambda s: light_brightness(s) == 51)  # 20 % of 255
    assert abs(int(calm["attributes"]["color_temp_kelvin"]) - 2000) <= 20, calm
    hass.wait_for_state(FLOOR, lambda s: s["state"] == "off")
    hass.wait_for_state(f"select.{NODE}_mode", lambda s: s["state"] == "Calm now")

    # Ending it through Home Assistant gives back what was there.
    hass.call_service(
        "select", "select_option", {"entity_id": f"select.{NODE}_mode", "option": "Off"}
    )
    hass.wait_for_state(SOFA, lambda s: light_brightness(s) == 180)
    hass.wait_for_state(FLOOR, lambda s: light_brightness(s) == 120)
