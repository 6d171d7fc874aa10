"""Reports: what a device says, weighed against what cocoon sent it.

A report that matches nothing cocoon recently asked for is a person's hand (a manual
override); one that matches is cocoon's own doing, as the device can show it (clamped
and rounded). Until a device reports, cocoon takes a command's outcome for its reading.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cocoon.core.abilities import shown
from cocoon.core.events import ClimateReport, LightReport, SensorReport
from cocoon.core.model import (
    Attribute,
    ClimateAbility,
    ClimateCommand,
    ClimateReading,
    LightAbility,
    LightCommand,
    LightReading,
    LightState,
    Readings,
    SensorReading,
)
from cocoon.core.planner import Planner
from cocoon.core.reconcile import SETPOINT_TOLERANCE
from cocoon.core.sent import Sent
from cocoon.core.state import RuntimeState
from cocoon.core.transitions.people import set_override

# A report this close to what cocoon asked for is cocoon's own doing (device rounding,
# kelvin stored as mireds, brightness as 0-254).
REPORT_BRIGHTNESS_TOLERANCE = 2.0
REPORT_KELVIN_TOLERANCE = 0.03
# A sensor repeating its value is looked at again after this long.
REFRESH = timedelta(hours=1)

Report = LightReport | ClimateReport | SensorReport


@dataclass(frozen=True, slots=True)
class Taken:
    """A report taken in: the state and readings after it, and what it changed."""

    state: RuntimeState
    readings: Readings
    notes: list[str]
    changed: bool
    """False for the same again (a chatty device, a flood): nothing to reconcile."""


def take(
    plans: Planner,
    state: RuntimeState,
    readings: Readings,
    sent: Sent,
    report: Report,
    now: datetime,
) -> Taken:
    """Take in one report at `now`: keep the reading, and notice a person's hand."""
    match report:
        case LightReport():
            if readings.light(report.device) == report.state and not report.by_hand:
                return Taken(state, readings, [], False)
            return _light(plans, state, readings, sent, report, now)
        case ClimateReport():
            known = readings.devices.get(report.device)
            same = ClimateReading(report.setpoint, report.current, now)
            if isinstance(known, ClimateReading) and replace(known, at=now) == same:
                return Taken(state, readings, [], False)
            return _climate(plans, state, readings, sent, report, now)
        case SensorReport(device=device, kind=kind, value=value):
            if (device, kind) not in plans.plant_readings:
                return Taken(state, readings, [], False)  # a reading no plant looks at
            known_value = readings.sensors.get((device, kind))
            sensors = {**readings.sensors, (device, kind): SensorReading(kind, value, now)}
            readings = replace(readings, sensors=sensors)
            # A repeated value only refreshes the reading's age; plants care about
            # that once it is old (a sensor going stale), not on every report.
            if known_value is not None and known_value.value == value:
                return Taken(state, readings, [], now - known_value.at > REFRESH)
            return Taken(state, readings, [], True)


def _light(
    plans: Planner,
    state: RuntimeState,
    readings: Readings,
    sent: Sent,
    report: LightReport,
    now: datetime,
) -> Taken:
    device = report.device
    # The first word from a device since cocoon started says how it is: it may answer
    # cocoon's question, asked before a command that crossed it; it is no person's hand.
    first = readings.light(device) is None
    readings = replace(
        readings, devices={**readings.devices, device: LightReading(report.state, now)}
    )
    if device not in state.holds or state.paused_since is not None:
        return Taken(state, readings, [], True)
    changed = report.by_hand
    if changed is None and first:
        changed = frozenset()
    elif changed is None:
        lights = [c for c in sent.answering(device, now) if isinstance(c, LightCommand)]
        ability = readings.abilities.get(device)
        changed = manual_light_change(
            report.state, lights, ability if isinstance(ability, LightAbility) else None
        )
    if not changed:
        return Taken(state, readings, [], True)
    state, message = set_override(plans.cfg, state, device, changed, now)
    return Taken(state, readings, [message], True)


def _climate(
    plans: Planner,
    state: RuntimeState,
    readings: Readings,
    sent: Sent,
    report: ClimateReport,
    now: datetime,
) -> Taken:
    device = report.device
    first = readings.setpoint(device) is None  # as for a light: no person's hand
    reading = ClimateReading(report.setpoint, report.current, now)
    readings = replace(readings, devices={**readings.devices, device: reading})
    by_hand = report.by_hand
    if by_hand is None and first:
        by_hand = False
    elif by_hand is None:
        recent = [c for c in sent.answering(device, now) if isinstance(c, ClimateCommand)]
        ability = readings.abilities.get(device)
        by_hand = manual_setpoint_change(
            report.setpoint, recent, ability if isinstance(ability, ClimateAbility) else None
        )
    if device not in state.holds or not by_hand:
        return Taken(state, readings, [], True)
    state, message = set_override(plans.cfg, state, device, frozenset({Attribute.SETPOINT}), now)
    return Taken(state, readings, [message], True)


def _within(value: float, expected: Iterable[float], tolerance: float) -> bool:
    values = list(expected)
    if not values:
        return True
    return min(values) - tolerance <= value <= max(values) + tolerance


def manual_light_change(
    observed: LightState, sent: Sequence[LightCommand], ability: LightAbility | None = None
) -> frozenset[Attribute]:
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
        return frozenset({Attribute.POWER})
    if not observed.on:
        return frozenset()
    changed: set[Attribute] = set()
    levels = [c.brightness for c in sent if c.on and c.brightness is not None]
    if not _within(observed.brightness, levels, REPORT_BRIGHTNESS_TOLERANCE):
        changed.add(Attribute.BRIGHTNESS)
    colours = [float(c.kelvin) for c in sent if c.on and c.kelvin is not None]
    if observed.kelvin is not None and colours:
        slack = max(colours) * REPORT_KELVIN_TOLERANCE
        if not _within(observed.kelvin, colours, slack):
            changed.add(Attribute.KELVIN)
    # A colour cocoon set is cocoon's; any other, after cocoon set a colour or a white,
    # is a person's (the light left colour-temperature mode). A light cocoon told nothing
    # of colour keeps showing whatever colour it had.
    coloured = [c for c in sent if c.on and (c.kelvin is not None or c.colour is not None)]
    if observed.colour is not None and coloured:
        mine = [c.colour for c in coloured if c.colour is not None]
        if not any(observed.colour.close(colour) for colour in mine):
            changed.add(Attribute.COLOUR)
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
