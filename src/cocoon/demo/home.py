"""The demo's home and its day: the example configuration made self-contained, and the script.

Pure: every function takes the configuration and times and returns values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from cocoon.adapters.plant_keys import report_key
from cocoon.config.schema import CocoonConfig, Device, Mqtt

MORNING = time(6, 0)
"""The simulated day starts here, so the morning ritual shows."""
CALM_PRESS = time(20, 30)
"""When someone presses "Calm now" on the dashboard."""
WATERED = 6.0
"""Hours after the start when someone waters the thirsty plant."""


def simulated_config(cfg: CocoonConfig, host: str, port: int, client_id: str) -> CocoonConfig:
    """`cfg` with every device simulated over Zigbee2MQTT, talking to the demo's broker.

    A Home Assistant entity becomes a Zigbee2MQTT device named after it (`light.sofa` →
    `sofa`), so the demo needs no Home Assistant; the broker has no user or TLS.
    """
    taken = {device.zigbee2mqtt for device in cfg.devices.values() if device.zigbee2mqtt}
    devices: dict[str, Device] = {}
    for device_id, device in cfg.devices.items():
        if device.entity is None:
            devices[device_id] = device
            continue
        name = device.entity.split(".", 1)[1]
        if name in taken:
            name = f"{name}_{device_id}"
        taken.add(name)
        devices[device_id] = device.model_copy(update={"entity": None, "zigbee2mqtt": name})
    mqtt = (cfg.mqtt or Mqtt()).model_copy(
        update={
            "host": host,
            "port": port,
            "username": None,
            "password": None,
            "tls": None,
            "client_id": client_id,
            # amqtt, the embedded broker, speaks MQTT 3.1.1 only.
            "protocol": "3.1.1",
        }
    )
    return cfg.model_copy(update={"mqtt": mqtt, "home_assistant": None, "devices": devices})


def display_names(cfg: CocoonConfig) -> dict[str, str]:
    """Each id of a device, ritual, calm mode or plant → the name a person reads.

    An id that two sections name differently is left out: it could mean either.
    """
    names: dict[str, str] = {}
    clashes: set[str] = set()
    for section in ("devices", "rituals", "calm_modes", "plants"):
        for identifier in getattr(cfg, section):
            name = cfg.display_name(section, identifier)
            if names.setdefault(identifier, name) != name:
                clashes.add(identifier)
    return {key: name for key, name in names.items() if key not in clashes and key != name}


def demo_start(cfg: CocoonConfig, day: date) -> datetime:
    """The instant the simulated day starts: 06:00 at home."""
    return datetime.combine(day, MORNING, tzinfo=cfg.home.zone)


def calm_press_at(cfg: CocoonConfig, start: datetime, span: timedelta) -> datetime | None:
    """When the demo presses the first calm mode: 20:30, or 3/4 into a run too short for it."""
    if not cfg.calm_modes:
        return None
    evening = datetime.combine(start.astimezone(cfg.home.zone).date(), CALM_PRESS)
    evening = evening.replace(tzinfo=cfg.home.zone)
    return min(evening, start + span * 3 / 4)


@dataclass(frozen=True, slots=True)
class ThirstyPlant:
    """The plant whose soil dries out during the morning, until it is watered at noon."""

    plant: str
    sensor: str
    """The Zigbee2MQTT name of its sensor."""
    key: str
    """The key of the reading in the sensor's report."""
    below: float

    def moisture(self, since_start: timedelta) -> float:
        """The reading at this long after the start of the demo."""
        hours = since_start.total_seconds() / 3600
        if hours < WATERED:
            # Thirsty 40 minutes in: well before the morning ritual decides its cues.
            return round(max(self.below - 12, self.below + 6 - 10 * hours), 1)
        return round(self.below + 23 - 0.5 * (hours - WATERED), 1)


def thirsty_plant(cfg: CocoonConfig) -> ThirstyPlant | None:
    """The plant to make thirsty: one with a moisture threshold, one with a cue first."""
    candidates = [
        (plant.cue is None, name, threshold, threshold.below)
        for name, plant in cfg.plants.items()
        if (threshold := plant.moisture) is not None and threshold.below is not None
    ]
    if not candidates:
        return None
    _, name, threshold, below = min(candidates, key=lambda item: item[0])
    sensor, key = report_key(cfg, "moisture", threshold)
    friendly = cfg.devices[sensor].zigbee2mqtt
    return None if friendly is None else ThirstyPlant(name, friendly, key, below)


def plant_sensors(cfg: CocoonConfig) -> list[tuple[str, str]]:
    """Every (Zigbee2MQTT sensor, report key) a plant reads."""
    found: dict[tuple[str, str], None] = {}
    for plant in cfg.plants.values():
        for kind, threshold in plant.thresholds().items():
            sensor, key = report_key(cfg, kind, threshold)
            friendly = cfg.devices[sensor].zigbee2mqtt
            if friendly is not None:
                found[(friendly, key)] = None
    return list(found)
