"""What the demo's live view says, read as a newcomer reads it, at the size of a terminal."""

from __future__ import annotations

import io
import logging
import re
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cocoon.adapters.simulator import Zigbee2MqttSimulator
from cocoon.app import Daemon
from cocoon.config.load import load_config
from cocoon.core.events import LightReport, Press, SensorReport, Wake
from cocoon.core.model import LightState
from cocoon.demo.feed import Feed
from cocoon.demo.home import display_names, simulated_config
from cocoon.demo.screen import Live
from cocoon.demo.snapshot import Snapshots, reading_words
from cocoon.demo.view import Frame, render
from tests.fakes import FakeClock

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "cocoon.yaml"
BRUSSELS = ZoneInfo("Europe/Brussels")
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
FOOTER = "Ctrl-C ends the demo"


class Home:
    """The example home as the demo runs it, on a broker that is never reached.

    Nothing connects: the daemon's engine is driven by handing it events, the
    simulated devices only hold their values, and the clock moves when told.
    """

    def __init__(self, state_dir: Path, now: datetime) -> None:
        self.cfg = simulated_config(load_config(EXAMPLE), "127.0.0.1", 1, "cocoon-demo-test")
        self.clock = FakeClock(now)
        self.daemon = Daemon(self.cfg, state_dir, clock=self.clock)
        self.daemon.engine.on_status = None  # nothing to publish to
        self.daemon.engine.driving = False  # nor to send commands to
        self.sim = Zigbee2MqttSimulator(self.cfg, "127.0.0.1", 1)
        self.feed = Feed(self.clock, BRUSSELS, names=display_names(self.cfg))
        self.snapshots = Snapshots(self.cfg, self.daemon, self.sim, self.feed, 1440)

    def cocoon_reads(self, value: float) -> None:
        """The monstera's sensor reports `value` and cocoon takes it in."""
        self.daemon.engine.handle(SensorReport("monstera_moisture", "moisture", value))

    def frame(self) -> Frame:
        return self.snapshots.frame()


def _line(text: str, start: str) -> str:
    [line] = [line for line in text.splitlines() if line.lstrip(" ✿≋").startswith(start)]
    return line


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path, datetime(2026, 11, 25, 12, 0, tzinfo=BRUSSELS))


def test_a_plant_line_tells_what_cocoon_knows_even_when_the_sensor_already_says_more(
    home: Home,
) -> None:
    home.cocoon_reads(13.0)
    # Watered: the sensor reads 48 %, and cocoon has not taken that in yet.
    home.sim.set_reading("monstera_soil_moisture", "soil_moisture", 48.0)
    text = render(home.frame(), colour=False)
    monstera = _line(text, "Monstera")
    assert monstera.endswith("Monstera         thirsty · moisture 13 % (below 25 %)")
    assert "48" not in text
    # Once cocoon has it, words and number move together.
    home.cocoon_reads(48.0)
    monstera = _line(render(home.frame(), colour=False), "Monstera")
    assert monstera.endswith("fine · moisture 48 % (thirsty below 25 %)")


def test_a_plant_coming_back_says_where_it_will_be_fine_again(home: Home) -> None:
    home.cocoon_reads(13.0)
    home.cocoon_reads(27.0)  # above 25 %, not yet past the 5 % hysteresis
    monstera = _line(render(home.frame(), colour=False), "Monstera")
    assert monstera.endswith("thirsty · moisture 27 % (fine again at 30 % or more)")


def test_a_reading_names_the_bound_it_passed_or_the_ones_that_would_matter() -> None:
    cfg = load_config(EXAMPLE)
    moisture = cfg.plants["monstera"].moisture
    assert moisture is not None
    warm = moisture.model_copy(update={"below": 12.0, "above": 30.0, "hysteresis": 2.0})
    assert reading_words("temperature", warm, 31.5, True) == "temperature 31.5 °C (above 30 °C)"
    assert reading_words("temperature", warm, 29.0, True) == (
        "temperature 29 °C (fine again at 28 °C or less)"
    )
    assert reading_words("temperature", warm, 20.0, False) == (
        "temperature 20 °C (too cold below 12 °C, too hot above 30 °C)"
    )


def test_a_plant_not_heard_from_since_the_start_is_waiting_not_silent(home: Home) -> None:
    home.cocoon_reads(40.0)  # the monstera reports; the basil has not yet
    basil = _line(render(home.frame(), colour=False), "Basil")
    assert basil.endswith("Basil            no moisture reading yet")


def test_a_plant_whose_sensor_went_silent_shows_when_it_last_heard(home: Home) -> None:
    home.cocoon_reads(40.0)
    home.clock.moment += timedelta(days=2)
    home.daemon.engine.handle(SensorReport("basil_sensor", "moisture", 40.0))
    monstera = _line(render(home.frame(), colour=False), "Monstera")
    assert monstera.endswith("moisture sensor silent · moisture 40 % (last heard 12:00)")


def _busy(home: Home) -> Frame:
    """A frame of the example home with a full feed, the lights in the morning tea."""
    for text in [
        "ritual night joined where it stands: in force since 22:30, until 08:14",
        "plant monstera: thirsty",
        "ritual morning_tea started, until 07:35, cue for monstera",
        "calm_now pressed: 2 lights, ends 12:45",
        "plant monstera: fine",
        "calm_now is over: everything it changed is given back",
        "ritual evening started, until 22:30",
    ]:
        home.feed.note(text)
    home.cocoon_reads(13.0)
    return home.frame()


