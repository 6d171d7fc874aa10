"""Zigbee2MQTT: commands as `…/set` JSON, state reports and availability as events.

Topics (base `zigbee2mqtt` unless `mqtt.zigbee2mqtt_topic` says otherwise):
`<base>/<friendly_name>` carries the device's state as a JSON object,
`<base>/<friendly_name>/set` takes commands, `<base>/<friendly_name>/availability`
says `{"state": "online"}` (or plain `online` / `offline` from older releases).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass

from cocoon.config.schema import CocoonConfig, Device, DeviceKind
from cocoon.core.events import Availability, ClimateReport, Event, LightReport, SensorReport
from cocoon.core.model import ClimateCommand, Command, LightCommand, LightState
from cocoon.errors import GatewayError
from cocoon.ports import Message

DEFAULT_BASE = "zigbee2mqtt"
# Zigbee carries a transition in tenths of a second in 16 bits.
MAX_TRANSITION = 6553.0
_FULL = 254
# A report of a light that is on but says nothing of its brightness.
_UNKNOWN_BRIGHTNESS = 100.0
_SKIPPED_KEYS = frozenset({"linkquality"})


def base_topic(cfg: CocoonConfig) -> str:
    """Zigbee2MQTT's base topic for this home."""
    return cfg.mqtt.zigbee2mqtt_topic if cfg.mqtt else DEFAULT_BASE


def _transition(seconds: float) -> float | int:
    value = round(min(MAX_TRANSITION, max(0.0, float(seconds))), 1)
    # Whole seconds are written as integers, the way people write them by hand.
    return int(value) if value.is_integer() else value


def light_payload(command: LightCommand, device: Device) -> dict[str, object]:
    """The `/set` JSON for a light command (a transition of 0 is left out)."""
    payload: dict[str, object] = {"state": "ON" if command.on else "OFF"}
    if command.on and command.brightness is not None:
        # An "on" of brightness 0 would switch the light off again.
        level = round(command.brightness * _FULL / 100)
        payload["brightness"] = min(_FULL, max(1, level))
    if command.on and command.kelvin is not None:
        coldest = round(1e6 / device.max_kelvin)
        warmest = round(1e6 / device.min_kelvin)
        payload["color_temp"] = min(warmest, max(coldest, round(1e6 / command.kelvin)))
    transition = _transition(command.transition)
    if transition:
        payload["transition"] = transition
    return payload


def climate_payload(command: ClimateCommand) -> dict[str, object]:
    """The `/set` JSON for a thermostat setpoint."""
    return {"current_heating_setpoint": round(command.setpoint, 2)}


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
        # A light that reports "ON" without a brightness keeps the one it had.
        self._brightness: dict[str, float] = {}

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
            return [Availability(route.device, _online(message.payload))]
        data = _object(message.payload)
        if route.kind == "light":
            return self._light(route.device, data)
        if route.kind == "thermostat":
            return _climate(route.device, data)
        return _sensor(route.device, data)

    def _light(self, device: str, data: dict[str, object]) -> list[Event]:
        state = data.get("state")
        if state is not None and (not isinstance(state, str) or state.upper() not in {"ON", "OFF"}):
            raise ValueError(f"state is {state!r}, not ON or OFF")
        level = _number(data, "brightness")
        if level is not None and not 0 <= level <= _FULL:
            raise ValueError(f"brightness {level:g} is outside 0-254")
        mireds = _number(data, "color_temp")
        if mireds is not None and not 50 <= mireds <= 1000:
            raise ValueError(f"color_temp {mireds:g} is not a colour temperature")
        if level is not None:
            # A light that is off still reports the brightness it will come back at.
            self._brightness[device] = round(level * 100 / _FULL, 1)
        if state is None:
            return []  # not a report of the light's look (an update notice, say)
        kelvin = None if mireds is None else float(round(1e6 / mireds))
        if state.upper() == "OFF":
            return [LightReport(device, LightState(0.0, kelvin))]
        # "ON" at brightness 0 is still on: the dimmest step, not off.
        percent = max(self._brightness.get(device, _UNKNOWN_BRIGHTNESS), 100 / _FULL)
        return [LightReport(device, LightState(percent, kelvin))]


def _online(payload: bytes) -> bool:
    text = _text(payload).strip()
    word: object = text
    if text.startswith(("{", '"')):
        # Zigbee2MQTT 1.x and later: {"state": "online"}; older ones say the bare word.
        data = _parse(text)
        word = data.get("state") if isinstance(data, dict) else data
    if word == "online":
        return True
    if word == "offline":
        return False
    raise ValueError(f"availability {word!r} is neither online nor offline")


def _climate(device: str, data: dict[str, object]) -> list[Event]:
    setpoint = _number(data, "current_heating_setpoint")
    current = _number(data, "local_temperature")
    if setpoint is None and current is None:
        return []
    return [ClimateReport(device, setpoint, current)]


def _sensor(device: str, data: dict[str, object]) -> list[Event]:
    # A report mixes readings with text (update state, alarms): only numbers are readings.
    readings = ((key, _finite(value)) for key, value in data.items() if key not in _SKIPPED_KEYS)
    return [SensorReport(device, key, value) for key, value in readings if value is not None]


class Zigbee2MqttGateway:
    """Sends commands to Zigbee2MQTT devices and keeps track of which are online."""

    def __init__(self, cfg: CocoonConfig, publish: Callable[[Message], None]) -> None:
        self._cfg = cfg
        self._publish = publish
        self._base = base_topic(cfg)
        self._offline: set[str] = set()

    def reaches(self, device: str) -> bool:
        """Whether `device` is configured as a Zigbee2MQTT device."""
        found = self._cfg.devices.get(device)
        return found is not None and found.zigbee2mqtt is not None

    def available(self, device: str) -> bool:
        """True unless Zigbee2MQTT last said the device is offline."""
        return device not in self._offline

    def note(self, event: Event) -> None:
        """Remember what an event says about availability; other events are ignored."""
        if isinstance(event, Availability) and self.reaches(event.device):
            if event.online:
                self._offline.discard(event.device)
            else:
                self._offline.add(event.device)

    def set_topic(self, device: str) -> str:
        """The `/set` topic of a Zigbee2MQTT device."""
        if not self.reaches(device):
            raise GatewayError(f"{device} is not a Zigbee2MQTT device")
        return f"{self._base}/{self._cfg.devices[device].zigbee2mqtt}/set"

    def send(self, command: Command) -> None:
        """Publish one command to the device's `/set` topic (QoS 1, not retained)."""
        topic = self.set_topic(command.device)
        if isinstance(command, LightCommand):
            payload = light_payload(command, self._cfg.devices[command.device])
        else:
            payload = climate_payload(command)
        self._publish(Message(topic, json.dumps(payload).encode(), qos=1, retain=False))
