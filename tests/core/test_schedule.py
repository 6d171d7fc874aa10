"""Rituals resolved to windows: DST days, polar days, windows across midnight, clamps."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cocoon.config.schema import CocoonConfig
from cocoon.core.planner import Planner
from cocoon.core.schedule import local_instant, plan_day
from cocoon.core.simulate import simulate
from cocoon.core.sun import sun_times

from .homes import BRUSSELS, at, home_config, lights_off

OSLO = ZoneInfo("Europe/Oslo")


def _ritual(**fields: object) -> dict[str, object]:
    return {"scene": "tea", "duration": "20min", **fields}


def test_spring_forward_gap_moves_to_the_end_of_the_gap() -> None:
    start = local_instant(date(2026, 3, 29), time(2, 30), BRUSSELS)
    assert start == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert start.astimezone(BRUSSELS).strftime("%H:%M %Z") == "03:00 CEST"


def test_fall_back_takes_the_first_occurrence() -> None:
    start = local_instant(date(2026, 10, 25), time(2, 30), BRUSSELS)
    assert start == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_a_0230_ritual_runs_once_at_0300_on_the_spring_forward_day() -> None:
    cfg = home_config(rituals={"early": _ritual(at="02:30")})
    windows = plan_day(cfg, date(2026, 3, 29)).windows
    assert [w.start.astimezone(BRUSSELS).strftime("%H:%M") for w in windows] == ["03:00"]
    sim = simulate(Planner(cfg), at("2026-03-28 12:00"), at("2026-03-30 00:00"))
    starts = [when for when, note in sim.notes if note.startswith("ritual early started")]
    assert [s.astimezone(BRUSSELS).strftime("%d %H:%M") for s in starts] == ["29 03:00"]


def test_a_0230_ritual_runs_once_on_the_fall_back_day() -> None:
    cfg = home_config(rituals={"early": _ritual(at="02:30")})
    sim = simulate(
        Planner(cfg), at("2026-10-24 12:00"), at("2026-10-26 00:00"), every=timedelta(seconds=30)
    )
    starts = [when for when, note in sim.notes if note.startswith("ritual early started")]
    assert starts == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC)]


def test_polar_day_sunset_falls_back_to_the_configured_time_with_a_note() -> None:
    cfg = CocoonConfig.model_validate(
        {
            "home": {
                "latitude": 69.65,
                "longitude": 18.96,
                "timezone": "Europe/Oslo",
                "polar_fallback": {"sunset": "20:30"},
            },
            "mqtt": {},
            "devices": {"lamp": {"zigbee2mqtt": "lamp"}},
            "scenes": {"evening": {"lights": {"lamp": {"brightness": 30}}}},
            "rituals": {"evening": {"at": "sunset-30min", "until": "23:00", "scene": "evening"}},
        }
    )
    plan = plan_day(cfg, date(2026, 6, 21))
    assert plan.sun.sunset is None
    assert plan.sun.polar == "polar day"
    (window,) = plan.windows
    assert window.start == datetime(2026, 6, 21, 20, 0, tzinfo=OSLO)
    assert any("polar day" in note and "20:30" in note for note in plan.notes)


def test_polar_night_is_told_apart_from_polar_day() -> None:
    cfg = CocoonConfig.model_validate(
        {
            "home": {"latitude": 69.65, "longitude": 18.96, "timezone": "Europe/Oslo"},
            "devices": {},
        }
    )
    assert sun_times(cfg.home, date(2026, 12, 21)).polar == "polar night"
    assert sun_times(cfg.home, date(2026, 3, 21)).polar is None


def test_an_evening_event_after_midnight_belongs_to_that_evening() -> None:
    cfg = CocoonConfig.model_validate(
        {"home": {"latitude": 59.91, "longitude": 10.75, "timezone": "Europe/Oslo"}, "devices": {}}
    )
    times = sun_times(cfg.home, date(2026, 6, 21))
    assert times.dusk is not None
    assert times.dawn is not None
    assert times.dusk > times.sunset  # type: ignore[operator]
    assert times.dusk.astimezone(OSLO).date() == date(2026, 6, 22)


def test_a_window_from_2230_until_sunrise_crosses_midnight() -> None:
    cfg = home_config(rituals={"night": {"at": "22:30", "until": "sunrise", "scene": "night"}})
    (window,) = plan_day(cfg, date(2026, 11, 25)).windows
    assert window.start == at("2026-11-25 22:30")
    assert window.end.astimezone(BRUSSELS).date() == date(2026, 11, 26)
    assert time(8, 0) < window.end.astimezone(BRUSSELS).time() < time(8, 30)


def test_night_ritual_is_in_force_after_midnight() -> None:
    cfg = home_config(
        rituals={"night": {"at": "22:30", "until": "sunrise", "scene": "night", "fade": "10min"}}
    )
    planner = Planner(cfg)
    sim = simulate(planner, at("2026-11-25 22:00"), at("2026-11-26 02:00"), readings=lights_off())
    last = sim.steps[-1].targets["sofa"]
    assert last.reason == "ritual night"
    assert round(last.state.brightness, 1) == 2.0  # type: ignore[union-attr]


def test_not_before_holds_a_winter_sunset_back() -> None:
    ritual = {"at": "sunset-30min", "not_before": "18:00", "until": "22:30", "scene": "evening"}
    cfg = home_config(rituals={"evening": ritual})
    (winter,) = plan_day(cfg, date(2026, 12, 21)).windows
    assert winter.start == at("2026-12-21 18:00")
    (summer,) = plan_day(cfg, date(2026, 6, 21)).windows
    assert summer.start.astimezone(BRUSSELS).time() > time(21, 0)


def test_days_select_weekdays() -> None:
    cfg = home_config(rituals={"tea": _ritual(at="07:15", days="weekdays")})
    assert plan_day(cfg, date(2026, 11, 27)).windows  # a Friday
    assert not plan_day(cfg, date(2026, 11, 28)).windows  # a Saturday
