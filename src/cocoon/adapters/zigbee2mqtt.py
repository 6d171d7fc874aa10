"""Zigbee2MQTT devices: commands as `…/set` JSON, state reports and availability as events.

Topics (base `zigbee2mqtt` unless `mqtt.zigbee2mqtt_topic` says otherwise):
`<base>/<friendly_name>` carries the device's state as a JSON object, published when it
changes (retained only when its user set `retain: true`), and when asked on
`<base>/<friendly_name>/get` (a JSON object naming the attributes, values "");
`<base>/<friendly_name>/set` takes commands, `<base>/<friendly_name>/availability`
says `{"state": "online"}` (or plain `online` / `offline` from older releases).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from cocoon.adapters.plant_keys import kinds_by_key
from cocoon.adapters.z2m_bridge import DEFAULT_SETPOINT, FULL_BRIGHTNESS, Exposed, online_state
from cocoon.config.schema import CocoonConfig, Device, DeviceKind
from cocoon.core.events import Availability, ClimateReport, Event, LightReport, SensorReport
from cocoon.core.model import MAX_TRANSITION, ClimateCommand, Colour, LightCommand, LightState
from cocoon.ports import Message

DEFAULT_BASE = "zigbee2mqtt"
# What a light is asked for on `/get` (`color` only of lights that show colours).
_LIGHT_GET = ("state", "brightness", "color_temp")


def base_topic(cfg: CocoonConfig) -> str:
    """Zigbee2MQTT's base topic for this home."""
    return cfg.mqtt.zigbee2mqtt_topic if cfg.mqtt else DEFAULT_BASE


def _transition(seconds: float) -> float | int:
    value = round(min(MAX_TRANSITION, max(0.0, float(seconds))), 1)
    # Whole seconds are written as integers, the way people write them by hand.
    return int(value) if value.is_integer() else value


def mired_range(device: Device, exposed: Exposed | None = None) -> tuple[int, int] | None:
    """The mireds cocoon may send a light (coldest, warmest): its own range, narrowed by
    the configured one; None when neither is known (Zigbee2MQTT then clamps)."""
    low, high = exposed.mireds if exposed is not None and exposed.mireds else (0, 10_000)
    if device.max_kelvin is not None:
        low = max(low, round(1e6 / device.max_kelvin))
    if device.min_kelvin is not None:
        high = min(high, round(1e6 / device.min_kelvin))
    if (low, high) == (0, 10_000) or low > high:
        return None
    return low, high


def light_payload(
    command: LightCommand, device: Device, exposed: Exposed | None = None
) -> dict[str, object]:
    """The `/set` JSON for a light command (a transition of 0 is left out)."""
    payload: dict[str, object] = {"state": "ON" if command.on else "OFF"}
    if command.on and command.brightness is not None:
        # An "on" of brightness 0 would switch the light off again.
        level = round(command.brightness * FULL_BRIGHTNESS / 100)
        payload["brightness"] = min(FULL_BRIGHTNESS, max(1, level))
    if command.on and command.colour is not None:
        colour = command.colour
        if colour.space == "xy":
            payload["color"] = {"x": round(colour.first, 4), "y": round(colour.second, 4)}
        else:
            payload["color"] = {"hue": round(colour.first), "saturation": round(colour.second)}
    elif command.on and command.kelvin is not None:
        mireds = round(1e6 / command.kelvin)
        limits = mired_range(device, exposed)
        if limits is not None:
            mireds = min(limits[1], max(limits[0], mireds))
        payload["color_temp"] = mireds
    transition = _transition(command.transition)
    if transition:
        payload["transition"] = transition
    return payload


def climate_payload(
    command: ClimateCommand, attribute: str = DEFAULT_SETPOINT
) -> dict[str, object]:
    """The `/set` JSON for a thermostat setpoint, in the attribute the thermostat exposes."""
    return {attribute: round(command.setpoint, 2)}


def get_payload(kind: DeviceKind, exposed: Exposed | None = None) -> dict[str, object] | None:
    """The `/get` JSON asking a device for the attributes cocoon drives; None for sensors
    (they sleep, and report on their own)."""
    if kind == "light":
        keys = list(_LIGHT_GET)
        if exposed is not None and exposed.light is not None:
            keys = ["state"]
            keys += ["brightness"] if exposed.light.dims else []
            keys += ["color_temp"] if exposed.mireds else []
            keys += ["color"] if exposed.light.colour else []
        return dict.fromkeys(keys, "")
    if kind == "thermostat":
        attribute = exposed.setpoint if exposed is not None and exposed.setpoint else None
        return {attribute or DEFAULT_SETPOINT: ""}
    return None


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number")


def _text(payload: bytes) -> str:
    try:
        return payload.decode()
    except UnicodeDecodeError:
        raise ValueError("payload is not UTF-8") from None


def _parse(text: str) -> object:
    try:
        # NaN and Infinity are not JSON; Python would accept them.
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError:
        raise ValueError("payload is not JSON") from None
    except RecursionError:
        raise ValueError("payload is JSON nested too deep") from None


def _object(payload: bytes) -> dict[str, object]:
    data = _parse(_text(payload))
    if not isinstance(data, dict):
        raise ValueError(f"payload is a JSON {type(data).__name__}, not an object")
    return data


def _finite(value: object) -> float | None:
    """The value as a float if it is a finite number, else None."""
    # bool is an int to Python, but `true` is not a reading.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # a JSON integer beyond any float
        return None
    return number if math.isfinite(number) else None


def _number(data: dict[str, object], key: str) -> float | None:
    """A numeric field, `None` when absent or null; anything else is junk."""
    value = data.get(key)
    if value is None:
        return None
    number = _finite(value)
    if number is None:
        raise ValueError(f"{key} is {value!r}, not a number")
    return number


