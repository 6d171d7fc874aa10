"""What Zigbee2MQTT says about itself: `bridge/state`, `bridge/devices`, `bridge/groups`.

Pure parsing. `bridge/devices` is a retained JSON list, one object per device with its
`friendly_name`, `ieee_address` and `definition.exposes`; a light exposes
`{"type": "light", "features": [...]}` with `brightness` (0-254), `color_temp`
(`value_min`/`value_max` in mireds), `color_xy` / `color_hs`; a thermostat exposes
`{"type": "climate", "features": [...]}` with `current_heating_setpoint` or
`occupied_heating_setpoint` (`value_min`, `value_max`, `value_step`). `bridge/groups`
lists groups by `friendly_name` with their `members` (`ieee_address`); a group shows
what all its members can show.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cocoon.core.model import ClimateAbility, LightAbility

SETPOINTS = ("occupied_heating_setpoint", "current_heating_setpoint")
DEFAULT_SETPOINT = "current_heating_setpoint"

# Zigbee2MQTT brightness runs 0-254.
FULL_BRIGHTNESS = 254


@dataclass(frozen=True, slots=True)
class Exposed:
    """What Zigbee2MQTT says one device or group can do."""

    light: LightAbility | None = None
    climate: ClimateAbility | None = None
    setpoint: str | None = None
    """The attribute the thermostat takes its setpoint in (commands and reports)."""
    mireds: tuple[int, int] | None = None
    """The light's colour temperature range in mireds (coldest, warmest)."""


def _json(payload: bytes) -> object:
    try:
        return json.loads(payload.decode())
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ValueError("payload is not JSON") from None


def _number(feature: Mapping[str, object], key: str) -> float | None:
    value = feature.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _features(exposes: object) -> Iterable[tuple[str, Mapping[str, object]]]:
    """Every (group type, feature) of a definition's exposes, nested features flattened."""
    if not isinstance(exposes, list):
        return
    for item in exposes:
        if not isinstance(item, dict):
            continue
        kind = str(item.get("type", ""))
        features = item.get("features")
        if isinstance(features, list):
            for feature in features:
                if isinstance(feature, dict):
                    yield kind, feature
        else:
            yield kind, item


def exposed(exposes: object) -> Exposed:
    """What a definition's `exposes` says the device can do."""
    light = dims = colour = False
    mireds: tuple[int, int] | None = None
    setpoint: str | None = None
    climate = ClimateAbility()
    for kind, feature in _features(exposes):
        name = feature.get("name")
        if kind == "light":
            light = True
            if name == "brightness":
                dims = True
            elif name == "color_temp":
                low, high = _number(feature, "value_min"), _number(feature, "value_max")
                if low and high and 0 < low < high:
                    mireds = (round(low), round(high))
            elif name in ("color_xy", "color_hs"):
                colour = True
        elif kind == "climate" and name in SETPOINTS and setpoint != SETPOINTS[0]:
            # A thermostat exposing both takes the occupied one (the other is a mirror).
            setpoint = str(name)
            climate = ClimateAbility(
                _number(feature, "value_min"),
                _number(feature, "value_max"),
                _number(feature, "value_step"),
            )
    if light:
        kelvin = None if mireds is None else (1e6 / mireds[1], 1e6 / mireds[0])
        return Exposed(LightAbility(dims, kelvin, colour), mireds=mireds)
    if setpoint is not None:
        return Exposed(climate=climate, setpoint=setpoint)
    return Exposed()


@dataclass(frozen=True, slots=True)
class Directory:
    """Zigbee2MQTT's devices and groups by friendly name, and each device's IEEE address."""

    devices: dict[str, Exposed]
    groups: dict[str, Exposed]

    def names(self) -> list[str]:
        """Every friendly name Zigbee2MQTT knows."""
        return [*self.devices, *self.groups]

    def get(self, name: str) -> Exposed | None:
        """What Zigbee2MQTT says of a device or group, None when it knows no such name."""
        return self.devices.get(name) or self.groups.get(name)


