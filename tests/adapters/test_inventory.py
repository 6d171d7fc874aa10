"""Configured devices held against Zigbee2MQTT's exposes and Home Assistant's states, by
value: payloads shaped as the real programs publish them."""

from __future__ import annotations

import json
from typing import Any

from cocoon.adapters.inventory import home_assistant_finding, zigbee2mqtt_finding
from cocoon.adapters.z2m_bridge import Directory, parse_devices
from cocoon.config.schema import CocoonConfig

HOME = {"latitude": 50.85, "longitude": 4.35, "timezone": "Europe/Brussels"}


def _cfg(devices: dict[str, Any], scenes: dict[str, Any] | None = None) -> CocoonConfig:
    return CocoonConfig.model_validate(
        {
            "home": HOME,
            "mqtt": {},
            "home_assistant": {"token": "t"},
            "devices": devices,
            "scenes": scenes or {},
        }
    )


def test_a_home_assistant_light_that_only_switches_does_not_dim() -> None:
    cfg = _cfg({"hall": {"entity": "light.hall"}})
    states = {"light.hall": {"state": "off", "attributes": {"supported_color_modes": ["onoff"]}}}

    finding = home_assistant_finding(cfg, "hall", cfg.devices["hall"], states)

    assert str(finding) == (
        "hall: light.hall does not dim (only on and off), and cocoon fades brightness"
    )


def test_a_scene_asking_colour_of_a_light_without_colour_temperature_is_named() -> None:
    cfg = _cfg(
        {"hall": {"entity": "light.hall"}},
        {"evening": {"lights": {"hall": {"brightness": 30, "kelvin": 2200}}}},
    )
    states = {
        "light.hall": {"state": "on", "attributes": {"supported_color_modes": ["brightness"]}}
    }

    finding = home_assistant_finding(cfg, "hall", cfg.devices["hall"], states)

    assert finding.problems == (
        "light.hall shows no colour temperature; the scenes ask for 2200 K",
    )


def test_home_assistant_kelvin_range_is_held_against_min_and_max_kelvin() -> None:
    cfg = _cfg({"sofa": {"entity": "light.sofa", "min_kelvin": 2000, "max_kelvin": 4000}})
    attributes = {
        "supported_color_modes": ["color_temp"],
        "min_color_temp_kelvin": 2202,
        "max_color_temp_kelvin": 4000,
    }
    states = {"light.sofa": {"state": "on", "attributes": attributes}}

    finding = home_assistant_finding(cfg, "sofa", cfg.devices["sofa"], states)

    assert finding.problems == (
        "min_kelvin 2000 is warmer than light.sofa goes (it shows 2202-4000 K)",
    )


def test_a_zigbee2mqtt_light_that_only_switches_does_not_dim() -> None:
    listing = [
        {
            "friendly_name": "plug lamp",
            "ieee_address": "0x01",
            "definition": {
                "exposes": [
                    {
                        "type": "light",
                        "features": [{"type": "binary", "name": "state", "property": "state"}],
                    }
                ]
            },
        }
    ]
    devices, _ = parse_devices(json.dumps(listing).encode())
    cfg = _cfg({"plug": {"zigbee2mqtt": "plug lamp"}})

    finding = zigbee2mqtt_finding(cfg, "plug", cfg.devices["plug"], Directory(devices, {}))

    assert finding.problems == (
        "Zigbee2MQTT's 'plug lamp' does not dim (only on and off), and cocoon fades brightness",
    )
