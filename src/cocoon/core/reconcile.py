"""Targets against what was last commanded: the fewest commands that get there.

Also the other direction: a report that matches nothing cocoon asked for is a person's
hand (a manual override).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from cocoon.config.schema import CocoonConfig
from cocoon.core import modes
from cocoon.core.model import (
    ClimateCommand,
    ClimateTarget,
    Command,
    LightCommand,
    LightState,
    LightTarget,
    Readings,
    Target,
)

# Changes smaller than these are not worth a message while a fade is under way.
BRIGHTNESS_TOLERANCE = 0.5
KELVIN_TOLERANCE = 10
SETPOINT_TOLERANCE = 0.05
# A report this close to what cocoon asked for is cocoon's own doing (device rounding,
# kelvin stored as mireds, brightness as 0-254).
REPORT_BRIGHTNESS_TOLERANCE = 2.0
REPORT_KELVIN_TOLERANCE = 0.03
# A Zigbee transition lasts at most 6553.5 s.
MAX_TRANSITION = 6553.0


def light_command(cfg: CocoonConfig, target: LightTarget, transition: float) -> LightCommand:
    """The command for a light target, colour clamped to what the light can show."""
    device = cfg.devices[target.device]
    state = target.state
    if not state.on:
        return LightCommand(target.device, False, None, None, transition, target.reason)
    brightness = None if target.keep_brightness else round(state.brightness, 1)
    kelvin = None
    if state.kelvin is not None and not target.keep_kelvin:
        kelvin = round(min(device.max_kelvin, max(device.min_kelvin, state.kelvin)))
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
    return same_b and same_k


def _as_sent(device: str, readings: Readings) -> Command | None:
    """What a device reports, as if cocoon had asked for it (for devices not yet commanded)."""
    light = readings.light(device)
    if light is not None:
        kelvin = None if light.kelvin is None else round(light.kelvin)
        return LightCommand(device, light.on, light.brightness, kelvin, 0.0, "reported")
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
    the next step (`Planner.aims`), and it glides there over the time until then. A
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


def _within(value: float, expected: Iterable[float], tolerance: float) -> bool:
    values = list(expected)
    if not values:
        return True
    return min(values) - tolerance <= value <= max(values) + tolerance


def manual_light_change(observed: LightState, sent: Sequence[LightCommand]) -> frozenset[str]:
    """Which attributes of a light report no recent command of cocoon's explains.

    `sent` holds the commands still settling (the last one, and those whose
    transition may still be running); a value between two of them is a fade in flight.
    """
    if not sent:
        return frozenset()
    if all(command.on != observed.on for command in sent):
        return frozenset({modes.POWER})
    if not observed.on:
        return frozenset()
    changed: set[str] = set()
    levels = [c.brightness for c in sent if c.on and c.brightness is not None]
    if not _within(observed.brightness, levels, REPORT_BRIGHTNESS_TOLERANCE):
        changed.add(modes.BRIGHTNESS)
    colours = [float(c.kelvin) for c in sent if c.on and c.kelvin is not None]
    if observed.kelvin is not None and colours:
        slack = max(colours) * REPORT_KELVIN_TOLERANCE
        if not _within(observed.kelvin, colours, slack):
            changed.add(modes.KELVIN)
    return frozenset(changed)


def manual_setpoint_change(observed: float | None, sent: Sequence[ClimateCommand]) -> bool:
    """Whether a thermostat's reported setpoint is none that cocoon recently asked for.

    Valves report seconds late, so a report may answer an earlier command than the last.
    """
    if observed is None or not sent:
        return False
    return all(abs(observed - command.setpoint) > SETPOINT_TOLERANCE for command in sent)
