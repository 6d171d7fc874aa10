"""The text day plan: DST days, polar days, rituals across midnight, what devices do."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from cocoon.core.model import LightState
from cocoon.core.names import layer_name
from cocoon.report import build_day, day_timeline, timeline_rows
from cocoon.report.segments import segments_of
from cocoon.report.timeline import clock

from .homes import brussels, tromso

BRUSSELS = ZoneInfo("Europe/Brussels")
SPRING_FORWARD = date(2026, 3, 29)  # a Sunday
ORDINARY = date(2026, 3, 24)  # a Tuesday


def _lines_with(text: str, *words: str) -> list[str]:
    return [line for line in text.splitlines() if all(word in line for word in words)]


def test_header_names_the_home_the_date_and_the_zone() -> None:
    text = day_timeline(brussels(), ORDINARY)
    header = text.splitlines()[0]
    assert "Brussels flat" in header
    assert "Tuesday 24 March 2026" in header
    assert "Europe/Brussels" in header
    assert "clock" not in text.lower()


def test_spring_forward_day_says_the_clocks_change() -> None:
    text = day_timeline(brussels(), SPRING_FORWARD)
    [change] = _lines_with(text, "Clock change day")
    assert "02:00" in change
    assert "forward" in change
    assert "03:00" in change
    assert "23 hours" in change


def test_fall_back_day_says_the_clocks_change() -> None:
    text = day_timeline(brussels(), date(2026, 10, 25))
    [change] = _lines_with(text, "Clock change day")
    assert "back" in change
    assert "25 hours" in change


def test_a_0230_ritual_starts_at_0300_on_the_spring_forward_day() -> None:
    view = build_day(brussels(), SPRING_FORWARD)
    [row] = [row for row in view.rituals if row.ritual == "early_tea"]
    assert row.window is not None
    assert row.window.start.astimezone(BRUSSELS).strftime("%H:%M %Z") == "03:00 CEST"
    assert row.moved is not None
    assert "02:30 does not exist" in row.moved

    text = day_timeline(brussels(), SPRING_FORWARD)
    assert _lines_with(text, "03:00 – 03:20", "Early tea", "02:30 for 20min")
    assert _lines_with(text, "02:30 does not exist today", "03:00")
    [fade_in] = _lines_with(text, "Desk", "fades off → 40 %")
    assert fade_in.strip().startswith("03:00–03:02")


def test_tromso_at_midsummer_says_polar_day_and_names_the_fallback() -> None:
    text = day_timeline(tromso(), date(2026, 6, 21))
    assert "polar day" in text
    [sun] = _lines_with(text, "sunrise")
    assert "sunrise —" in sun
    assert "sunset —" in sun
    [warning] = _lines_with(text, "!", "sunset does not happen")
    assert "home.polar_fallback.sunset" in warning
    assert "20:30" in warning
    assert _lines_with(text, "20:30 – 23:00", "Evening")
    assert _lines_with(text, "20:30–21:00", "Reading lamp", "fades off → 40 %, 2200 K")


def test_night_ritual_from_yesterday_is_in_force_at_midnight() -> None:
    cfg = brussels()
    view = build_day(cfg, ORDINARY)
    carried = [row for row in view.rituals if row.status == "yesterday"]
    assert [row.ritual for row in carried] == ["night"]

    rows = [row for row in timeline_rows(view) if row.device == "sofa"]
    assert rows[0].start == "00:00"
    assert rows[0].reason == "Night"
    assert rows[0].action == "holds 5 %, 2000 K"

    text = day_timeline(cfg, ORDINARY)
    assert _lines_with(text, "Night", "from yesterday, in force at 00:00")
    assert _lines_with(text, "00:00–", "Sofa", "holds 5 %, 2000 K", "(Night)")


def test_a_ritual_begun_yesterday_morning_still_holds_at_midnight() -> None:
    cfg = brussels(
        rituals={"long_day": {"at": "09:00", "duration": "17h", "scene": "tea", "fade": "2min"}}
    )
    rows = [row for row in timeline_rows(build_day(cfg, ORDINARY)) if row.device == "desk"]
    assert (rows[0].start, rows[0].end, rows[0].action) == ("00:00", "02:00", "holds 40 %, 2400 K")
    assert all(row.segment.start.second == 0 for row in rows if row.start != "00:00")


def test_each_device_says_what_it_does_and_why() -> None:
    view = build_day(brussels(), ORDINARY)
    [evening] = [w for w in view.windows() if w.ritual == "evening" and w.day == ORDINARY]
    begins = evening.start.astimezone(BRUSSELS)
    assert begins == (view.sun.sunset - timedelta(minutes=30)).astimezone(BRUSSELS)
    faded = begins + timedelta(minutes=45)
    text = day_timeline(brussels(), ORDINARY)
    [fade_in] = _lines_with(text, "Sofa", "fades off → 35 %, 2200 K", "(Evening)")
    when = f"{clock(begins, ORDINARY, BRUSSELS)}–{clock(faded, ORDINARY, BRUSSELS)}"
    assert fade_in.strip().startswith(when)
    assert _lines_with(text, "Sofa", "holds 35 %, 2200 K", "(Evening)")
    assert _lines_with(text, "22:30–23:00", "Sofa", "fades 35 % → 5 %, 2200 K → 2000 K")
    assert _lines_with(text, f"at {when[:5]}", "Heat", "→ 20.5 °C (+0.5)", "(Evening)")
    assert _lines_with(text, "07:15–07:17", "Desk", "fades off → 40 %, 2400 K")


def test_a_fade_out_ends_off_and_the_next_fade_starts_from_off() -> None:
    # The give-back's last instant falls between two minutes; the light must still
    # be seen reaching what it was (off), not stay at the last fade step.
    rows = [row for row in timeline_rows(build_day(brussels(), ORDINARY)) if row.device == "sofa"]
    ending = [row for row in rows if row.reason == "Night ending"]
    assert [row.action for row in ending] == ["fades 5 % → off, 2000 K"]
    evening = [row for row in rows if row.reason == "Evening" and "fades" in row.action]
    assert evening[0].action.startswith("fades off → 35 %")


def test_rituals_not_on_this_weekday_say_not_today() -> None:
    text = day_timeline(brussels(), SPRING_FORWARD)
    [line] = _lines_with(text, "Weekday tea")
    assert "not today" in line
    assert "weekdays" in line
    assert not _lines_with(day_timeline(brussels(), ORDINARY), "not today")


def test_devices_are_grouped_by_room() -> None:
    lines = day_timeline(brussels(), ORDINARY).splitlines()
    assert "Living room" in lines
    assert "Bedroom" in lines
    bedroom = lines.index("Bedroom")
    assert all("Bedside" not in line for line in lines[:bedroom])
    assert all("Sofa" not in line for line in lines[bedroom:])


def test_a_device_no_ritual_touches_is_said_to_be_left_alone() -> None:
    cfg = brussels(
        devices={
            "sofa": {"zigbee2mqtt": "sofa"},
            "desk": {"zigbee2mqtt": "desk"},
            "bedside": {"zigbee2mqtt": "bedside"},
            "heat": {"zigbee2mqtt": "radiator", "kind": "thermostat"},
            "spare": {"zigbee2mqtt": "spare"},
        }
    )
    text = day_timeline(cfg, ORDINARY)
    assert _lines_with(text, "Left alone all day", "Spare")
    assert "Living room" not in text


def test_samples_fold_into_holds_and_fades() -> None:
    start = datetime(2026, 3, 24, 18, 0, tzinfo=BRUSSELS)
    looks = [0.0, 10.0, 20.0, 30.0, 30.0, 30.0, 30.0, None]
    samples = [
        (
            start + timedelta(minutes=i),
            None if b is None else LightState(b, 2200),
            "" if b is None else "ritual evening",
        )
        for i, b in enumerate(looks)
    ]
    segments = segments_of("sofa", samples)
    assert [(s.moving, s.length) for s in segments] == [
        (True, timedelta(minutes=3)),
        (False, timedelta(minutes=3)),
    ]
    assert segments[0].first == LightState(0.0, 2200)
    assert segments[0].last == LightState(30.0, 2200)


def test_the_plan_names_devices_and_rituals_as_configured_not_by_id() -> None:
    cfg = brussels(
        devices={
            "sofa_lamp": {"zigbee2mqtt": "sofa", "name": "Reading light", "room": "Living room"},
            "desk_lamp": {"zigbee2mqtt": "desk", "room": "Living room"},
            "living_heat": {"zigbee2mqtt": "radiator", "kind": "thermostat"},
        },
        scenes={
            "evening": {
                "lights": {"sofa_lamp": {"brightness": 35}, "desk_lamp": {"brightness": 20}},
                "heat": {"living_heat": 21.5},
            }
        },
        rituals={
            "evening_in": {
                "name": "Winding down",
                "at": "18:00",
                "until": "22:00",
                "scene": "evening",
                "fade": "30min",
            }
        },
    )
    text = day_timeline(cfg, ORDINARY)
    devices = text[text.index("Living room") :]
    assert _lines_with(devices, "Reading light", "fades off → 35 %", "(Winding down)")
    assert _lines_with(devices, "Desk lamp", "fades off → 20 %", "(Winding down)")
    assert _lines_with(devices, "Living heat", "→ 21.5 °C", "(Winding down)")
    assert _lines_with(text, "18:00 – 22:00", "Winding down", "scene Evening")
    for ident in ("sofa_lamp", "desk_lamp", "living_heat", "evening_in", "(ritual "):
        assert ident not in text


def test_layers_read_as_the_names_of_what_they_come_from() -> None:
    cfg = brussels(
        devices={
            "sofa": {"zigbee2mqtt": "sofa"},
            "heat": {"zigbee2mqtt": "radiator", "kind": "thermostat"},
            "monstera_soil": {"zigbee2mqtt": "monstera", "kind": "sensor"},
        },
        scenes={"calm": {"lights": {"sofa": {"brightness": 20}}}},
        rituals={"morning_tea": {"at": "07:15", "duration": "20min", "scene": "calm"}},
        calm_modes={
            "calm_now": {"scene": "calm", "button": "Breathe"},
            "quiet_hour": {"scene": "calm"},
        },
        plants={"monstera": {"moisture": {"sensor": "monstera_soil", "below": 25}}},
    )
    assert layer_name(cfg, "ritual morning_tea") == "Morning tea"
    assert layer_name(cfg, "ritual morning_tea ending") == "Morning tea ending"
    assert layer_name(cfg, "ritual morning_tea, taking over again") == (
        "Morning tea, taking over again"
    )
    assert layer_name(cfg, "calm_now") == "Breathe"
    assert layer_name(cfg, "quiet_hour (held within 16–23)") == "Quiet hour (held within 16–23)"
    assert layer_name(cfg, "plant monstera cue") == "Monstera cue"
    assert layer_name(cfg, "back to how it was") == "back to how it was"
    assert layer_name(cfg, "ritual gone_now") == "ritual gone_now"


def test_a_setpoint_is_a_step_at_its_instant_not_a_span() -> None:
    cfg = brussels(
        scenes={"warm": {"lights": {"sofa": {"brightness": 35}}, "heat": {"heat": 21.5}}},
        rituals={
            "evening": {"at": "18:00", "until": "22:00", "scene": "warm", "fade": "30min"},
        },
    )
    text = day_timeline(cfg, ORDINARY)
    heat = _lines_with(text, "Heat", "°C")
    assert [line.split()[:2] for line in heat] == [["at", "18:00"], ["at", "22:00"]]
    assert "→ 21.5 °C" in heat[0]
    assert "(Evening)" in heat[0]
    assert "→ 20 °C" in heat[1]
    assert "(back to how it was)" in heat[1]
    assert all("–" not in line.split("(")[0] for line in heat)
    # The light beside it still fades over a span.
    assert _lines_with(text, "18:00–18:30", "Sofa", "fades off → 35 %")
