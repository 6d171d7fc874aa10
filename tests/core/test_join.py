"""Joining a window in force: a first start, or a return after longer than the grace.

A ritual with `until` is joined where it stands, its lights gliding there from how they
show; a ritual with `duration` (a cue) is skipped beyond the grace.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from cocoon.core.model import Attribute, LightReading, LightState, LightTarget, Readings
from cocoon.core.planner import Planner
from cocoon.core.scenes import Envelope, blend
from cocoon.core.simulate import follow
from cocoon.core.state import RuntimeState
from cocoon.core.step import next_wakeup
from cocoon.core.targets import aims, desired
from cocoon.core.transitions import advance, set_override
from cocoon.runtime.store import decode, encode

from .homes import at, home_config

NIGHT = {"at": "22:30", "until": "sunrise", "scene": "evening", "fade": "30min"}
EVENING = {"at": "19:00", "until": "22:00", "scene": "evening", "fade": "40min"}
TEA = {"at": "19:00", "duration": "20min", "scene": "tea", "fade": "2min"}


def _readings(**lights: LightState) -> Readings:
    now = at("2026-11-25 00:00")
    return Readings({name: LightReading(look, now) for name, look in lights.items()}, {})


def _walk(
    planner: Planner, state: RuntimeState, readings: Readings, start: str, minutes: int
) -> tuple[RuntimeState, Readings, list[LightState]]:
    """Follow the planner's own wake-ups; every look the sofa is sent to, in order."""
    now, end = at(start), at(start) + timedelta(minutes=minutes)
    looks: list[LightState] = []
    while now < end:
        state, _ = advance(planner, now, state, readings)
        targets = desired(planner, now, state, readings)
        wake = next_wakeup(planner, now, state, readings)
        aimed = aims(planner, targets, wake, state, readings)
        sofa = aimed.get("sofa")
        if isinstance(sofa, LightTarget):
            looks.append(sofa.state)
        readings = follow(readings, targets, now)
        now = wake
    return state, readings, looks


def _steps(first: LightState, looks: list[LightState]) -> list[float]:
    shown = [first, *looks]
    return [abs(b.brightness - a.brightness) for a, b in itertools.pairwise(shown)]


def test_a_first_start_at_night_joins_the_night_and_glides_there_in_steps() -> None:
    cfg = home_config(rituals={"night": NIGHT})
    planner = Planner(cfg)
    lamp = LightState(80, 4000)
    readings = _readings(sofa=lamp)
    state, notes = advance(planner, at("2026-11-26 01:02"), RuntimeState(), readings)
    assert notes == ["ritual night joined where it stands: in force since 22:30, until 08:16"]
    run = state.runs["night"]
    assert (run.start, run.joined, run.missed) == (
        at("2026-11-25 22:30"),
        at("2026-11-26 01:02"),
        False,
    )
    # No fade-in replayed: the lamp starts from how it shows, not from the night's start.
    first = desired(planner, at("2026-11-26 01:02"), state, readings)["sofa"]
    assert isinstance(first, LightTarget)
    assert first.state == lamp
    assert first.fading
    state, readings, looks = _walk(planner, state, readings, "2026-11-26 01:02", 10)
    assert looks[-1] == LightState(35, 2200)
    assert max(_steps(lamp, looks)) <= cfg.settings.max_step + 1e-6
    # It arrives within the take-back fade, not over the ritual's 30 min fade-in.
    arrived = desired(planner, at("2026-11-26 01:04"), state, readings)["sofa"]
    assert isinstance(arrived, LightTarget)
    assert arrived.state == LightState(35, 2200)


