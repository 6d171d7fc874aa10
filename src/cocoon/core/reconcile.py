"""Targets against what was last commanded: the fewest commands that get there.

Also the other direction: a report that matches nothing cocoon asked for is a person's
hand (a manual override).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from cocoon.config.schema import CocoonConfig
from cocoon.core import modes
from cocoon.core.model import (
    Ability,
    ClimateAbility,
    ClimateCommand,
    ClimateTarget,
    Command,
    LightAbility,
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


def shown(command: Command, ability: Ability | None) -> Command:
    """What a device can show of a command: clamped and rounded to what it is able to do.

    A bulb warmest at 2200 K asked for 2000 K shows 2200 K; a light that does not dim is
    at full when on; a valve in whole degrees asked for 20.5 °C shows 20 or 21.
    """
    if isinstance(command, LightCommand) and isinstance(ability, LightAbility):
        brightness, kelvin, colour = command.brightness, command.kelvin, command.colour
        if command.on and not ability.dims:
            brightness = 100.0
        if kelvin is not None and ability.kelvin is not None:
            warmest, coldest = ability.kelvin
            kelvin = round(min(coldest, max(warmest, kelvin)))
        if not ability.colour:
            colour = None
        return replace(command, brightness=brightness, kelvin=kelvin, colour=colour)
    if isinstance(command, ClimateCommand) and isinstance(ability, ClimateAbility):
        setpoint = command.setpoint
        if ability.step:
            setpoint = round(setpoint / ability.step) * ability.step
        if ability.low is not None:
            setpoint = max(ability.low, setpoint)
        if ability.high is not None:
            setpoint = min(ability.high, setpoint)
        return replace(command, setpoint=round(setpoint, 2))
    return command


def _within(value: float, expected: Iterable[float], tolerance: float) -> bool:
    values = list(expected)
    if not values:
        return True
    return min(values) - tolerance <= value <= max(values) + tolerance


def manual_light_change(
    observed: LightState, sent: Sequence[LightCommand], ability: LightAbility | None = None
) -> frozenset[str]:
    """Which attributes of a light report no recent command of cocoon's explains.

    `sent` holds the commands still settling (the last one, and those whose
    transition may still be running); a value between two of them is a fade in flight.
    Each is compared as the light can show it (`ability`), so a light that clamps or
    rounds what it was told is not taken for a person's hand.
    """
    if not sent:
        return frozenset()
    sent = [c for c in (shown(command, ability) for command in sent) if isinstance(c, LightCommand)]
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
    # A colour cocoon set is cocoon's; any other, after cocoon set a colour or a white,
    # is a person's (the light left colour-temperature mode). A light cocoon told nothing
    # of colour keeps showing whatever colour it had.
    coloured = [c for c in sent if c.on and (c.kelvin is not None or c.colour is not None)]
    if observed.colour is not None and coloured:
        mine = [c.colour for c in coloured if c.colour is not None]
        if not any(observed.colour.close(colour) for colour in mine):
            changed.add(modes.COLOUR)
    return frozenset(changed)


def manual_setpoint_change(
    observed: float | None,
    sent: Sequence[ClimateCommand],
    ability: ClimateAbility | None = None,
) -> bool:
    """Whether a thermostat's reported setpoint is none that cocoon recently asked for.

    Valves report seconds late, so a report may answer an earlier command than the last.
    Each command is compared as the valve can hold it (`ability`: its range and step; a
    valve may round either way, so half a step either side is still the valve's doing).
    """
    if observed is None or not sent:
        return False
    slack = SETPOINT_TOLERANCE
    if ability is not None and ability.step:
        slack = max(slack, ability.step / 2 + 1e-6)
    for command in sent:
        held = shown(command, ability)
        assert isinstance(held, ClimateCommand)
        if abs(observed - held.setpoint) <= SETPOINT_TOLERANCE:
            return False
        if abs(observed - command.setpoint) <= slack:
            return False
    return True
