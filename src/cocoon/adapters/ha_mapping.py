"""Home Assistant states and service calls, mapped to and from cocoon's values (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cocoon.config.schema import Device
from cocoon.core.events import ClimateReport, Event, LightReport, SensorReport
from cocoon.core.model import MAX_TRANSITION, Attribute, ClimateCommand, LightCommand, LightState

UNAVAILABLE = frozenset({"unavailable", "unknown"})
# Home Assistant brightness runs 0-255.
HA_FULL = 255


@dataclass(frozen=True, slots=True)
class ServiceCall:
    """One service call: `domain.service` with its data."""

    domain: str
    service: str
    data: dict[str, Any]


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def light_look(state: str, attributes: dict[str, Any]) -> LightState:
    """A light entity's state and attributes as a look."""
    if state != "on":
        kelvin = _number(attributes.get("color_temp_kelvin"))
        return LightState(0.0, kelvin)
    raw = _number(attributes.get("brightness"))
    brightness = 100.0 if raw is None else max(0.4, raw * 100 / HA_FULL)
    kelvin = _number(attributes.get("color_temp_kelvin"))
    if kelvin is None and (mireds := _number(attributes.get("color_temp"))):
        kelvin = 1e6 / mireds
    return LightState(brightness, kelvin)


def changed_by_hand(
    device: Device, old: dict[str, Any] | None, new: dict[str, Any]
) -> frozenset[Attribute]:
    """Which attributes a state change touched (for a change that is not cocoon's own)."""
    if device.kind == "thermostat":
        before = None if old is None else old.get("attributes", {}).get("temperature")
        after = new.get("attributes", {}).get("temperature")
        return frozenset({Attribute.SETPOINT}) if before != after else frozenset()
    if device.kind != "light" or old is None:
        return frozenset()
    a = light_look(old.get("state", ""), old.get("attributes", {}))
    b = light_look(new.get("state", ""), new.get("attributes", {}))
    if a.on != b.on:
        return frozenset({Attribute.POWER})
    changed: set[Attribute] = set()
    if abs(a.brightness - b.brightness) > 0.5:
        changed.add(Attribute.BRIGHTNESS)
    if a.kelvin is not None and b.kelvin is not None and abs(a.kelvin - b.kelvin) > 10:
        changed.add(Attribute.KELVIN)
    return frozenset(changed)


def report(
    name: str,
    device: Device,
    entity_state: dict[str, Any],
    by_hand: frozenset[Attribute] | None,
    kinds: frozenset[str] = frozenset(),
) -> list[Event]:
    """The events an entity's state stands for (none for an unavailable one); a sensor's
    state is each of the plant readings `kinds` it carries."""
    state = entity_state.get("state")
    attributes = entity_state.get("attributes") or {}
    if not isinstance(state, str) or state in UNAVAILABLE or not isinstance(attributes, dict):
        return []
    if device.kind == "light":
        return [LightReport(name, light_look(state, attributes), by_hand)]
    if device.kind == "thermostat":
        manual = None if by_hand is None else bool(by_hand)
        setpoint = _number(attributes.get("temperature"))
        current = _number(attributes.get("current_temperature"))
        return [ClimateReport(name, setpoint, current, manual)]
    value = _number(state)
    return [] if value is None else [SensorReport(name, kind, value) for kind in sorted(kinds)]


def light_call(command: LightCommand, entity: str, attributes: dict[str, Any]) -> ServiceCall:
    """`light.turn_on` with brightness and colour together, or `light.turn_off`.

    Colour is clamped to what the entity says it can show, and left out for a light
    without colour temperature.
    """
    data: dict[str, Any] = {"entity_id": entity}
    if command.transition > 0:
        data["transition"] = round(min(command.transition, MAX_TRANSITION), 1)
    if not command.on:
        return ServiceCall("light", "turn_off", data)
    if command.brightness is not None:
        data["brightness"] = max(1, min(HA_FULL, round(command.brightness * HA_FULL / 100)))
    modes_supported = attributes.get("supported_color_modes") or ["color_temp"]
    if command.kelvin is not None and "color_temp" in modes_supported:
        low = _number(attributes.get("min_color_temp_kelvin")) or 1000
        high = _number(attributes.get("max_color_temp_kelvin")) or 10000
        data["color_temp_kelvin"] = round(min(high, max(low, command.kelvin)))
    return ServiceCall("light", "turn_on", data)


def climate_call(command: ClimateCommand, entity: str, attributes: dict[str, Any]) -> ServiceCall:
    """`climate.set_temperature`, held within the entity's own `min_temp`/`max_temp` too."""
    setpoint = command.setpoint
    low, high = _number(attributes.get("min_temp")), _number(attributes.get("max_temp"))
    if low is not None:
        setpoint = max(low, setpoint)
    if high is not None:
        setpoint = min(high, setpoint)
    return ServiceCall("climate", "set_temperature", {"entity_id": entity, "temperature": setpoint})
