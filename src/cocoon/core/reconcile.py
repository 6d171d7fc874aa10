"""Targets against what each device was last told: the fewest commands that get there."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from cocoon.config.schema import CocoonConfig
from cocoon.core.model import (
    MAX_TRANSITION,
    ClimateCommand,
    ClimateTarget,
    Command,
    LightCommand,
    LightTarget,
    Readings,
    Target,
)

# Changes smaller than these are not worth a message while a fade is under way.
BRIGHTNESS_TOLERANCE = 0.5
KELVIN_TOLERANCE = 10
SETPOINT_TOLERANCE = 0.05


def light_command(cfg: CocoonConfig, target: LightTarget, transition: float) -> LightCommand:
    """The command for a light target, colour clamped to what the light can show."""
    device = cfg.devices[target.device]
    state = target.state
    transition = min(MAX_TRANSITION, max(transition, target.glide))
    if not state.on:
        return LightCommand(target.device, False, None, None, transition, target.reason)
    brightness = None if target.keep_brightness else round(state.brightness, 1)
    kelvin = None
    if state.colour is not None and not target.keep_kelvin:
        # A colour a person chose is given back as that colour, not as a white.
        return LightCommand(
            target.device, True, brightness, None, transition, target.reason, state.colour
        )
    if state.kelvin is not None and not target.keep_kelvin:
        warmest = device.min_kelvin or 0
        coldest = device.max_kelvin or 1_000_000
        kelvin = round(min(coldest, max(warmest, state.kelvin)))
    return LightCommand(target.device, True, brightness, kelvin, transition, target.reason)


def _close(a: float | None, b: float | None, tolerance: float) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= tolerance


def _redundant(new: LightCommand, old: LightCommand | None, fading: bool) -> bool:
    if old is None or new.on != old.on:
        return False
    if not new.on:
        return True
    tolerance_b = BRIGHTNESS_TOLERANCE if fading else 0.05
    tolerance_k = KELVIN_TOLERANCE if fading else 1
    same_b = new.brightness is None or _close(new.brightness, old.brightness, tolerance_b)
    same_k = new.kelvin is None or _close(new.kelvin, old.kelvin, tolerance_k)
    same_c = new.colour is None or (old.colour is not None and new.colour.close(old.colour))
    return same_b and same_k and same_c


def _as_sent(device: str, readings: Readings) -> Command | None:
    """What a device reports, as if cocoon had asked for it (for devices not yet commanded)."""
    light = readings.light(device)
    if light is not None:
        kelvin = None if light.kelvin is None else round(light.kelvin)
        return LightCommand(
            device, light.on, light.brightness, kelvin, 0.0, "reported", light.colour
        )
    setpoint = readings.setpoint(device)
    return None if setpoint is None else ClimateCommand(device, setpoint, "reported")


def commands(
    cfg: CocoonConfig,
    targets: Mapping[str, Target],
    last: Mapping[str, Command],
    readings: Readings,
    now: datetime,
    next_step: datetime,
) -> list[Command]:
    """The commands that bring devices from what was last commanded to their targets.

    A device cocoon has not commanded yet is compared with what it reports, so a light
    already as it should be gets no message. A fading light's target is its look at
    the next step (`targets.aims`), and it glides there over the time until then. A
    light being switched on gets brightness and colour in the same command, never "on"
    first.
    """
    glide = min(MAX_TRANSITION, max(0.0, (next_step - now).total_seconds()))
    out: list[Command] = []
    for device, target in targets.items():
        previous = last.get(device) or _as_sent(device, readings)
        if isinstance(target, LightTarget):
            command = light_command(cfg, target, glide if target.fading else 0.0)
            old = previous if isinstance(previous, LightCommand) else None
            if not _redundant(command, old, target.fading):
                out.append(command)
        elif isinstance(target, ClimateTarget):
            old_setpoint = previous.setpoint if isinstance(previous, ClimateCommand) else None
            if not _close(target.setpoint, old_setpoint, SETPOINT_TOLERANCE):
                out.append(ClimateCommand(device, target.setpoint, target.reason))
    return out