@dataclass(frozen=True, slots=True)
class _Route:
    """What a received topic is: whose it is, and whether it is the availability topic."""

    device: str
    kind: DeviceKind
    availability: bool


def _colour(data: dict[str, object]) -> Colour | None:
    """The colour a light shows off the white line, None when it shows a white.

    Zigbee2MQTT reports `color_mode` ("color_temp", "xy" or "hs") with `color`
    (`{"x", "y"}`, `{"hue", "saturation"}`, often both); a light without `color_mode`
    that reports a colour and no colour temperature shows that colour.
    """
    mode = data.get("color_mode")
    colour = data.get("color")
    if not isinstance(colour, dict) or mode == "color_temp":
        return None
    if mode is None and data.get("color_temp") is not None:
        return None
    if mode in ("xy", None):
        x, y = _finite(colour.get("x")), _finite(colour.get("y"))
        if x is not None and y is not None:
            return Colour("xy", x, y)
    if mode in ("hs", None):
        hue, saturation = _finite(colour.get("hue")), _finite(colour.get("saturation"))
        if hue is not None and saturation is not None:
            return Colour("hs", hue, saturation)
    return None


class Zigbee2MqttDevices:
    """The configured Zigbee2MQTT devices' topics, and their messages decoded into events."""

    def __init__(self, cfg: CocoonConfig) -> None:
        base = base_topic(cfg)
        self._state: dict[str, _Route] = {}
        self._availability: dict[str, _Route] = {}
        for device_id, device in cfg.devices.items():
            if device.zigbee2mqtt is None:
                continue
            topic = f"{base}/{device.zigbee2mqtt}"
            self._state[topic] = _Route(device_id, device.kind, availability=False)
            self._availability[f"{topic}/availability"] = _Route(
                device_id, device.kind, availability=True
            )
        self._kinds = kinds_by_key(cfg)
        # A light that reports "ON" without a brightness keeps the one it had.
        self._brightness: dict[str, float] = {}
        self.exposed: dict[str, Exposed] = {}
        """What Zigbee2MQTT says each device can do, by device id (set by the gateway)."""
        self.wanted: set[str] = set()
        """Devices whose report left out what cocoon needs: to be asked with `/get`."""

    def state_topics(self) -> list[str]:
        """Every configured device's state topic, exactly."""
        return list(self._state)

    def availability_topics(self) -> list[str]:
        """Every configured device's availability topic, exactly."""
        return list(self._availability)

    def decode(self, message: Message) -> list[Event]:
        """The events a message carries; none for a topic that is not a configured device's.

        Raises `ValueError` with a short reason for a payload that is not what
        Zigbee2MQTT sends (not UTF-8, not JSON, not an object, a field of the wrong type).
        """
        route = self._state.get(message.topic) or self._availability.get(message.topic)
        if route is None:
            return []
        if route.availability:
            return [Availability(route.device, online_state(message.payload, "availability"))]
        data = _object(message.payload)
        if route.kind == "light":
            return self._light(route.device, data)
        if route.kind == "thermostat":
            return self._climate(route.device, data)
        return self._sensor(route.device, data)

    def _light(self, device: str, data: dict[str, object]) -> list[Event]:
        state = data.get("state")
        if state is not None and (not isinstance(state, str) or state.upper() not in {"ON", "OFF"}):
            raise ValueError(f"state is {state!r}, not ON or OFF")
        level = _number(data, "brightness")
        if level is not None and not 0 <= level <= FULL_BRIGHTNESS:
            raise ValueError(f"brightness {level:g} is outside 0-{FULL_BRIGHTNESS}")
        mireds = _number(data, "color_temp")
        if mireds is not None and not 50 <= mireds <= 1000:
            raise ValueError(f"color_temp {mireds:g} is not a colour temperature")
        if level is not None:
            # A light that is off still reports the brightness it will come back at.
            self._brightness[device] = round(level * 100 / FULL_BRIGHTNESS, 1)
        if state is None:
            return []  # not a report of the light's look (an update notice, say)
        colour = _colour(data)
        kelvin = None if mireds is None or colour is not None else float(round(1e6 / mireds))
        if state.upper() == "OFF":
            return [LightReport(device, LightState(0.0, kelvin, colour))]
        exposed = self.exposed.get(device)
        percent = self._brightness.get(device)
        if exposed is not None and exposed.light is not None and not exposed.light.dims:
            percent = 100.0  # a light that does not dim is at full when on
        if percent is None:
            # On, at a brightness nobody said: ask, rather than guess one to give back.
            self.wanted.add(device)
            return []
        # "ON" at brightness 0 is still on: the dimmest step, not off.
        return [
            LightReport(device, LightState(max(percent, 100 / FULL_BRIGHTNESS), kelvin, colour))
        ]

    def _climate(self, device: str, data: dict[str, object]) -> list[Event]:
        exposed = self.exposed.get(device)
        attribute = exposed.setpoint if exposed is not None and exposed.setpoint else None
        setpoint = _number(data, attribute or DEFAULT_SETPOINT)
        if attribute is None and setpoint is None:
            setpoint = _number(data, "occupied_heating_setpoint")
        current = _number(data, "local_temperature")
        if setpoint is None and current is None:
            return []
        return [ClimateReport(device, setpoint, current)]

    def _sensor(self, device: str, data: dict[str, object]) -> list[Event]:
        # A report mixes readings with text (update state, alarms): only numbers are
        # readings, and only those a plant reads are passed on, by kind.
        found: list[Event] = []
        for key, raw in data.items():
            value = _finite(raw)
            if value is not None:
                kinds = self._kinds.get((device, key), frozenset())
                found += [SensorReport(device, kind, value) for kind in sorted(kinds)]
        return found
