"""The benchmark's building (bench/_building.py) is a site cocoon loads as it is written."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench._building import LATITUDE, LONGITUDE, TIMEZONE, timed_rituals, write_building

from cocoon.adapters.topics import Topics
from cocoon.config.schema import Home
from cocoon.config.site import load_site
from cocoon.core.schedule import ritual_window
from cocoon.core.sun import sun_times


def test_a_written_building_loads_as_a_site_of_its_flats(tmp_path: Path) -> None:
    site = load_site(write_building(tmp_path, 3, 1883))
    assert not site.single
    assert list(site.homes) == ["flat_000", "flat_001", "flat_002"]
    assert site.files["flat_002"] == tmp_path / "flats" / "flat_002.yaml"
    flat = site.home("flat_002")
    assert flat.settings.rate_limit == 10
    assert flat.devices["sofa_lamp"].zigbee2mqtt == "flat_002/sofa_lamp"
    assert len(flat.devices) == 8
    assert Topics.for_config(flat).button("calm_now") == "cocoon/flat_002/button/calm_now/press"


def test_the_evening_starts_when_asked_to_the_second(tmp_path: Path) -> None:
    zone = ZoneInfo(TIMEZONE)
    evening = datetime(2026, 11, 30, 9, 41, 17, tzinfo=zone)
    place = Home(latitude=LATITUDE, longitude=LONGITUDE, timezone=TIMEZONE)
    sunset = sun_times(place, evening.date()).sunset
    assert sunset is not None
    rituals = timed_rituals(evening, sunset)
    site = load_site(write_building(tmp_path, 2, 1883, rituals=rituals, devices=10))
    flat = site.home("flat_001")
    assert len(flat.devices) == 10
    window = ritual_window(flat, "evening", evening.date())
    assert abs((window.start - evening).total_seconds()) < 1
