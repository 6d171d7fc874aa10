"""`cocoon demo`: the whole daemon on an embedded broker, and the view it draws."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cocoon.config.load import load_config
from cocoon.demo.home import calm_press_at, demo_start, simulated_config, thirsty_plant
from cocoon.demo.view import Frame, HeatLook, LightLook, PlantLook, Room, plain_line, render

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "cocoon.yaml"
BRUSSELS = ZoneInfo("Europe/Brussels")
WEDNESDAY = date(2026, 11, 25)  # morning tea is on weekdays only


def _frame() -> Frame:
    return Frame(
        home="Brussels flat",
        now=datetime(2026, 11, 25, 7, 18, tzinfo=BRUSSELS),
        speed=1440,
        sun="down, rises 08:14",
        active=("Monstera cue", "Morning tea until 07:35"),
        next_ritual="Evening at 18:00",
        rooms=(
            Room(
                "Living room",
                lights=(
                    LightLook("Sofa lamp", True, 50.0, 2200.0),
                    LightLook("Floor lamp", False, 100.0, 2700.0),
                ),
                heat=(HeatLook("Living heat", 20.5, 19.5),),
                plants=(PlantLook("Monstera", "thirsty", True, "moisture 18.5 %"),),
            ),
            Room("Kitchen", lights=(LightLook("Counter lamp", True, 0.4, 2398.0),)),
        ),
        events=("07:15  ritual morning_tea started, until 07:35, cue for monstera",),
    )


def test_the_view_shows_time_rituals_lights_heat_plants_and_decisions() -> None:
    text = render(_frame(), colour=False, width=100)
    lines = text.splitlines()
    assert lines[0] == "cocoon demo · Brussels flat · 1440× real time"
    assert lines[1] == "Wed 25 Nov 2026  07:18 · sun down, rises 08:14"
    assert "  now   Monstera cue · Morning tea until 07:35" in lines
    assert "  next  Evening at 18:00" in lines
    assert "  [] Sofa lamp     ##########..........   50 %  2200 K" in lines
    assert "     Floor lamp    ....................  off" in lines
    assert "  ≋  Living heat   set to 20.5 °C  (room 19.5 °C)" in lines
    [plant] = [line for line in lines if "Monstera " in line and "thirsty" in line]
    assert plant.endswith("thirsty · moisture 18.5 %")
    # A glow under 1 % is shown as light, not as 0 %; mireds come back as 2398 K.
    [counter] = [line for line in lines if "Counter lamp" in line]
    assert counter.endswith("#...................  0.4 %  2400 K")
    assert lines.index("Living room") < lines.index("Kitchen") < lines.index("What cocoon decided")
    assert "  07:15  ritual morning_tea started, until 07:35, cue for monstera" in lines
    assert lines[-1] == "Ctrl-C ends the demo"
    assert "\x1b" not in text


def test_the_coloured_view_paints_each_light_by_its_colour_temperature() -> None:
    text = render(_frame(), colour=True, width=100, footer="")
    [sofa] = [line for line in text.splitlines() if "Sofa lamp" in line]
    # 2200 K is a warm orange, shaded for 50 %: red over green over blue (24-bit colour).
    start = sofa.index("\x1b[38;2;") + len("\x1b[38;2;")
    red, green, blue = (int(part) for part in sofa[start : sofa.index("m", start)].split(";"))
    assert red > green > blue > 0
    assert red < 255  # dimmer than a light at full brightness
    assert "Ctrl-C" not in text


def test_a_plain_line_sums_up_the_frame() -> None:
    assert plain_line(_frame()) == (
        "07:18  sun down, rises 08:14 · now: Monstera cue, Morning tea until 07:35"
        " · lights: Sofa lamp 50% 2200K, Counter lamp 0.4% 2400K"
        " · heat: Living heat 20.5°C · plants: Monstera thirsty"
    )


def test_the_example_home_is_simulated_entirely_on_the_demo_broker() -> None:
    cfg = load_config(EXAMPLE)
    home = simulated_config(cfg, "127.0.0.1", 18830, "cocoon-demo-test")
    assert home.home_assistant is None
    assert home.mqtt is not None
    assert (home.mqtt.host, home.mqtt.port, home.mqtt.username) == ("127.0.0.1", 18830, None)
    assert home.mqtt.password is None
    assert all(device.entity is None for device in home.devices.values())
    assert home.devices["sofa_lamp"].zigbee2mqtt == "sofa"
    assert home.devices["living_heat"].kind == "thermostat"
    assert home.devices["floor_lamp"] == cfg.devices["floor_lamp"]


def test_the_thirsty_plant_is_thirsty_before_morning_tea_and_watered_at_noon() -> None:
    home = simulated_config(load_config(EXAMPLE), "127.0.0.1", 1883, "cocoon-demo-test")
    plant = thirsty_plant(home)
    assert plant is not None
    assert (plant.plant, plant.sensor, plant.key) == (
        "monstera",
        "monstera_soil_moisture",
        "soil_moisture",
    )
    assert plant.moisture(timedelta(0)) > plant.below
    assert plant.moisture(timedelta(hours=1)) < plant.below  # 07:00, before the 07:15 tea
    assert plant.moisture(timedelta(hours=6)) > plant.below + 5  # watered, past the hysteresis


def test_calm_is_pressed_at_half_past_eight_or_late_in_a_short_run() -> None:
    cfg = load_config(EXAMPLE)
    start = demo_start(cfg, WEDNESDAY)
    assert start == datetime(2026, 11, 25, 6, 0, tzinfo=BRUSSELS)
    evening = datetime(2026, 11, 25, 20, 30, tzinfo=BRUSSELS)
    assert calm_press_at(cfg, start, timedelta(hours=24)) == evening
    assert calm_press_at(cfg, start, timedelta(hours=6)) == start + timedelta(hours=4, minutes=30)


def test_cocoon_demo_plays_a_morning_and_a_calm_press_then_stops_cleanly() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCOON_")}
    command = [sys.executable, "-m", "cocoon", "demo", "--config", str(EXAMPLE)]
    command += ["--duration", "3s", "--speed", "7200", "--no-color"]
    command += ["--date", WEDNESDAY.isoformat()]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr + out
    assert out.startswith("cocoon demo: Brussels flat, Wed 25 Nov 2026 from 06:00, 7200×")
    # The decisions name things as the configuration names them for people.
    assert "ritual Morning tea started" in out
    assert "cue for Monstera" in out  # the thirsty plant's cue shows in the morning tea
    assert 'pressed "Calm now" on the dashboard' in out
    assert re.search(r"Calm now pressed: \d+ lights", out)  # the daemon got the press
    assert "morning_tea" not in out
    assert " can show " not in out
    [summary] = [line for line in out.splitlines() if line.startswith("demo over:")]
    # At 06:00 the night (22:30 until sunrise) is in force: it is joined, not skipped.
    assert "ritual Night joined where it stands: in force since 22:30" in out
    assert "missed" not in out
    assert "rituals run: Night, Morning tea" in summary
    assert "Calm now pressed" in summary
    assert "cocoon offline" in summary
    assert "broker stopped" in summary
    assert "\x1b" not in out
    assert "Traceback" not in result.stderr


def test_the_view_fits_a_narrow_terminal() -> None:
    lines = render(_frame(), colour=False, width=40).splitlines()
    assert max(len(line) for line in lines) <= 40
    assert any(line.endswith("…") for line in lines)
    coloured = render(_frame(), colour=True, width=40).splitlines()
    # A clipped coloured line goes plain rather than leaving a colour switched on.
    assert all(len(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", line)) <= 40 for line in coloured)
    assert sum("\x1b" not in line and line.endswith("…") for line in coloured) >= 3
