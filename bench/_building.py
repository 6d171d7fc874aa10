"""A building of flats as a cocoon site: one site file, one file per flat under `flats/`.

Each flat is config/cocoon.yaml's example home made all-Zigbee2MQTT: a sofa lamp, a floor
lamp, a kitchen pendant, a bedside lamp, a counter lamp and a bedroom ceiling light, a
radiator and a plant sensor (8 devices; more lights with `devices`), with the example's
scenes, its evening, morning-tea and night rituals and its "Calm now" calm mode (fade
3 min). Every flat is in the same place and time zone, so their rituals run together, and
every device is on one Zigbee2MQTT network (one base topic), named `<flat>/<device>`
(`flat_007/sofa_lamp`).

The site file holds the connections and the site-wide settings (`rate_limit`: the example's
10 commands a second, for the whole network); a flat file is today's single-home format
without `mqtt:`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

LATITUDE, LONGITUDE, TIMEZONE = 50.85, 4.35, "Europe/Brussels"
ZIGBEE2MQTT = "zigbee2mqtt"
LIGHTS = (
    "sofa_lamp",
    "floor_lamp",
    "kitchen_pendant",
    "bedside_lamp",
    "counter_lamp",
    "bedroom_ceiling",
)
ROOMS = {
    "sofa_lamp": "Living room",
    "floor_lamp": "Living room",
    "radiator": "Living room",
    "kitchen_pendant": "Kitchen",
    "counter_lamp": "Kitchen",
    "basil_sensor": "Kitchen",
    "bedside_lamp": "Bedroom",
    "bedroom_ceiling": "Bedroom",
}
EVENING_LIGHTS = ("sofa_lamp", "floor_lamp", "kitchen_pendant")  # and any extra lamp
CALM_LIGHTS = ("sofa_lamp", "floor_lamp")

# The example's rituals (config/cocoon.yaml), as clock and sun times.
EXAMPLE_RITUALS: dict[str, dict[str, Any]] = {
    "morning_tea": {
        "name": "Morning tea",
        "at": "07:15",
        "days": "weekdays",
        "duration": "20min",
        "scene": "tea_glow",
        "fade": "2min",
    },
    "evening": {
        "at": "sunset-30min",
        "not_before": "18:00",
        "until": "22:30",
        "scene": "evening",
        "fade": "45min",
    },
    "night": {"at": "22:30", "until": "sunrise", "scene": "night", "fade": "30min"},
}
CALM_NOW = {"scene": "calm", "duration": "45min", "fade": "3min", "button": "Calm now"}


def flat_id(number: int) -> str:
    """`flat_007`: the home id of the flat numbered `number`."""
    return f"flat_{number:03d}"


def lights(devices: int) -> list[str]:
    """The lights of a flat of `devices` devices (a radiator and a plant sensor besides)."""
    if devices < 8:
        raise ValueError(f"a flat has at least 8 devices, not {devices}")
    return [*LIGHTS, *(f"lamp_{n:02d}" for n in range(len(LIGHTS) + 1, devices - 1))]


def flat(number: int, devices: int, rituals: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """One flat's file: the example home, its devices named `<flat>/<device>`."""
    ident = flat_id(number)
    names = lights(devices)
    found: dict[str, Any] = {
        name: {"zigbee2mqtt": f"{ident}/{name}", "room": ROOMS.get(name, "Living room")}
        for name in names
    }
    found["bedside_lamp"]["max_kelvin"] = 4000
    found["radiator"] = {
        "zigbee2mqtt": f"{ident}/radiator",
        "kind": "thermostat",
        "room": "Living room",
        "min": 16,
        "max": 23,
    }
    found["basil_sensor"] = {"zigbee2mqtt": f"{ident}/basil_sensor", "kind": "sensor"}
    found["basil_sensor"]["room"] = "Kitchen"
    evening = {name: {"brightness": 35, "kelvin": 2200} for name in EVENING_LIGHTS}
    evening["kitchen_pendant"] = {"brightness": 25, "kelvin": 2200}
    evening.update({name: {"brightness": 35, "kelvin": 2200} for name in names[len(LIGHTS) :]})
    return {
        "home": {
            "name": f"Flat {number}",
            "latitude": LATITUDE,
            "longitude": LONGITUDE,
            "timezone": TIMEZONE,
        },
        "devices": found,
        "scenes": {
            "evening": {"lights": evening, "heat": {"radiator": "+0.5"}},
            "night": {
                "lights": {
                    "bedside_lamp": {"brightness": 1, "kelvin": 1800},
                    "sofa_lamp": {"brightness": 5, "kelvin": 2000},
                    "floor_lamp": "off",
                    "kitchen_pendant": "off",
                    "bedroom_ceiling": "off",
                },
                "heat": {"radiator": "-1"},
            },
            "calm": {
                "lights": {"sofa_lamp": {"brightness": 20, "kelvin": 2000}, "floor_lamp": "off"},
                "heat": {"radiator": "+1"},
            },
            "tea_glow": {"lights": {"counter_lamp": {"brightness": 40, "kelvin": 2400}}},
        },
        "rituals": {name: dict(ritual) for name, ritual in rituals.items()},
        "calm_modes": {"calm_now": dict(CALM_NOW)},
        "plants": {
            "basil": {
                "moisture": {"sensor": "basil_sensor", "property": "soil_moisture", "below": 30},
                "cue": {
                    "during": "morning_tea",
                    "light": "counter_lamp",
                    "kelvin": 5000,
                    "brightness": 15,
                },
            }
        },
    }


