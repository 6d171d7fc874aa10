"""`core.step` and the record of what was sent, by value: time is only ever passed in."""

from __future__ import annotations

from datetime import timedelta

from cocoon.core import Planner, RuntimeState, Sent, apply, step
from cocoon.core.events import LightReport, Press
from cocoon.core.model import (
    Attribute,
    ClimateCommand,
    LightCommand,
    LightReading,
    LightState,
    Readings,
)
from cocoon.core.sent import KEPT, SETTLE

from .homes import at, home_config

NOW = at("2026-11-25 18:00")
CALM = {"calm_now": {"scene": "calm", "duration": "10min", "fade": "1min"}}


def _light(brightness: float, transition: float = 0.0) -> LightCommand:
    return LightCommand("sofa", True, brightness, 2200, transition, "test")


def test_a_report_may_answer_what_was_sent_within_the_settle_window_given() -> None:
    sent = Sent().add([_light(10)], NOW).add([_light(20)], NOW + timedelta(seconds=5))
    assert sent.answering("sofa", NOW + timedelta(seconds=6)) == [_light(10), _light(20)]
    later = NOW + SETTLE + timedelta(seconds=1)
    assert sent.answering("sofa", later) == [_light(20)]  # at least the last one
    assert sent.answering("desk", later) == []


def test_a_light_command_is_answered_for_its_transition_and_the_settle_window() -> None:
    sent = Sent().add([_light(10, transition=30)], NOW).add([_light(20)], NOW)
    late = NOW + SETTLE + timedelta(seconds=29)
    assert sent.answering("sofa", late) == [_light(10, transition=30)]


def test_a_device_told_again_keeps_what_it_was_sent_for_its_reports() -> None:
    sent = Sent().add([_light(10), ClimateCommand("heat", 21, "test")], NOW)
    again = sent.retell(["sofa"])
    assert set(again.told()) == {"heat"}
    assert again.answering("sofa", NOW) == [_light(10)]
    assert set(sent.only({"heat"}).devices) == {"heat"}


def test_the_record_keeps_the_last_commands_of_each_device() -> None:
    sent = Sent()
    for n in range(KEPT + 3):
        sent = sent.add([_light(n)], NOW + timedelta(seconds=n))
    assert len(sent.devices["sofa"].sendings) == KEPT
    assert sent.told()["sofa"] == _light(KEPT + 2)


def test_a_press_steps_to_commands_that_are_recorded_at_the_steps_instant() -> None:
    planner = Planner(home_config(calm_modes=CALM))
    readings = Readings({"sofa": LightReading(LightState(70, 3500), NOW)}, {})
    applied = apply(planner, RuntimeState(), readings, Sent(), Press("calm_now"), NOW)
    assert "calm_now" in applied.state.calm
    outcome = step(planner, applied.state, applied.readings, Sent(), NOW)
    sofa = [c for c in outcome.commands if c.device == "sofa"]
    assert len(sofa) == 1
    assert outcome.wake > NOW
    assert outcome.sent.told()["sofa"] == sofa[0]
    assert outcome.sent.devices["sofa"].sendings[-1].at == NOW
    # Until the lamp reports, cocoon takes it to show what it was told.
    assert outcome.readings.light("sofa") != LightState(70, 3500)
    # Stepping again at the same instant sends nothing new.
    again = step(planner, outcome.state, outcome.readings, outcome.sent, NOW)
    assert again.commands == []


def test_a_step_sends_nothing_to_devices_away_or_while_not_driving() -> None:
    planner = Planner(home_config(calm_modes=CALM))
    readings = Readings({"sofa": LightReading(LightState(70, 3500), NOW)}, {})
    state = apply(planner, RuntimeState(), readings, Sent(), Press("calm_now"), NOW).state
    away = step(planner, state, readings, Sent(), NOW, away=frozenset({"sofa"}))
    assert all(c.device != "sofa" for c in away.commands)
    assert "sofa" not in away.sent.told()
    idle = step(planner, state, readings, Sent(), NOW, driving=False)
    assert idle.commands == []
    assert idle.state == away.state


def test_a_report_long_after_the_command_is_judged_by_the_instants_passed_in() -> None:
    planner = Planner(home_config(calm_modes=CALM))
    readings = Readings({"sofa": LightReading(LightState(70, 3500), NOW)}, {})
    state = apply(planner, RuntimeState(), readings, Sent(), Press("calm_now"), NOW).state
    first = step(planner, state, readings, Sent(), NOW)
    sofa = next(c for c in first.commands if isinstance(c, LightCommand))
    assert sofa.brightness is not None
    soon = NOW + timedelta(seconds=1)
    report = LightReport("sofa", LightState(sofa.brightness, sofa.kelvin))
    taken = apply(planner, first.state, first.readings, first.sent, report, soon)
    assert taken.state.holds["sofa"].override is None
    dimmed = LightReport("sofa", LightState(sofa.brightness + 30, sofa.kelvin))
    taken = apply(planner, first.state, first.readings, first.sent, dimmed, soon)
    override = taken.state.holds["sofa"].override
    assert override is not None
    assert Attribute.BRIGHTNESS in override.attributes


def test_a_devices_first_word_after_a_restart_is_no_hand_even_across_a_command() -> None:
    # cocoon restarts mid calm mode: the saved state holds the lamp, nothing has been
    # heard from it yet. The step resumes the calm look at once; the lamp's answer to
    # the question asked at start (what the killed process had it show, clamped by the
    # bulb to its warmest, and cocoon not yet told the bulb's range) crosses that command.
    planner = Planner(home_config(calm_modes=CALM))
    readings = Readings({"sofa": LightReading(LightState(70, 3500), NOW)}, {})
    pressed = apply(planner, RuntimeState(), readings, Sent(), Press("calm_now"), NOW)
    state = step(planner, pressed.state, readings, Sent(), NOW + timedelta(minutes=2)).state
    later = NOW + timedelta(minutes=3)
    resumed = step(planner, state, Readings({}, {}), Sent(), later)
    assert any(c.device == "sofa" for c in resumed.commands)
    crossing = LightReport("sofa", LightState(20, 2203))
    taken = apply(planner, resumed.state, resumed.readings, resumed.sent, crossing, later)
    assert taken.state.holds["sofa"].override is None
    # From then on, what the lamp says is weighed against what it was sent.
    dimmed = LightReport("sofa", LightState(60, 2203))
    taken = apply(planner, taken.state, taken.readings, resumed.sent, dimmed, later)
    override = taken.state.holds["sofa"].override
    assert override is not None
    assert Attribute.BRIGHTNESS in override.attributes
