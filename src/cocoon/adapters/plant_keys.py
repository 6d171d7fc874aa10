"""Which key of a sensor's report carries each plant reading (Zigbee2MQTT, Home Assistant).

The core knows plant readings by kind (moisture, illuminance, temperature); the
gateways know where each kind sits in what a device reports, and translate.
"""

from __future__ import annotations

from cocoon.config.schema import CocoonConfig, Threshold

# The Zigbee2MQTT report key for each kind of plant reading, when a threshold names none.
ZIGBEE2MQTT_KEYS = {"moisture": "soil_moisture", "illuminance": "illuminance"}
ZIGBEE2MQTT_KEYS["temperature"] = "temperature"
# A Home Assistant sensor's reading is its state.
STATE_KEY = "state"


def report_key(cfg: CocoonConfig, kind: str, threshold: Threshold) -> tuple[str, str]:
    """The (sensor device, report key) a threshold reads."""
    if threshold.property is not None:
        return threshold.sensor, threshold.property
    device = cfg.devices[threshold.sensor]
    return threshold.sensor, ZIGBEE2MQTT_KEYS[kind] if device.zigbee2mqtt else STATE_KEY


def kinds_by_key(cfg: CocoonConfig) -> dict[tuple[str, str], frozenset[str]]:
    """The kinds of plant reading each (sensor device, report key) carries."""
    found: dict[tuple[str, str], set[str]] = {}
    for plant in cfg.plants.values():
        for kind, threshold in plant.thresholds().items():
            found.setdefault(report_key(cfg, kind, threshold), set()).add(kind)
    return {key: frozenset(kinds) for key, kinds in found.items()}