def _visible(text: str) -> list[str]:
    return [ESCAPE.sub("", line) for line in text.split("\n")]


@pytest.mark.parametrize("colour", [False, True])
def test_the_view_fits_a_terminal_of_80_by_24_with_its_help_line_whole(
    home: Home, colour: bool
) -> None:
    lines = _visible(render(_busy(home), colour=colour, width=80, height=24))
    assert len(lines) <= 24
    assert max(len(line) for line in lines) <= 80
    assert not any(line.endswith("…") for line in lines)
    assert lines[-1] == FOOTER
    # Every room shows whole, and the latest decisions (at least two) under them.
    for name in ["Sofa lamp", "Bedroom ceiling", "Counter lamp", "Basil", "Monstera"]:
        assert any(name in line for line in lines), name
    assert "  12:00  ritual Evening started, until 22:30" in lines
    assert "  12:00  Calm now is over: everything it changed is given back" in lines


@pytest.mark.parametrize(("width", "height"), [(60, 16), (40, 10), (30, 3), (80, 1)])
def test_a_smaller_terminal_gets_a_cut_view_that_still_ends_with_the_help_line(
    home: Home, width: int, height: int
) -> None:
    lines = _visible(render(_busy(home), colour=True, width=width, height=height))
    assert len(lines) <= height
    assert max(len(line) for line in lines) <= width
    assert lines[-1] == FOOTER
    assert lines[0].startswith("cocoon demo" if height > 1 else "Ctrl-C")


def test_a_narrow_view_shortens_the_bars_before_cutting_numbers(home: Home) -> None:
    lines = _visible(render(_busy(home), colour=False, width=50, height=40))
    [bedside] = [line for line in lines if "Bedside lamp" in line]
    assert bedside.endswith("off")
    assert max(len(line) for line in lines if "lamp" in line) <= 50


def test_the_live_screen_draws_within_the_terminal(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "24")
    out = io.StringIO()
    Live(out).show(_busy(home), [])
    drawn = _visible(out.getvalue())
    assert len(drawn) == 24
    assert max(len(line) for line in drawn) <= 80
    assert drawn[-1] == FOOTER


def test_the_feed_names_things_as_the_view_does_and_leaves_out_what_devices_can_do(
    home: Home, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cocoon.runtime.engine")
    engine = logging.getLogger("cocoon.runtime.engine")
    engine.addHandler(home.feed)
    try:
        engine.info("%s can show %s", "sofa_lamp", "dims, 2203–6536 K, colours")
        engine.info("ritual morning_tea started, until 07:35, cue for monstera")
        engine.info("calm_now pressed: 2 lights, ends 12:45")
        engine.info("plant basil: thirsty")
    finally:
        engine.removeHandler(home.feed)
    assert home.feed.latest() == (
        "12:00  ritual Morning tea started, until 07:35, cue for Monstera",
        "12:00  Calm now pressed: 2 lights, ends 12:45",
        "12:00  plant Basil: thirsty",
    )


def test_a_calm_mode_past_its_end_is_fading_out_not_until_a_time_gone_by(home: Home) -> None:
    lamps = [LightReport(lamp, LightState(60.0, 2700.0)) for lamp in ("sofa_lamp", "floor_lamp")]
    home.daemon.engine.handle(*lamps)
    home.daemon.engine.handle(Press("calm_now"))
    home.clock.moment += timedelta(minutes=2)
    home.daemon.engine.handle(Wake("fade step"))
    assert "  now   Calm now until 12:45" in render(home.frame(), colour=False).splitlines()
    # The status was drawn at 12:02; the clock has gone past the end since.
    home.clock.moment += timedelta(minutes=44)
    assert "  now   Calm now (fading out)" in render(home.frame(), colour=False).splitlines()


def test_a_next_ritual_whose_time_came_is_starting_now_not_at_a_time_gone_by(
    tmp_path: Path,
) -> None:
    early = Home(tmp_path, datetime(2026, 11, 25, 7, 10, tzinfo=BRUSSELS))
    early.cocoon_reads(40.0)
    assert "  next  Morning tea at 07:15" in render(early.frame(), colour=False).splitlines()
    early.clock.moment += timedelta(minutes=6)
    lines = render(early.frame(), colour=False).splitlines()
    assert "  next  Morning tea, starting now" in lines


def test_a_next_ritual_on_another_day_names_the_day_after_the_time(tmp_path: Path) -> None:
    late = Home(tmp_path, datetime(2026, 11, 25, 23, 0, tzinfo=BRUSSELS))
    late.cocoon_reads(40.0)
    assert "  next  Morning tea at 07:15 on Thu" in render(late.frame(), colour=False).splitlines()


def test_many_layers_in_force_go_on_a_second_line_rather_than_being_cut(home: Home) -> None:
    frame = _busy(home)
    active = ("Calm now until 07:40", "Monstera cue", "Morning tea until 07:35")
    frame = replace(frame, active=(*active, "Night until 08:14"))
    lines = render(frame, colour=False, width=80, height=24).splitlines()
    start = lines.index("  now   Calm now until 07:40 · Monstera cue · Morning tea until 07:35")
    assert lines[start + 1] == "        Night until 08:14"
    assert len(lines) <= 24
    assert lines[-1] == FOOTER
