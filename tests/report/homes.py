"""Small homes in real places for the day-plan tests."""

from __future__ import annotations

from typing import Any

from cocoon.config.schema import CocoonConfig


def brussels(**sections: Any) -> CocoonConfig:
    """A Brussels flat: a sofa lamp and a desk lamp in the living room, a thermostat."""
    data: dict[str, Any] = {
        "home": {
            "name": "Brussels flat",
            "latitude": 50.85,
            "longitude": 4.35,
            "timezone": "Europe/Brussels",
        },
        "mqtt": {},
        "devices": {
            "sofa": {"zigbee2mqtt": "sofa", "room": "Living room"},
            "desk": {"zigbee2mqtt": "desk", "room": "Living room"},
            "bedside": {"zigbee2mqtt": "bedside", "room": "Bedroom"},
            "heat": {
                "zigbee2mqtt": "radiator",
                "kind": "thermostat",
                "min": 16,
                "max": 23,
                "room": "Living room",
            },
        },
        "scenes": {
            "tea": {"lights": {"desk": {"brightness": 40, "kelvin": 2400}}},
            "evening": {
                "lights": {"sofa": {"brightness": 35, "kelvin": 2200}},
                "heat": {"heat": "+0.5"},
            },
            "night": {
                "lights": {"sofa": {"brightness": 5, "kelvin": 2000}, "bedside": {"brightness": 1}}
            },
        },
        "rituals": {
            "early_tea": {"at": "02:30", "duration": "20min", "scene": "tea", "fade": "2min"},
            "evening": {
                "at": "sunset-30min",
                "not_before": "18:00",
                "until": "22:30",
                "scene": "evening",
                "fade": "45min",
            },
            "night": {"at": "22:30", "until": "sunrise", "scene": "night", "fade": "30min"},
            "weekday_tea": {"at": "07:15", "days": "weekdays", "duration": "20min", "scene": "tea"},
        },
    }
    data.update(sections)
    return CocoonConfig.model_validate(data)


def tromso() -> CocoonConfig:
    """A Tromsø flat whose evening starts at sunset: on midsummer the sun never sets."""
    return CocoonConfig.model_validate(
        {
            "home": {
                "name": "Tromsø flat",
                "latitude": 69.65,
                "longitude": 18.96,
                "timezone": "Europe/Oslo",
                "polar_fallback": {"sunset": "20:30"},
            },
            "mqtt": {},
            "devices": {"reading_lamp": {"zigbee2mqtt": "reading_lamp"}},
            "scenes": {"evening": {"lights": {"reading_lamp": {"brightness": 40, "kelvin": 2200}}}},
            "rituals": {
                "evening": {"at": "sunset", "until": "23:00", "scene": "evening", "fade": "30min"}
            },
        }
    )