def parse_devices(payload: bytes) -> tuple[dict[str, Exposed], dict[str, str]]:
    """`bridge/devices`: each device by friendly name, and friendly names by IEEE address."""
    data = _json(payload)
    if not isinstance(data, list):
        raise ValueError("bridge/devices is not a JSON list")
    found: dict[str, Exposed] = {}
    ieee: dict[str, str] = {}
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("friendly_name"), str):
            continue
        name = item["friendly_name"]
        definition = item.get("definition")
        exposes = definition.get("exposes") if isinstance(definition, dict) else None
        found[name] = exposed(exposes)
        if isinstance(item.get("ieee_address"), str):
            ieee[item["ieee_address"]] = name
    return found, ieee


def parse_groups(
    payload: bytes, devices: Mapping[str, Exposed], ieee: Mapping[str, str]
) -> dict[str, Exposed]:
    """`bridge/groups`: each group by friendly name, able to do what all its lights can."""
    data = _json(payload)
    if not isinstance(data, list):
        raise ValueError("bridge/groups is not a JSON list")
    found: dict[str, Exposed] = {}
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("friendly_name"), str):
            continue
        members = item.get("members")
        lights = [
            exposed_member.light
            for member in (members if isinstance(members, list) else [])
            if isinstance(member, dict)
            and (exposed_member := devices.get(ieee.get(str(member.get("ieee_address")), "")))
            and exposed_member.light is not None
        ]
        light = _shared(lights) if lights else LightAbility()
        mireds = None
        if light.kelvin is not None:
            mireds = (round(1e6 / light.kelvin[1]), round(1e6 / light.kelvin[0]))
        found[item["friendly_name"]] = Exposed(light, mireds=mireds)
    return found


def _shared(lights: list[LightAbility]) -> LightAbility:
    """What every light of a group can show: the narrowest colour range of them all."""
    ranges = [light.kelvin for light in lights if light.kelvin is not None]
    kelvin = None
    if ranges:
        warmest, coldest = max(r[0] for r in ranges), min(r[1] for r in ranges)
        kelvin = (warmest, coldest) if warmest < coldest else None
    return LightAbility(
        any(light.dims for light in lights), kelvin, all(light.colour for light in lights)
    )


def online_state(payload: bytes, what: str) -> bool:
    """`bridge/state` or a device's `availability`: `{"state": "online"}`, or the bare word
    of releases before 1.17. `what` names the topic in the error for anything else."""
    try:
        text = payload.decode().strip()
    except UnicodeDecodeError:
        raise ValueError("payload is not UTF-8") from None
    word: object = text
    if text.startswith(("{", '"')):
        data = _json(payload)
        word = data.get("state") if isinstance(data, dict) else data
    if word in ("online", "offline"):
        return word == "online"
    raise ValueError(f"{what} {word!r} is neither online nor offline")


def bridge_online(payload: bytes) -> bool:
    """Whether `bridge/state` says Zigbee2MQTT is online."""
    return online_state(payload, "bridge state")


def bridge_event(payload: bytes) -> tuple[str, str] | None:
    """`bridge/event`: (type, friendly name) of a device leaving or being removed or renamed."""
    data = _json(payload)
    if not isinstance(data, dict) or not isinstance(data.get("data"), dict):
        return None
    kind, detail = data.get("type"), data["data"]
    name = detail.get("friendly_name") or detail.get("from")
    if kind in ("device_leave", "device_removed", "device_renamed") and isinstance(name, str):
        return str(kind), name
    return None


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known friendly name most like `name` (a typo, a rename), if any is close."""
    found = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    return found[0] if found else None


@functools.lru_cache(maxsize=8)
def read_directory(devices: bytes, groups: bytes | None) -> Directory:
    """`bridge/devices` and `bridge/groups` (None: not heard yet) read into a Directory.

    Every home of a building on one network hears the same retained payloads: each pair
    is read once, for them all (the Directory is never changed by who asks).
    """
    found, ieee = parse_devices(devices)
    return Directory(found, {} if groups is None else parse_groups(groups, found, ieee))
