"""The simulated Zigbee2MQTT devices: their state, how they take a command, how they look
mid-transition, and how Zigbee2MQTT lists them on `bridge/devices`.

The listing is shaped as Zigbee2MQTT 2.x publishes it (`lib/extension/bridge.ts`
`publishDevices`, the exposes of zigbee-herdsman-converters): a light exposes `state`,
`brightness` (0-254), `color_temp` (mireds, `value_min`/`value_max`) and `color_xy`; a
radiator valve exposes `current_heating_setpoint` with `value_min`/`value_max`/`value_step`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cocoon.adapters.mqtt_client import SENDER
from cocoon.adapters.plant_keys import report_key
from cocoon.adapters.z2m_bridge import FULL_BRIGHTNESS
from cocoon.config.schema import CocoonConfig, DeviceKind

SETPOINT_RANGE = (5.0, 30.0)

# A colour and white spectrum bulb: 153-454 mireds, 2200-6500 K.
DEVICE_MIREDS = (153, 454)

# What a plant sensor reads at start, by the kind of reading a plant asks of it.
_READINGS = {"moisture": 40.0, "illuminance": 800.0, "temperature": 21.0}
_PLANT_SENSOR = {"soil_moisture": 40.0, "illuminance": 800.0, "temperature": 21.0}


@dataclass(slots=True)
class _Fade:
    """A transition under way: visible brightness (0 when off) and colour, from and to."""

    start: tuple[float, float]
    end: tuple[float, float]
    began: float
    duration: float

    def at(self, moment: float) -> tuple[float, float] | None:
        """The look at `moment`, or None once the transition is over."""
        if moment >= self.began + self.duration:
            return None
        done = max(0.0, (moment - self.began) / self.duration)
        b0, c0 = self.start
        b1, c1 = self.end
        return b0 + (b1 - b0) * done, c0 + (c1 - c0) * done


@dataclass(slots=True)
class Simulated:
    """One simulated device: its reported state, the commands it got, its fade."""

    name: str
    kind: DeviceKind
    state: dict[str, object]
    mireds: tuple[int, int] = DEVICE_MIREDS
    ieee: str = "0x0000000000000000"
    online: bool = True
    received: list[dict[str, object]] = field(default_factory=list)
    asked: list[dict[str, object]] = field(default_factory=list)
    senders: list[tuple[float, str | None]] = field(default_factory=list)
    """Who sent each `/set` and `/get` (MQTT 5's `cocoon-worker` user property), and when."""
    fade: _Fade | None = None

    def visible(self, moment: float) -> tuple[float, float]:
        """Brightness as seen (0 when off) and colour temperature, at `moment`."""
        if self.fade is not None:
            seen = self.fade.at(moment)
            if seen is not None:
                return seen
        on = self.state["state"] == "ON"
        return (float(_num(self.state["brightness"])) if on else 0.0), _num(
            self.state["color_temp"]
        )


def _num(value: object) -> float:
    assert isinstance(value, int | float)
    return float(value)


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def number_field(command: dict[str, Any], key: str) -> float | None:
    """A numeric field of a command, None when absent or not a number (then ignored)."""
    value: object = command.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def apply_light(device: Simulated, command: dict[str, Any], now: float) -> None:
    """Apply a `/set` payload the way Zigbee2MQTT and a light do."""
    before = device.visible(now)
    state = device.state
    on = state["state"] == "ON"
    wanted = command.get("state")
    if isinstance(wanted, str) and wanted.upper() in {"ON", "OFF", "TOGGLE"}:
        on = {"ON": True, "OFF": False}.get(wanted.upper(), not on)
    brightness = number_field(command, "brightness")
    if brightness is not None:
        if brightness <= 0:
            on = False  # brightness 0 switches a light off; its level stays as it was
        else:
            state["brightness"] = min(FULL_BRIGHTNESS, max(1, round(brightness)))
            on = on if wanted is not None else True
    colour = number_field(command, "color_temp")
    if colour is not None:
        # A bulb shows no colder or warmer than it can (zigbee-herdsman-converters clamps).
        low, high = device.mireds
        state["color_temp"] = min(high, max(low, round(colour)))
        state["color_mode"] = "color_temp"
    xy = command.get("color")
    if isinstance(xy, dict) and is_number(xy.get("x")) and is_number(xy.get("y")):
        state["color"] = {"x": round(float(xy["x"]), 4), "y": round(float(xy["y"]), 4)}
        state["color_mode"] = "xy"
    state["state"] = "ON" if on else "OFF"
    transition = number_field(command, "transition")
    device.fade = None
    if transition is not None and transition > 0:
        device.fade = _Fade(before, device.visible(now), now, transition)


def initial_devices(
    cfg: CocoonConfig, mireds: tuple[int, int], *, first: int = 0
) -> dict[str, Simulated]:
    """Every Zigbee2MQTT device of the config, in its starting state, by friendly name.

    IEEE addresses are numbered from `first` in the config's order of devices, so several
    homes on one network can be given addresses of their own.
    """
    plant_keys: dict[str, dict[str, float]] = {}
    for plant in cfg.plants.values():
        for kind, threshold in plant.thresholds().items():
            sensor, key = report_key(cfg, kind, threshold)
            plant_keys.setdefault(sensor, dict(_PLANT_SENSOR))[key] = _READINGS[kind]
    found: dict[str, Simulated] = {}
    for number, (device_id, device) in enumerate(cfg.devices.items()):
        if device.zigbee2mqtt is None:
            continue
        state: dict[str, object]
        if device.kind == "light":
            state = {
                "state": "OFF",
                "brightness": FULL_BRIGHTNESS,
                "color_temp": 370,
                "color_mode": "color_temp",
                "color": {"x": 0.4599, "y": 0.4106},
            }
        elif device.kind == "thermostat":
            state = {"current_heating_setpoint": 20.0, "local_temperature": 19.5}
        else:
            state = {**plant_keys.get(device_id, {}), "battery": 100}
        state["linkquality"] = 120
        ieee = f"0x00158d00{first + number:08x}"
        found[device.zigbee2mqtt] = Simulated(
            device.zigbee2mqtt, device.kind, state, mireds, ieee=ieee
        )
    return found


def site_devices(
    homes: Mapping[str, CocoonConfig], mireds: tuple[int, int]
) -> tuple[dict[str, Simulated], dict[str, str]]:
    """Every Zigbee2MQTT device of every home, by friendly name, and the friendly name of
    each `"<home id>/<device id>"`.

    Two homes naming the same friendly name would be one device on a shared network:
    a ValueError names both."""
    found: dict[str, Simulated] = {}
    names: dict[str, str] = {}
    owner: dict[str, str] = {}
    first = 0
    for home, cfg in homes.items():
        devices = initial_devices(cfg, mireds, first=first)
        first += len(cfg.devices)
        for device_id, device in cfg.devices.items():
            friendly = device.zigbee2mqtt
            if friendly is None:
                continue
            name = f"{home}/{device_id}"
            if friendly in owner:
                raise ValueError(
                    f"{name} and {owner[friendly]} are both Zigbee2MQTT device {friendly!r}"
                )
            owner[friendly] = name
            names[name] = friendly
            found[friendly] = devices[friendly]
    return found, names


def _numeric(name: str, access: int = 7, **extra: object) -> dict[str, object]:
    return {"type": "numeric", "name": name, "property": name, "access": access, **extra}


def listing(
    name: str, kind: DeviceKind, ieee: str, mireds: tuple[int, int], state: dict[str, object]
) -> dict[str, object]:
    """The device's entry in `bridge/devices`, shaped as Zigbee2MQTT 2.x publishes it."""
    exposes: list[dict[str, object]]
    if kind == "light":
        low, high = mireds
        xy = [_numeric("x"), _numeric("y")]
        features = [
            {"type": "binary", "name": "state", "property": "state", "access": 7,
             "value_on": "ON", "value_off": "OFF", "value_toggle": "TOGGLE"},
            _numeric("brightness", value_min=0, value_max=FULL_BRIGHTNESS),
            _numeric("color_temp", unit="mired", value_min=low, value_max=high),
            {"type": "composite", "name": "color_xy", "property": "color", "access": 7,
             "features": xy},
        ]  # fmt: skip
        exposes = [{"type": "light", "features": features}]
        model = ("LED2109G6", "IKEA", "TRADFRI bulb E26/E27, colour and white spectrum")
    elif kind == "thermostat":
        low_set, high_set = SETPOINT_RANGE
        features = [
            _numeric("current_heating_setpoint", unit="°C", value_min=low_set,
                     value_max=high_set, value_step=0.5),
            _numeric("local_temperature", access=5, unit="°C"),
        ]  # fmt: skip
        exposes = [{"type": "climate", "features": features}]
        model = ("SPZB0001", "Eurotronic", "Spirit Zigbee wireless heater thermostat")
    else:
        exposes = [_numeric(key, access=5) for key in state if key != "linkquality"]
        model = ("HS-SOIL", "Simulated", "Soil moisture sensor")
    exposes.append(_numeric("linkquality", access=1, unit="lqi", value_min=0, value_max=255))
    return {
        "ieee_address": ieee,
        "type": "Router" if kind != "sensor" else "EndDevice",
        "friendly_name": name,
        "supported": True,
        "disabled": False,
        "interview_completed": True,
        "definition": {
            "model": model[0],
            "vendor": model[1],
            "description": model[2],
            "exposes": exposes,
            "supports_ota": False,
            "options": [],
        },
    }


def sender_of(properties: object) -> str | None:
    """The `cocoon-worker` user property of an MQTT 5 message's properties, if any."""
    for key, value in getattr(properties, "UserProperty", None) or ():
        if key == SENDER:
            return str(value)
    return None
