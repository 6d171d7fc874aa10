"""A building of flats on disk, for `cocoon run` on a site: one file per flat.

Each flat has a lamp, a reading lamp and a radiator on one Zigbee2MQTT network (their
friendly names start with the flat's id), and two calm modes with their buttons: "Calm
now" for ten minutes, "Settle" for a few seconds. No rituals: what a flat's devices are
sent comes from its own presses only, whatever the time of day.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import yaml

FLATS = 20
SETTLE_SECONDS = 15
LAMP = {"on": True, "brightness_pct": 70, "kelvin": 3500}
"""How each flat's lamp is before cocoon (70 %: 178 of 254)."""
AS_BEFORE = 178
CALM = 51
"""The lamp's brightness in the calm scene (20 %: 51 of 254)."""


def flat_ids(count: int = FLATS) -> list[str]:
    return [f"flat_{n:02d}" for n in range(1, count + 1)]


def flat(ident: str, calm_brightness: int = 20) -> dict[str, Any]:
    """One flat's file: today's single-home format without the connections."""
    return {
        "home": {
            "name": ident.replace("_", " ").capitalize(),
            "latitude": 50.85,
            "longitude": 4.35,
            "timezone": "Europe/Brussels",
        },
        "devices": {
            "lamp": {"zigbee2mqtt": f"{ident}/lamp"},
            "reading": {"zigbee2mqtt": f"{ident}/reading"},
            "radiator": {"zigbee2mqtt": f"{ident}/radiator", "kind": "thermostat"},
        },
        "scenes": {
            "calm": {
                "lights": {
                    "lamp": {"brightness": calm_brightness, "kelvin": 2000},
                    "reading": "off",
                },
                "heat": {"radiator": "+1"},
            }
        },
        "calm_modes": {
            "calm_now": {"scene": "calm", "duration": "10min", "fade": 0, "button": "Calm now"},
            "settle": {"scene": "calm", "duration": f"{SETTLE_SECONDS}s", "fade": 0},
        },
    }


def write_flat(directory: Path, ident: str, data: dict[str, Any] | None = None) -> Path:
    path = directory / "flats" / f"{ident}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data or flat(ident), sort_keys=False))
    return path


def write_site(directory: Path, port: int, flats: list[str]) -> Path:
    """The site file naming `flats` (each written beside it, unless it already is)."""
    for ident in flats:
        if not (directory / "flats" / f"{ident}.yaml").exists():
            write_flat(directory, ident)
    site = {
        "mqtt": {"host": "127.0.0.1", "port": port, "client_id": f"cocoon-{uuid.uuid4().hex[:8]}"},
        "settings": {"rate_limit": 100},
        "homes": {ident: f"flats/{ident}.yaml" for ident in flats},
    }
    path = directory / "site.yaml"
    path.write_text(yaml.safe_dump(site, sort_keys=False))
    return path
