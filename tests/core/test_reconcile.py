"""Targets into the fewest commands, and reports that only a person's hand explains."""

from __future__ import annotations

from datetime import timedelta

from cocoon.core import modes
from cocoon.core.model import (
    ClimateCommand,
    ClimateReading,
    ClimateTarget,
    Fade,
    LightCommand,
    LightReading,
    LightState,
    LightTarget,
    Readings,
)
from cocoon.core.reconcile import commands, manual_light_change, manual_setpoint_change

from .homes import at, home_config

NOW = at("2026-11-25 20:00")
LATER = NOW + timedelta(seconds=30)
CFG = home_config()


def _target(state: LightState, *, fading: bool = False, **kept: bool) -> LightTarget:
    return LightTarget("sofa", state, Fade("ritual evening"), fading, **kept)


def _send(target: LightTarget, last: dict[str, LightCommand] | None = None) -> list[object]:
    return list(commands(CFG, {"sofa": target}, last or {}, Readings({}, {}), NOW, LATER))


def test_switching_on_sends_brightness_and_colour_in_one_command() -> None:
    (command,) = _send(_target(LightState(1.5, 2200), fading=True))
    assert command == LightCommand("sofa", True, 1.5, 2200, 30.0, "ritual evening")


def test_a_fade_step_glides_until_the_next_step_and_a_still_target_does_not() -> None:
    (fading,) = _send(_target(LightState(40, 2700), fading=True))
    assert isinstance(fading, LightCommand)
    assert fading.transition == 30.0
    (still,) = _send(_target(LightState(40, 2700)))
    assert isinstance(still, LightCommand)
    assert still.transition == 0.0


def test_what_was_already_commanded_is_not_sent_again() -> None:
    last = {"sofa": LightCommand("sofa", True, 40.0, 2700, 30.0, "x")}
    assert _send(_target(LightState(40.2, 2703), fading=True), last) == []
    assert len(_send(_target(LightState(41, 2700), fading=True), last)) == 1
    # Once the fade is over the exact value is sent, however small the remaining step.
    assert len(_send(_target(LightState(40.2, 2700)), last)) == 1


def test_a_device_already_as_it_should_be_gets_nothing() -> None:
    readings = Readings({"sofa": LightReading(LightState(0), NOW)}, {})
    target = {"sofa": _target(LightState(0))}
    assert commands(CFG, target, {}, readings, NOW, LATER) == []


def test_colour_is_clamped_to_what_the_light_can_show() -> None:
    (command,) = _send(_target(LightState(10, 1500)))
    assert isinstance(command, LightCommand)
    assert command.kelvin == 2000


def test_overridden_attributes_are_left_out_of_the_command() -> None:
    (command,) = _send(_target(LightState(10, 2500), keep_brightness=True))
    assert isinstance(command, LightCommand)
    assert command.brightness is None
    assert command.kelvin == 2500


def test_thermostat_commands_only_on_change() -> None:
    target = {"heat": ClimateTarget("heat", 21.0, Fade("ritual evening"))}
    readings = Readings({"heat": ClimateReading(20.0, 19.0, NOW)}, {})
    (command,) = commands(CFG, target, {}, readings, NOW, LATER)
    assert command == ClimateCommand("heat", 21.0, "ritual evening")
    assert commands(CFG, target, {"heat": command}, readings, NOW, LATER) == []


def test_reports_matching_a_recent_command_are_cocoons_own() -> None:
    sent = [
        LightCommand("sofa", True, 40.0, 2700, 30.0, "x"),
        LightCommand("sofa", True, 38.0, 2650, 30.0, "x"),
    ]
    assert manual_light_change(LightState(38.4, 2653), sent) == frozenset()
    # A value between two commands still in flight is the fade gliding.
    assert manual_light_change(LightState(39.0, 2680), sent) == frozenset()


def test_a_person_dimming_is_told_apart_from_a_person_switching_off() -> None:
    sent = [LightCommand("sofa", True, 40.0, 2700, 0.0, "x")]
    assert manual_light_change(LightState(80.0, 2700), sent) == {modes.BRIGHTNESS}
    assert manual_light_change(LightState(40.0, 4000), sent) == {modes.KELVIN}
    assert manual_light_change(LightState(0.0), sent) == {modes.POWER}
    assert manual_light_change(LightState(0.0), []) == frozenset()


def test_a_setpoint_changed_on_the_thermostat_is_a_manual_change() -> None:
    sent = [ClimateCommand("heat", 21.0, "x")]
    assert not manual_setpoint_change(21.0, sent)
    assert manual_setpoint_change(19.0, sent)
    assert not manual_setpoint_change(19.0, [])
    # A late report of an earlier command is cocoon's own too.
    assert not manual_setpoint_change(21.0, [*sent, ClimateCommand("heat", 20.0, "x")])