def test_a_fade_in_still_under_way_is_joined_at_its_current_point() -> None:
    cfg = home_config(rituals={"evening": EVENING})
    planner = Planner(cfg)
    lamp = LightState(80, 4000)
    readings = _readings(sofa=lamp)
    state, notes = advance(planner, at("2026-11-25 19:20"), RuntimeState(), readings)
    assert notes == ["ritual evening joined where it stands: in force since 19:00, until 22:00"]
    # Once the glide is over, the lamp is where a run started at 19:00 would have it.
    envelope = Envelope(
        at("2026-11-25 19:00"), at("2026-11-25 22:00"), timedelta(minutes=40), timedelta(minutes=40)
    )
    setting = cfg.scenes["evening"].lights["sofa"]
    for minute in (22, 30):
        now = at(f"2026-11-25 19:{minute}")
        target = desired(planner, now, state, readings)["sofa"]
        assert isinstance(target, LightTarget)
        assert target.state == blend(lamp, setting, envelope.weight(now))
    state, _, looks = _walk(planner, state, readings, "2026-11-25 19:20", 30)
    assert max(_steps(lamp, looks)) <= cfg.settings.max_step + 1e-6


def test_a_cue_is_not_joined_beyond_the_grace_but_runs_late_within_it() -> None:
    planner = Planner(home_config(rituals={"tea": TEA}))
    readings = _readings(desk=LightState(0))
    state, notes = advance(planner, at("2026-11-25 19:15"), RuntimeState(), readings)
    assert notes == ["ritual tea missed by 15 min (grace 10min): skipped today"]
    assert desired(planner, at("2026-11-25 19:16"), state, readings) == {}
    state, notes = advance(planner, at("2026-11-25 19:05"), RuntimeState(), readings)
    assert notes == ["ritual tea started, until 19:20"]


def test_a_light_that_reports_after_the_join_glides_from_its_report() -> None:
    cfg = home_config(rituals={"night": NIGHT})
    planner = Planner(cfg)
    state, _ = advance(planner, at("2026-11-26 01:00"), RuntimeState(), _readings())
    assert desired(planner, at("2026-11-26 01:00"), state, _readings()) == {}
    lamp = LightState(100, 5000)
    readings = _readings(sofa=lamp)
    state, _ = advance(planner, at("2026-11-26 01:00:05"), state, readings)
    first = desired(planner, at("2026-11-26 01:00:05"), state, readings)["sofa"]
    assert isinstance(first, LightTarget)
    assert first.state == lamp
    _, _, looks = _walk(planner, state, readings, "2026-11-26 01:00:05", 5)
    assert looks[-1] == LightState(35, 2200)
    assert max(_steps(lamp, looks)) <= cfg.settings.max_step + 1e-6


def test_a_return_after_the_grace_joins_and_keeps_a_persons_override() -> None:
    cfg = home_config(rituals={"evening": EVENING, "night": NIGHT})
    planner = Planner(cfg)
    readings = _readings(sofa=LightState(60, 3000))
    state, _ = advance(planner, at("2026-11-25 21:00"), RuntimeState(), readings)
    state, _ = set_override(
        cfg, state, "sofa", frozenset({Attribute.BRIGHTNESS}), at("2026-11-25 21:50")
    )
    # Down from 21:55 to 22:50: the night began meanwhile; the saved state comes back.
    state = decode(encode(state))
    state, notes = advance(planner, at("2026-11-25 22:50"), state, readings)
    assert "ritual night joined where it stands: in force since 22:30, until 08:16" in notes
    assert state.runs["night"].joined == at("2026-11-25 22:50")
    assert decode(encode(state)).runs["night"] == state.runs["night"]
    sofa = desired(planner, at("2026-11-25 22:50"), state, readings)["sofa"]
    assert isinstance(sofa, LightTarget)
    assert sofa.keep_brightness


def test_a_hand_during_the_glide_wins() -> None:
    cfg = home_config(rituals={"night": NIGHT})
    planner = Planner(cfg)
    readings = _readings(sofa=LightState(80, 4000))
    state, _ = advance(planner, at("2026-11-26 01:00"), RuntimeState(), readings)
    state, _ = set_override(
        cfg, state, "sofa", frozenset({Attribute.BRIGHTNESS}), at("2026-11-26 01:01")
    )
    assert state.holds["sofa"].taking_back is None
    sofa = desired(planner, at("2026-11-26 01:01"), state, readings)["sofa"]
    assert isinstance(sofa, LightTarget)
    assert sofa.keep_brightness
