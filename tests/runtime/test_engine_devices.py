"""The engine with devices as real ones are: silent until asked, rounding, away, coloured."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from cocoon.core.events import (
    Availability,
    Capability,
    ClimateReport,
    LightReport,
    Press,
    Problem,
    Wake,
)
from cocoon.core.model import (
    Attribute,
    ClimateAbility,
    ClimateCommand,
    Colour,
    Command,
    LightAbility,
    LightCommand,
    LightState,
)
from cocoon.runtime.engine import Engine

from ..core.homes import at, home_config
from ..fakes import FakeClock, FakeGateway, MemoryStore

RED = Colour("xy", 0.6, 0.3)


def _engine() -> tuple[Engine, FakeClock, FakeGateway]:
    cfg = home_config(
        calm_modes={"calm_now": {"scene": "calm", "duration": "10min", "fade": 0}},
        settings={"rate_limit": 1000},
    )
    clock = FakeClock(at("2026-11-25 18:00"))
    gateway = FakeGateway()
    engine = Engine(cfg, clock=clock, store=MemoryStore(), gateways=[gateway], arm=lambda _: None)
    engine.start()
    return engine, clock, gateway


def _last(sent: list[Command], device: str) -> Command:
    return [c for c in sent if c.device == device][-1]


def test_a_press_before_a_device_answered_acts_on_it_when_the_answer_arrives() -> None:
    engine, _, gateway = _engine()
    engine.handle(Press("calm_now"))
    assert gateway.sent == []  # nothing known of the sofa lamp: nothing to give back yet
    assert engine.state.holds["sofa"].snapshot is None
    engine.handle(LightReport("sofa", LightState(70, 3500), by_hand=frozenset()))
    assert engine.state.holds["sofa"].snapshot == LightState(70, 3500)
    assert _last(gateway.sent, "sofa") == LightCommand("sofa", True, 20.0, 2000, 0.0, "calm_now")


def test_a_give_back_due_while_the_device_is_away_is_made_when_it_is_back() -> None:
    engine, clock, gateway = _engine()
    engine.handle(LightReport("sofa", LightState(70, 3500)))
    engine.handle(Press("calm_now"))
    gateway.offline.add("sofa")
    engine.handle(Availability("sofa", online=False))
    clock.moment += timedelta(minutes=11)
    engine.handle(Wake())
    assert "calm_now" not in engine.state.calm
    assert _last(gateway.sent, "sofa").reason == "calm_now"  # nothing sent to it while away
    assert engine.state.holds["sofa"].snapshot == LightState(70, 3500)
    gateway.offline.discard("sofa")
    engine.handle(Availability("sofa", online=True))
    # Late, it glides back over one fade step (30 s), never in a jump from the calm look.
    glide = engine.cfg.settings.fade_step.total_seconds()
    assert _last(gateway.sent, "sofa") == LightCommand("sofa", True, 70, 3500, glide, "given back")


def test_a_bulb_that_clamps_its_colour_is_no_hand_and_is_not_told_again() -> None:
    engine, _, gateway = _engine()
    engine.handle(Capability("sofa", LightAbility(True, (2203.0, 6536.0))))
    engine.handle(LightReport("sofa", LightState(70, 3500)))
    engine.handle(Press("calm_now"))
    sent = len(gateway.sent)
    engine.handle(LightReport("sofa", LightState(20.1, 2203)))  # 2000 K asked
    assert engine.state.holds["sofa"].override is None
    assert len(gateway.sent) == sent


def test_a_valve_in_whole_degrees_is_no_hand() -> None:
    engine, _, gateway = _engine()
    engine.handle(Capability("heat", ClimateAbility(5.0, 30.0, 1.0)))
    engine.handle(ClimateReport("heat", 18.5, 19.0))
    engine.handle(Press("calm_now"))  # +4: 22.5
    assert _last(gateway.sent, "heat") == ClimateCommand("heat", 22.5, "calm_now")
    engine.handle(ClimateReport("heat", 22.0, 19.0))
    assert engine.state.holds["heat"].override is None
    engine.handle(ClimateReport("heat", 20.0, 19.0))  # a person turned it down
    override = engine.state.holds["heat"].override
    assert override is not None
    assert override.attributes == {Attribute.SETPOINT}


def test_a_colour_set_by_hand_is_a_hand_and_a_colour_before_is_given_back() -> None:
    engine, clock, gateway = _engine()
    engine.handle(Capability("sofa", LightAbility(True, (2203.0, 6536.0), colour=True)))
    engine.handle(Capability("desk", LightAbility(True, (2203.0, 6536.0), colour=True)))
    engine.handle(LightReport("sofa", LightState(70, None, RED)))
    engine.handle(LightReport("desk", LightState(50, 2700)))
    engine.handle(Press("calm_now"))
    assert engine.state.holds["sofa"].snapshot == LightState(70, None, RED)
    engine.handle(LightReport("sofa", LightState(20, 2203)))
    assert engine.state.holds["sofa"].override is None
    # The desk lamp is off in the calm scene; a person turns it on in blue.
    blue = Colour("xy", 0.15, 0.06)
    engine.handle(LightReport("desk", LightState(50, None, blue)))
    desk = engine.state.holds["desk"].override
    assert desk is not None
    assert Attribute.POWER in desk.attributes
    clock.moment += timedelta(minutes=11)
    engine.handle(Wake())
    given = _last(gateway.sent, "sofa")
    assert given == LightCommand("sofa", True, 70, None, 0.0, "given back", RED)


def test_a_colour_chosen_by_hand_during_a_calm_mode_is_left_alone() -> None:
    engine, _, _ = _engine()
    engine.handle(Capability("sofa", LightAbility(True, (2203.0, 6536.0), colour=True)))
    engine.handle(LightReport("sofa", LightState(70, 3500)))
    engine.handle(Press("calm_now"))
    engine.handle(LightReport("sofa", LightState(20, 2203)))
    engine.handle(LightReport("sofa", LightState(20, None, RED)))
    override = engine.state.holds["sofa"].override
    assert override is not None
    assert override.attributes == {Attribute.COLOUR}
    # Brightness still follows cocoon; the colour is theirs.
    assert engine.targets["sofa"].keep_kelvin  # type: ignore[union-attr]
    assert not engine.targets["sofa"].keep_brightness  # type: ignore[union-attr]


def test_a_problem_is_in_the_status_until_solved() -> None:
    engine, _, _ = _engine()
    text = "desk: Zigbee2MQTT knows no 'desk_lmp' (closest known: 'desk_lamp')"
    engine.handle(Problem("zigbee2mqtt desk_lmp", text))
    assert engine.status is not None
    assert engine.status.problems == (text,)
    engine.handle(Problem("zigbee2mqtt desk_lmp"))
    assert engine.status.problems == ()


def test_only_a_device_that_was_away_is_said_to_be_back_online(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine, _, _ = _engine()
    with caplog.at_level(logging.INFO):
        engine.handle(Availability("desk", online=True))  # its first word: never away
        assert "desk is back online" not in caplog.text
        engine.handle(Availability("desk", online=False))
        engine.handle(Availability("desk", online=False))
        assert caplog.text.count("desk is offline") == 1
        engine.handle(Availability("desk", online=True))
        assert "desk is back online" in caplog.text
        engine.handle(Availability("desk", online=True))
        assert caplog.text.count("desk is back online") == 1