def write_building(
    directory: Path,
    flats: int,
    mqtt_port: int,
    *,
    devices: int = 8,
    rituals: Mapping[str, Mapping[str, Any]] | None = None,
    settings: Mapping[str, Any] | None = None,
    mqtt: Mapping[str, Any] | None = None,
) -> Path:
    """Write `site.yaml` and `flats/flat_NNN.yaml` (flat_000 …) into `directory`; returns
    the site file's path.

    `rituals` replaces the example's rituals in every flat (see `timed_rituals`),
    `settings` and `mqtt` are added to the site file's sections."""
    chosen = EXAMPLE_RITUALS if rituals is None else rituals
    (directory / "flats").mkdir(parents=True, exist_ok=True)
    homes: dict[str, str] = {}
    for number in range(flats):
        ident = flat_id(number)
        path = directory / "flats" / f"{ident}.yaml"
        path.write_text(yaml.safe_dump(flat(number, devices, chosen), sort_keys=False))
        homes[ident] = f"flats/{ident}.yaml"
    site = {
        "mqtt": {
            "host": "127.0.0.1",
            "port": mqtt_port,
            "zigbee2mqtt_topic": ZIGBEE2MQTT,
            **(mqtt or {}),
        },
        "settings": {"rate_limit": 10, **(settings or {})},
        "homes": homes,
    }
    path = directory / "site.yaml"
    path.write_text(yaml.safe_dump(site, sort_keys=False))
    return path


def timed_rituals(
    evening: datetime, sunset: datetime, *, fade: str = "3min", length: str = "30min"
) -> dict[str, dict[str, Any]]:
    """The example's rituals moved so that the evening starts at `evening` (to the second:
    as an offset from that day's `sunset`, both in the flats' time zone) and fades in over
    `fade`; morning tea and the night are put 8 and 9 hours later, so nothing else runs.

    Each ritual is a window of a given `duration`, so none of yesterday's is still in
    force whatever the clock says."""
    offset = round((evening - sunset).total_seconds())
    sign = "+" if offset >= 0 else "-"
    morning, night = evening + timedelta(hours=8), evening + timedelta(hours=9)
    return {
        "morning_tea": {
            **EXAMPLE_RITUALS["morning_tea"],
            "at": f"{morning:%H:%M}",
        },
        "evening": {
            "at": f"sunset{sign}{abs(offset)}s",
            "duration": length,
            "scene": "evening",
            "fade": fade,
        },
        "night": {"at": f"{night:%H:%M}", "duration": "1h", "scene": "night", "fade": "30min"},
    }
