"""The configured devices held against what Zigbee2MQTT and Home Assistant really have (pure).

`cocoon check --live` reads Zigbee2MQTT's `bridge/devices` and `bridge/groups` (as a
`Directory`) and Home Assistant's states, then asks here, device by device: is the name
there (and if not, which real name is closest), is it the kind of thing the
configuration says, can it do what cocoon will ask of it (dim, the colour temperatures
of `min_kelvin` / `max_kelvin` and of the scenes, a heating setpoint)?
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cocoon.adapters.z2m_bridge import SETPOINTS, Directory, Exposed, closest
from cocoon.config.schema import KIND_BY_DOMAIN, CocoonConfig, Device
from cocoon.core.model import LightAbility

HA_TARGET_TEMPERATURE = 1
"""ClimateEntityFeature.TARGET_TEMPERATURE: the entity takes one setpoint, `temperature`."""
_HA_TARGET_RANGE = 2
"""ClimateEntityFeature.TARGET_TEMPERATURE_RANGE: `target_temp_low` and `target_temp_high`."""


@dataclass(frozen=True, slots=True)
class Finding:
    """What was found for one configured device."""

    device: str
    """The device's id in the configuration."""
    found: str
    """What it was held against, like `Zigbee2MQTT 'desk_lamp'`."""
    problems: tuple[str, ...] = ()
    """Each way it does not match; none when it does."""

    def __str__(self) -> str:
        if not self.problems:
            return f"{self.device}: ok ({self.found})"
        return f"{self.device}: {'; '.join(self.problems)}"


def _did_you_mean(name: str, known: list[str]) -> str:
    hint = closest(name, known)
    return f"; did you mean '{hint}'?" if hint else ""


def _asked_kelvins(cfg: CocoonConfig, device_id: str) -> list[int]:
    """The colour temperatures the scenes and plant cues ask of one light."""
    asked = [
        setting.kelvin
        for scene in cfg.scenes.values()
        for name, setting in scene.lights.items()
        if name == device_id and setting.kelvin is not None
    ]
    asked += [
        plant.cue.kelvin
        for plant in cfg.plants.values()
        if plant.cue is not None and plant.cue.light == device_id and plant.cue.kelvin is not None
    ]
    return sorted(set(asked))


def _light_problems(
    cfg: CocoonConfig, device_id: str, device: Device, light: LightAbility, shown: str
) -> list[str]:
    """What a light cannot do of what the configuration asks of it."""
    problems = []
    if not light.dims:
        problems.append(f"{shown} does not dim (only on and off), and cocoon fades brightness")
    asked = _asked_kelvins(cfg, device_id)
    bounds = [k for k in (device.min_kelvin, device.max_kelvin) if k is not None]
    if light.kelvin is None:
        if bounds:
            problems.append(
                f"{shown} shows no colour temperature, yet min_kelvin/max_kelvin are set"
            )
        elif asked:
            wanted = ", ".join(f"{k} K" for k in asked)
            problems.append(f"{shown} shows no colour temperature; the scenes ask for {wanted}")
        return problems
    warmest, coldest = round(light.kelvin[0]), round(light.kelvin[1])
    span = f"it shows {warmest}-{coldest} K"
    if device.min_kelvin is not None and device.min_kelvin < warmest:
        problems.append(f"min_kelvin {device.min_kelvin} is warmer than {shown} goes ({span})")
    if device.max_kelvin is not None and device.max_kelvin > coldest:
        problems.append(f"max_kelvin {device.max_kelvin} is colder than {shown} goes ({span})")
    return problems


def _kind_of(exposed: Exposed) -> str:
    if exposed.light is not None:
        return "a light"
    if exposed.setpoint is not None:
        return "a thermostat"
    return "neither a light nor a thermostat"


def zigbee2mqtt_finding(
    cfg: CocoonConfig, device_id: str, device: Device, directory: Directory
) -> Finding:
    """One `zigbee2mqtt:` device held against Zigbee2MQTT's devices and groups."""
    name = device.zigbee2mqtt or ""
    found = f"Zigbee2MQTT '{name}'"
    exposed = directory.get(name)
    if exposed is None:
        hint = _did_you_mean(name, directory.names())
        return Finding(device_id, found, (f"Zigbee2MQTT has no device '{name}'{hint}",))
    shown = f"Zigbee2MQTT's '{name}'"
    problems: list[str] = []
    if device.kind == "light":
        if exposed.light is None:
            problems.append(f"{shown} is {_kind_of(exposed)}, not a light")
        else:
            problems += _light_problems(cfg, device_id, device, exposed.light, shown)
    elif device.kind == "thermostat" and exposed.setpoint is None:
        setpoints = " or ".join(SETPOINTS)
        problems.append(f"{shown} has no heating setpoint ({setpoints}): it is {_kind_of(exposed)}")
    return Finding(device_id, found, tuple(problems))


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _ha_light(attributes: Mapping[str, Any]) -> LightAbility:
    """What a light entity can show, from its supported colour modes and kelvin range."""
    modes = attributes.get("supported_color_modes")
    modes = {str(mode) for mode in modes} if isinstance(modes, list) else {"color_temp"}
    low = _number(attributes.get("min_color_temp_kelvin"))
    high = _number(attributes.get("max_color_temp_kelvin"))
    kelvin = None
    if "color_temp" in modes:
        kelvin = (low, high) if low is not None and high is not None and low < high else None
        kelvin = kelvin or (1000.0, 10000.0)
    return LightAbility(dims=not modes <= {"onoff"}, kelvin=kelvin)


def home_assistant_finding(
    cfg: CocoonConfig, device_id: str, device: Device, states: Mapping[str, Mapping[str, Any]]
) -> Finding:
    """One `entity:` device held against Home Assistant's states (entity id → state object)."""
    entity = device.entity or ""
    found = f"Home Assistant {entity}"
    state = states.get(entity)
    if state is None:
        hint = _did_you_mean(entity, list(states))
        return Finding(device_id, found, (f"Home Assistant has no entity '{entity}'{hint}",))
    domain = entity.split(".", 1)[0]
    if KIND_BY_DOMAIN.get(domain) != device.kind:
        fitting = " or ".join(d for d, kind in KIND_BY_DOMAIN.items() if kind == device.kind)
        problem = f"{entity} is a {domain} entity, but a {device.kind} needs a {fitting} entity"
        return Finding(device_id, found, (problem,))
    attributes = state.get("attributes")
    attributes = attributes if isinstance(attributes, Mapping) else {}
    problems: list[str] = []
    if state.get("state") in ("unavailable", "unknown"):
        problems.append(f"{entity} is {state.get('state')} in Home Assistant right now")
    elif device.kind == "light":
        problems += _light_problems(cfg, device_id, device, _ha_light(attributes), entity)
    elif device.kind == "thermostat":
        features = attributes.get("supported_features")
        if isinstance(features, int) and not features & HA_TARGET_TEMPERATURE:
            only = " (only a range, low to high)" if features & _HA_TARGET_RANGE else ""
            problems.append(f"{entity} takes no target temperature{only}")
    return Finding(device_id, found, tuple(problems))
