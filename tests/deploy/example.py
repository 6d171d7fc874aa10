"""The example home of `config/cocoon.yaml`, pointed at the test's own broker and Home Assistant.

The home keeps its name ("Brussels flat"), so cocoon announces exactly the entity ids
that `deploy/dashboard.yaml` uses, and keeps its scenes, rituals, calm mode and
plants. What changes is where things are: the broker and Home Assistant are the
test's own, the devices that the example reaches through Home Assistant are the
demo's lights, climate and an input number, and the calm mode arrives at once
(`fade: 0`) so that a test does not wait three minutes for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "cocoon.yaml"
DASHBOARD = ROOT / "deploy" / "dashboard.yaml"

# The example's Home Assistant devices, and the demo entity standing in for each.
SOFA, FLOOR, PENDANT = "light.ceiling_lights", "light.kitchen_lights", "light.bed_light"
STAND_INS = {
    "sofa_lamp": {"entity": SOFA},
    "floor_lamp": {"entity": FLOOR},
    "kitchen_pendant": {"entity": PENDANT},
    "bedroom_ceiling": {"entity": "light.living_room_rgbww_lights"},
    "living_heat": {"entity": "climate.heatpump"},
    "monstera_moisture": {"entity": "input_number.plant_moisture"},
}


class _KeepTags(yaml.SafeLoader):
    """A loader that reads `!secret NAME` as a placeholder instead of failing."""


_KeepTags.add_constructor("!secret", lambda loader, node: f"<secret {node.value}>")


def example_data() -> dict[str, Any]:
    """config/cocoon.yaml as plain data (secrets as placeholders)."""
    with EXAMPLE.open(encoding="utf-8") as file:
        data: dict[str, Any] = yaml.load(file, Loader=_KeepTags)  # a SafeLoader subclass
    return data


def example_home(broker_port: int, hass_url: str, hass_token: str) -> dict[str, Any]:
    """The example home against the test's broker and Home Assistant."""
    data = example_data()
    data["mqtt"] = {
        **{k: v for k, v in data["mqtt"].items() if k not in ("username", "password")},
        "host": "127.0.0.1",
        "port": broker_port,
        "client_id": f"cocoon-deploy-{uuid.uuid4().hex[:8]}",
    }
    data["home_assistant"] = {"url": hass_url, "token": hass_token}
    for device, where in STAND_INS.items():
        kept = {
            k: v for k, v in data["devices"][device].items() if k not in ("entity", "zigbee2mqtt")
        }
        data["devices"][device] = {**where, **kept}
    data["calm_modes"]["calm_now"]["fade"] = 0
    data["settings"]["rate_limit"] = 100
    return data


def dashboard_entity_ids(value: object) -> Iterator[str]:
    """Every entity id anywhere in the dashboard (`entity:`, `entity_id:`, rows)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("entity", "entity_id") and isinstance(item, str):
                yield item
            elif key in ("entity_id", "entities") and isinstance(item, list):
                for each in item:
                    yield from ([each] if isinstance(each, str) else dashboard_entity_ids(each))
            else:
                yield from dashboard_entity_ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from dashboard_entity_ids(item)
