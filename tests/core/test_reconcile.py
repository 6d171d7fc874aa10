"""Targets into the fewest commands, and reports that only a person's hand explains."""

from __future__ import annotations

from datetime import timedelta

from cocoon.core.abilities import shown
from cocoon.core.model import (
    Attribute,
    ClimateAbility,
    ClimateCommand,
    ClimateReading,
    ClimateTarget,
    Colour,
    LightAbility,
    LightCommand,
    LightReading,
    LightState,
    LightTarget,
    Readings,
    Reason,
)
from cocoon.core.reconcile import commands
from cocoon.core.reports import manual_light_change, manual_setpoint_change

from .homes import at, home_config

NOW = at("2026-11-25 20:00")
LATER = NOW + timedelta(seconds=30)
CFG = home_config()


def _target(state: LightState, *, fading: bool = False, **kept: bool) -> LightTarget:
    return LightTarget("sofa", state, Reason("ritual evening"), fading, **kept)


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


def test_colour_is_clamped_to_a_configured_range() -> None:
    cfg = CFG.model_copy(
        update={
            "devices": {
                **CFG.devices,
                "sofa": CFG.devices["sofa"].model_copy(update={"min_kelvin": 2000}),
            }
        }
    )
    target = {"sofa": _target(LightState(10, 1500))}
    (command,) = commands(cfg, target, {}, Readings({}, {}), NOW, LATER)
    assert isinstance(command, LightCommand)
    assert command.kelvin == 2000


def test_without_a_configured_range_the_colour_is_left_to_the_light() -> None:
    (command,) = _send(_target(LightState(10, 1500)))
    assert isinstance(command, LightCommand)
    assert command.kelvin == 1500


def test_a_colour_state_is_sent_as_that_colour_not_as_a_white() -> None:
    red = Colour("xy", 0.6, 0.3)
    (command,) = _send(_target(LightState(30, None, red)))
    assert command == LightCommand("sofa", True, 30, None, 0.0, "ritual evening", red)
    last = {"sofa": command}
    assert isinstance(command, LightCommand)
    assert _send(_target(LightState(30, None, Colour("xy", 0.601, 0.3))), last) == []
    assert len(_send(_target(LightState(30, 2700)), last)) == 1
    # A person's colour is theirs: kept, like a colour temperature they chose.
    (kept,) = _send(_target(LightState(30, None, red), keep_kelvin=True), {})
    assert kept == LightCommand("sofa", True, 30, None, 0.0, "ritual evening")


def test_overridden_attributes_are_left_out_of_the_command() -> None:
    (command,) = _send(_target(LightState(10, 2500), keep_brightness=True))
    assert isinstance(command, LightCommand)
    assert command.brightness is None
    assert command.kelvin == 2500


def test_thermostat_commands_only_on_change() -> None:
    target = {"heat": ClimateTarget("heat", 21.0, Reason("ritual evening"))}
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
    assert manual_light_change(LightState(80.0, 2700), sent) == {Attribute.BRIGHTNESS}
    assert manual_light_change(LightState(40.0, 4000), sent) == {Attribute.KELVIN}
    assert manual_light_change(LightState(0.0), sent) == {Attribute.POWER}
    assert manual_light_change(LightState(0.0), []) == frozenset()


def test_a_setpoint_changed_on_the_thermostat_is_a_manual_change() -> None:
    sent = [ClimateCommand("heat", 21.0, "x")]
    assert not manual_setpoint_change(21.0, sent)
    assert manual_setpoint_change(19.0, sent)
    assert not manual_setpoint_change(19.0, [])
    # A late report of an earlier command is cocoon's own too.
    assert not manual_setpoint_change(21.0, [*sent, ClimateCommand("heat", 20.0, "x")])


# -- what a device does with a command is the device's doing, not a person's hand --------

WARM_BULB = LightAbility(dims=True, kelvin=(2203.0, 6536.0), colour=True)


def _light(
    brightness: float | None, kelvin: int | None, colour: Colour | None = None
) -> LightCommand:
    return LightCommand("sofa", True, brightness, kelvin, 0.0, "calm", colour)


def test_a_bulb_clamps_a_colour_too_warm_for_it() -> None:
    sent = [_light(20.0, 2000)]
    assert shown(sent[0], WARM_BULB) == _light(20.0, 2203)
    assert manual_light_change(LightState(20.0, 2203), sent, WARM_BULB) == frozenset()
    # Without knowing the bulb, 2203 K for 2000 K asked looks like a hand.
    assert manual_light_change(LightState(20.0, 2203), sent) == {Attribute.KELVIN}
    # Within its range the bulb shows what it is told: another colour is a hand.
    assert manual_light_change(LightState(20.0, 3000), sent, WARM_BULB) == {Attribute.KELVIN}


def test_a_light_that_does_not_dim_is_at_full_when_on() -> None:
    switch = LightAbility(dims=False)
    sent = [_light(20.0, None)]
    assert manual_light_change(LightState(100.0), sent, switch) == frozenset()
    assert manual_light_change(LightState(100.0), sent) == {Attribute.BRIGHTNESS}


def test_brightness_in_steps_of_254_is_the_lights_rounding() -> None:
    # 33.3 % is 84.6 of 254: the light stores 85, which reads back as 33.5 %.
    assert manual_light_change(LightState(33.5, 2700), [_light(33.3, 2700)]) == frozenset()


def test_a_colour_set_by_hand_is_a_hand_and_a_colour_cocoon_set_is_not() -> None:
    red = Colour("xy", 0.6, 0.3)
    white = [_light(20.0, 2700)]
    assert manual_light_change(LightState(20.0, None, red), white, WARM_BULB) == {Attribute.COLOUR}
    given_back = [_light(20.0, None, red)]
    assert manual_light_change(LightState(20.0, None, red), given_back, WARM_BULB) == frozenset()
    # cocoon told it nothing of colour (only brightness): its colour is not cocoon's business.
    dimmed = [_light(20.0, None)]
    assert manual_light_change(LightState(20.0, None, red), dimmed, WARM_BULB) == frozenset()


def test_hue_wraps_around() -> None:
    assert Colour("hs", 359.0, 80.0).close(Colour("hs", 1.0, 80.0))
    assert not Colour("hs", 30.0, 80.0).close(Colour("hs", 60.0, 80.0))
    assert not Colour("hs", 30.0, 80.0).close(Colour("xy", 30.0, 80.0))


def test_a_valve_in_whole_degrees_rounds_either_way() -> None:
    valve = ClimateAbility(low=5.0, high=30.0, step=1.0)
    sent = [ClimateCommand("heat", 20.5, "calm")]
    assert not manual_setpoint_change(21.0, sent, valve)
    assert not manual_setpoint_change(20.0, sent, valve)
    assert manual_setpoint_change(22.0, sent, valve)
    # Without knowing the valve, 21 for 20.5 asked is a hand.
    assert manual_setpoint_change(21.0, sent)


def test_a_valve_holds_its_own_range() -> None:
    valve = ClimateAbility(low=5.0, high=28.0, step=0.5)
    sent = [ClimateCommand("heat", 30.0, "calm")]
    assert shown(sent[0], valve) == ClimateCommand("heat", 28.0, "calm")
    assert not manual_setpoint_change(28.0, sent, valve)
    assert manual_setpoint_change(27.0, sent, valve)
