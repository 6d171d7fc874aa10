"""What a device can show: a command clamped and rounded to it, and the reading it leaves.

A bulb warmest at 2200 K asked for 2000 K shows 2200 K; a valve in whole degrees asked
for 20.5 °C holds 20 or 21. That is the device, never a person's hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from cocoon.core.model import (
    OFF,
    Ability,
    ClimateAbility,
    ClimateCommand,
    ClimateReading,
    Command,
    LightAbility,
    LightCommand,
    LightReading,
    LightState,
    Reading,
    Readings,
)


def expect(readings: Readings, commands: Iterable[Command], now: datetime) -> Readings:
    """Take sent commands' outcomes for the devices' readings until the devices report.

    A snapshot taken in between (a press right after a give-back) is then what cocoon
    has just given back, not the look the give-back replaces.
    """
    devices = dict(readings.devices)
    for command in commands:
        reading = _after(devices.get(command.device), command, readings.abilities, now)
        if reading is not None:
            devices[command.device] = reading
    return replace(readings, devices=devices)


def _after(
    known: Reading | None, command: Command, abilities: Mapping[str, Ability], now: datetime
) -> Reading | None:
    """What a device that showed `known` shows after `command`; None when unknown."""
    # What the device will show: a bulb clamps its colour, a valve rounds its setpoint.
    command = shown(command, abilities.get(command.device))
    if isinstance(command, LightCommand) and isinstance(known, LightReading):
        state = OFF
        if command.on:
            brightness, colour = command.brightness, command.colour
            kelvin = None if command.kelvin is None else float(command.kelvin)
            if kelvin is None and colour is None:
                kelvin, colour = known.state.kelvin, known.state.colour
            state = LightState(
                known.state.brightness if brightness is None else brightness, kelvin, colour
            )
        return LightReading(state, now)
    if isinstance(command, ClimateCommand) and isinstance(known, ClimateReading):
        return replace(known, setpoint=command.setpoint, at=now)
    return None


def describe_ability(ability: Ability) -> str:
    """What a device can show or hold, in a few words."""
    if isinstance(ability, ClimateAbility):
        low, high, step = ability.low, ability.high, ability.step
        span = "" if low is None or high is None else f" {low:g}–{high:g}"
        return f"setpoints{span}" + ("" if step is None else f" in steps of {step:g}")
    parts = ["dims" if ability.dims else "does not dim"]
    if ability.kelvin is not None:
        parts.append(f"{ability.kelvin[0]:.0f}–{ability.kelvin[1]:.0f} K")
    if ability.colour:
        parts.append("colours")
    return ", ".join(parts)


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
