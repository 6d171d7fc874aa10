"""Builders shared by the core tests: small homes in real places."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cocoon.config.schema import CocoonConfig
from cocoon.core.model import OFF, LightReading, Readings

BRUSSELS = ZoneInfo("Europe/Brussels")


def home_config(**sections: Any) -> CocoonConfig:
    """A Brussels home with two lights and a thermostat, plus the sections given."""
    data: dict[str, Any] = {
        "home": {
            "name": "Flat",
            "latitude": 50.85,
            "longitude": 4.35,
            "timezone": "Europe/Brussels",
        },
        "mqtt": {},
        "devices": {
            "sofa": {"zigbee2mqtt": "sofa"},
            "desk": {"zigbee2mqtt": "desk"},
            "heat": {"zigbee2mqtt": "radiator", "kind": "thermostat", "min": 16, "max": 23},
            "soil": {"zigbee2mqtt": "soil", "kind": "sensor"},
        },
        "scenes": {
            "evening": {
                "lights": {"sofa": {"brightness": 35, "kelvin": 2200}},
                "heat": {"heat": "+0.5"},
            },
            "calm": {
                "lights": {"sofa": {"brightness": 20, "kelvin": 2000}, "desk": "off"},
                "heat": {"heat": "+4"},
            },
            "night": {"lights": {"sofa": {"brightness": 2, "kelvin": 1900}}},
            "tea": {"lights": {"desk": {"brightness": 40, "kelvin": 2400}}},
        },
    }
    data.update(sections)
    return CocoonConfig.model_validate(data)


def at(text: str, zone: ZoneInfo = BRUSSELS) -> datetime:
    """A local instant from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def lights_off(at_: datetime | None = None) -> Readings:
    """Readings of the home's lights, all off (a device that never reported is left alone)."""
    moment = at_ or at("2026-01-01 00:00")
    return Readings({name: LightReading(OFF, moment) for name in ("sofa", "desk")}, {})
