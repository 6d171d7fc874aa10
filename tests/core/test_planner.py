"""The planner by value: layers, fades, snapshots, overrides, pause, thermostats, plants."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cocoon.core.model import (
    Attribute,
    ClimateReading,
    ClimateTarget,
    LightReading,
    LightState,
    LightTarget,
    Readings,
    SensorReading,
)
from cocoon.core.planner import Planner
from cocoon.core.simulate import follow, simulate
from cocoon.core.state import RuntimeState
from cocoon.core.step import next_wakeup
from cocoon.core.targets import desired
from cocoon.core.transitions import advance, end_calm, pause, press, resume, rewind, set_override

from .homes import at, home_config, lights_off

EVENING = {"at": "19:00", "until": "22:00", "scene": "evening", "fade": "40min"}


def _light(targets: dict[str, object], device: str) -> LightState:
    target = targets[device]
    assert isinstance(target, LightTarget)
    return target.state


def _readings(**lights: LightState) -> Readings:
    now = at("2026-11-25 00:00")
    looks = {"sofa": LightState(0), "desk": LightState(0), **lights}
    return Readings({name: LightReading(state, now) for name, state in looks.items()}, {})


def test_a_ritual_fades_in_from_what_the_person_left_and_says_why() -> None:
    planner = Planner(home_config(rituals={"evening": EVENING}))
    readings = _readings(sofa=LightState(80, 4000))
    state, notes = advance(planner, at("2026-11-25 19:00"), RuntimeState(), readings)
    assert notes == ["ritual evening started, until 22:00"]
    first = _light(desired(planner, at("2026-11-25 19:00"), state, readings), "sofa")
    assert first == LightState(80, 4000)
    halfway = desired(planner, at("2026-11-25 19:20"), state, readings)["sofa"]
    assert isinstance(halfway, LightTarget)
    assert 35 < halfway.state.brightness < 80
    assert halfway.reason == "ritual evening, fading 80 % → 35 %"
    assert halfway.fading
    done = desired(planner, at("2026-11-25 19:40"), state, readings)["sofa"]
    assert isinstance(done, LightTarget)
    assert done.state == LightState(35, 2200)
    assert done.reason == "ritual evening"
    assert not done.fading


def test_brightness_fades_perceptually_and_kelvin_in_mireds() -> None:
    planner = Planner(home_config(rituals={"evening": EVENING}))
    readings = _readings(sofa=LightState(80, 4000))
    state, _ = advance(planner, at("2026-11-25 19:00"), RuntimeState(), readings)
    halfway = _light(desired(planner, at("2026-11-25 19:20"), state, readings), "sofa")
    # Halfway in lightness (L* 91.7 → 65.7) is 54.4 %, not the arithmetic 57.5 %.
    assert halfway.brightness == pytest.approx(54.4, abs=0.1)
    # Colour moves in mireds (250 → 454.5), by the share of light each end gives:
    # 65.7 / (65.7 + 91.7) = 41.7 % of the way, 335 mireds, 2981 K.
    assert halfway.kelvin == pytest.approx(2981, abs=2)


def test_a_ritual_hands_back_the_snapshot_when_it_ends() -> None:
    planner = Planner(home_config(rituals={"evening": EVENING}))
    sim = simulate(
        planner,
        at("2026-11-25 18:00"),
        at("2026-11-25 23:30"),
        readings=_readings(sofa=LightState(60, 3000)),
    )
    by_time = {step.at: step.targets for step in sim.steps}
    assert _light(by_time[at("2026-11-25 21:00")], "sofa") == LightState(35, 2200)
    fading_out = _light(by_time[at("2026-11-25 22:20")], "sofa")
    assert 35 < fading_out.brightness < 60
    assert _light(by_time[at("2026-11-25 22:40")], "sofa").brightness == pytest.approx(60)
    assert "sofa" not in by_time[at("2026-11-25 23:00")]
    assert "sofa" not in sim.state.holds


def test_a_fade_longer_than_its_window_is_clipped_not_extended() -> None:
    ritual = {"at": "07:00", "duration": "10min", "scene": "tea", "fade": "40min"}
    planner = Planner(home_config(rituals={"tea": ritual}))
    sim = simulate(planner, at("2026-11-25 06:50"), at("2026-11-25 08:00"), readings=lights_off())
    by_time = {step.at: step.targets for step in sim.steps}
    peak = _light(by_time[at("2026-11-25 07:10")], "desk").brightness
    assert 0 < peak < 40
    assert _light(by_time[at("2026-11-25 07:15")], "desk").brightness < peak
    # The fade-out (as long as the fade) starts at the window's end, from the peak.
    assert _light(by_time[at("2026-11-25 07:49")], "desk").on
    given_back = by_time[at("2026-11-25 07:51")]["desk"]
    assert given_back.reason == "given back"
    assert not _light(by_time[at("2026-11-25 07:51")], "desk").on
    assert "desk" not in by_time[at("2026-11-25 07:52")]


def test_calm_mode_ends_by_giving_back_exactly_what_was_there() -> None:
    cfg = home_config(
        calm_modes={"calm_now": {"scene": "calm", "duration": "10min", "fade": "2min"}}
    )
    planner = Planner(cfg)
    before = Readings(
        {
            "sofa": LightReading(LightState(70, 3500), at("2026-11-25 20:00")),
            "desk": LightReading(LightState(50, 4000), at("2026-11-25 20:00")),
            "heat": ClimateReading(20.0, 19.5, at("2026-11-25 20:00")),
        },
        {},
    )
    state, message = press(planner, "calm_now", at("2026-11-25 20:00"), RuntimeState(), before)
    assert message == "calm_now pressed: 2 lights, ends 20:10"
    sim = simulate(
        planner, at("2026-11-25 20:00"), at("2026-11-25 20:30"), state=state, readings=before
    )
    by_time = {step.at: step.targets for step in sim.steps}
    calm = by_time[at("2026-11-25 20:05")]
    assert _light(calm, "sofa") == LightState(20, 2000)
    assert not _light(calm, "desk").on
    heat = calm["heat"]
    assert isinstance(heat, ClimateTarget)
    assert heat.setpoint == 23.0  # 20 + 4 clamped to the thermostat's max of 23
    assert "held within 16–23" in heat.reason
    back = by_time[at("2026-11-25 20:12")]
    assert _light(back, "sofa") == LightState(70, 3500)
    assert _light(back, "desk") == LightState(50, 4000)
    restored = back["heat"]
    assert isinstance(restored, ClimateTarget)
    assert restored.setpoint == 20.0
    assert {t.reason for t in by_time[at("2026-11-25 20:13")].values()} == {"given back"}
    assert by_time[at("2026-11-25 20:14")] == {}
    assert sim.state.calm == {}


def test_calm_mode_can_be_ended_early_and_pressed_again_without_a_jump() -> None:
    cfg = home_config(calm_modes={"calm_now": {"scene": "calm", "duration": "1h", "fade": "4min"}})
    planner = Planner(cfg)
    readings = _readings(sofa=LightState(80, 3000))
    state, _ = press(planner, "calm_now", at("2026-11-25 20:00"), RuntimeState(), readings)
    state, message = end_calm(state, "calm_now", at("2026-11-25 20:10"))
    assert message == "calm_now ended"
    mid_fade = _light(desired(planner, at("2026-11-25 20:12"), state, readings), "sofa")
    state, _ = press(planner, "calm_now", at("2026-11-25 20:12"), state, readings)
    again = _light(desired(planner, at("2026-11-25 20:12"), state, readings), "sofa")
    assert again.brightness == pytest.approx(mid_fade.brightness, abs=0.01)


def test_a_manual_change_is_left_alone_until_the_next_ritual() -> None:
    tea = {"at": "07:00", "duration": "30min", "scene": "evening", "fade": "1min"}
    cfg = home_config(
        rituals={"evening": EVENING, "tea": tea}, settings={"override_timeout": "12h"}
    )
    planner = Planner(cfg)
    readings = _readings(sofa=LightState(0))
    state, _ = advance(planner, at("2026-11-25 19:00"), RuntimeState(), readings)
    state, message = set_override(
        cfg, state, "sofa", frozenset({Attribute.BRIGHTNESS}), at("2026-11-25 19:30")
    )
    assert "left alone" in message
    target = desired(planner, at("2026-11-25 19:45"), state, readings)["sofa"]
    assert isinstance(target, LightTarget)
    assert target.keep_brightness
    assert not target.keep_kelvin  # a person who only dimmed keeps the colour following
    # Turning it off by hand wins over the running fade: the light gets nothing at all.
    state, _ = set_override(
        cfg, state, "sofa", frozenset({Attribute.POWER}), at("2026-11-25 19:50")
    )
    assert "sofa" not in desired(planner, at("2026-11-25 19:55"), state, readings)
    # The next ritual touching it takes it back, fading from how the person left it.
    left = _readings(sofa=LightState(10, 2700))
    state, _ = advance(planner, at("2026-11-25 22:00"), state, left)
    state, _ = advance(planner, at("2026-11-26 07:00"), state, left)
    assert state.holds["sofa"].override is None
    resumed = _light(desired(planner, at("2026-11-26 07:00"), state, left), "sofa")
    assert resumed == LightState(10, 2700)


def test_an_override_times_out_and_cocoon_takes_over_gently() -> None:
    cfg = home_config(rituals={"evening": EVENING}, settings={"override_timeout": "30min"})
    planner = Planner(cfg)
    readings = _readings(sofa=LightState(35, 2200))
    state, _ = advance(planner, at("2026-11-25 19:00"), RuntimeState(), readings)
    state, _ = set_override(
        cfg, state, "sofa", frozenset({Attribute.POWER}), at("2026-11-25 20:00")
    )
    assert next_wakeup(planner, at("2026-11-25 20:00"), state, readings) == at("2026-11-25 20:30")
    person = _readings(sofa=LightState(90, 5000))
    state, notes = advance(planner, at("2026-11-25 20:30"), state, person)
    assert "sofa: manual override timed out, cocoon takes it back" in notes
    assert _light(desired(planner, at("2026-11-25 20:30"), state, person), "sofa") == LightState(
        90, 5000
    )
    assert _light(desired(planner, at("2026-11-25 20:33"), state, person), "sofa") == LightState(
        35, 2200
    )


def test_hands_off_pauses_everything_and_resumes_from_where_things_are() -> None:
    cfg = home_config(rituals={"evening": EVENING})
    planner = Planner(cfg)
    readings = _readings(sofa=LightState(35, 2200))
    state, _ = advance(planner, at("2026-11-25 19:00"), RuntimeState(), readings)
    state, _ = pause(state, at("2026-11-25 20:00"))
    assert desired(planner, at("2026-11-25 20:30"), state, readings) == {}
    moved = _readings(sofa=LightState(100, 6000))
    state, message = resume(cfg, state, at("2026-11-25 21:00"), moved)
    assert "takes over again" in message
    assert _light(desired(planner, at("2026-11-25 21:00"), state, moved), "sofa") == LightState(
        100, 6000
    )


def test_a_ritual_missed_while_down_runs_late_only_within_grace() -> None:
    tea = {"at": "19:00", "duration": "3h", "scene": "evening", "fade": "40min"}
    planner = Planner(home_config(rituals={"tea": tea}))
    late, notes = advance(planner, at("2026-11-25 19:08"), RuntimeState(), _readings())
    assert notes == ["ritual tea started, until 22:00"]
    assert late.runs["tea"].start == at("2026-11-25 19:08")  # fades in from now
    missed, notes = advance(planner, at("2026-11-25 19:30"), RuntimeState(), _readings())
    assert notes == ["ritual tea missed by 30 min (grace 10min): skipped today"]
    assert desired(planner, at("2026-11-25 19:31"), missed, _readings()) == {}
    # A restart mid-ritual (the run was persisted) carries on.
    carried, notes = advance(planner, at("2026-11-25 21:00"), late, _readings())
    assert notes == []
    assert "sofa" in desired(planner, at("2026-11-25 21:00"), carried, _readings())


def test_a_window_that_passed_whole_since_the_last_look_is_noted_as_missed() -> None:
    planner = Planner(home_config(rituals={"evening": EVENING}))
    since = at("2026-11-25 18:00")
    state, notes = advance(planner, at("2026-11-25 23:00"), RuntimeState(), _readings(), since)
    assert notes == ["ritual evening missed by 240 min (grace 10min): skipped today"]
    assert state.runs["evening"].missed
    _, again = advance(planner, at("2026-11-25 23:05"), state, _readings(), at("2026-11-25 23:00"))
    assert again == []
    # Without knowing when it last looked (a first start), a past window says nothing.
    _, quiet = advance(planner, at("2026-11-25 23:00"), RuntimeState(), _readings())
    assert quiet == []


def test_a_step_back_of_the_wall_clock_carries_on_what_had_started() -> None:
    calm_now = {"scene": "calm", "duration": "1h", "fade": "20min"}
    planner = Planner(home_config(rituals={"evening": EVENING}, calm_modes={"calm_now": calm_now}))
    readings = _readings(sofa=LightState(80, 4000))
    seen = at("2026-11-25 19:20")
    state, _ = advance(planner, at("2026-11-25 19:00"), RuntimeState(), readings)
    state, _ = press(planner, "calm_now", at("2026-11-25 19:10"), state, readings)
    before = desired(planner, seen, state, readings)
    stepped = rewind(state, seen, at("2026-11-25 18:20"))
    # The same looks at the earlier wall-clock instant: nothing replays or jumps.
    assert desired(planner, at("2026-11-25 18:20"), stepped, readings) == before
    assert stepped.runs["evening"].start == at("2026-11-25 18:00")
    assert stepped.runs["evening"].end == at("2026-11-25 22:00")  # its window is wall clock
    calm = state.calm["calm_now"]
    assert stepped.calm["calm_now"].end - stepped.calm["calm_now"].start == calm.end - calm.start
    # A ritual that had ended before the step stays ended.
    ended = rewind(state, at("2026-11-25 23:30"), at("2026-11-25 22:30"))
    assert ended.runs["evening"].end == at("2026-11-25 21:00")
    assert "sofa" not in desired(planner, at("2026-11-25 22:30"), ended, readings)


def test_a_thirsty_plant_gets_a_soft_cue_inside_its_ritual_once() -> None:
    cfg = home_config(
        rituals={"tea": {"at": "07:15", "duration": "20min", "scene": "tea", "fade": "1min"}},
        plants={
            "fern": {
                "moisture": {"sensor": "soil", "below": 25},
                "cue": {"during": "tea", "light": "desk", "brightness": 15, "kelvin": 5000},
            }
        },
    )
    planner = Planner(cfg)
    dry = Readings(
        lights_off().devices,
        {("soil", "moisture"): SensorReading("moisture", 12, at("2026-11-25 06:00"))},
    )
    state, notes = advance(planner, at("2026-11-25 07:15"), RuntimeState(), dry)
    assert "plant fern: thirsty" in notes
    assert state.runs["tea"].cues == ("fern",)
    cue = desired(planner, at("2026-11-25 07:17"), state, dry)["desk"]
    assert isinstance(cue, LightTarget)
    assert cue.state == LightState(15, 5000)
    after = _light(desired(planner, at("2026-11-25 07:25"), state, dry), "desk")
    assert after == LightState(40, 2400)


def test_plant_status_has_hysteresis_and_reports_stale_sensors() -> None:
    cfg = home_config(plants={"fern": {"moisture": {"sensor": "soil", "below": 25}}})
    planner = Planner(cfg)

    def reading(value: float, when: str) -> Readings:
        return Readings({}, {("soil", "moisture"): SensorReading("moisture", value, at(when))})

    state, _ = advance(
        planner, at("2026-11-25 08:00"), RuntimeState(), reading(24, "2026-11-25 08:00")
    )
    assert state.plants["fern"].needs_care
    state, _ = advance(planner, at("2026-11-25 09:00"), state, reading(27, "2026-11-25 09:00"))
    assert state.plants["fern"].needs_care  # 27 is not yet 25 + 5
    state, _ = advance(planner, at("2026-11-25 10:00"), state, reading(31, "2026-11-25 10:00"))
    assert not state.plants["fern"].needs_care
    state, notes = advance(planner, at("2026-11-26 10:01"), state, reading(31, "2026-11-25 10:00"))
    assert state.plants["fern"].stale == {"moisture"}
    assert not state.plants["fern"].needs_care
    assert notes == ["plant fern: moisture sensor silent"]


def test_next_wakeup_is_idle_until_the_next_boundary() -> None:
    planner = Planner(home_config(rituals={"evening": EVENING}))
    state = RuntimeState()
    assert next_wakeup(planner, at("2026-11-25 12:00"), state, _readings()) == at(
        "2026-11-25 19:00"
    )
    state, _ = advance(planner, at("2026-11-25 19:00"), state, _readings())
    step = next_wakeup(planner, at("2026-11-25 19:00"), state, _readings())
    assert timedelta(seconds=1) <= step - at("2026-11-25 19:00") <= timedelta(seconds=30)
    assert next_wakeup(planner, at("2026-11-25 20:00"), state, _readings()) == at(
        "2026-11-25 22:00"
    )


def test_a_fade_from_off_turns_the_light_on_gently_with_its_colour() -> None:
    planner = Planner(home_config(rituals={"evening": EVENING}))
    readings = _readings(sofa=LightState(0))
    state, _ = advance(planner, at("2026-11-25 19:00"), RuntimeState(), readings)
    now = at("2026-11-25 19:00")
    step = next_wakeup(planner, now, state, readings)
    first = _light(desired(planner, step, state, follow(readings, {}, now)), "sofa")
    assert 0 < first.brightness <= 5
    assert first.kelvin == 2200
