"""Reading a site: homes in files of their own or written in the site file, each named by
its id, and every problem with the file and line it comes from."""

from __future__ import annotations

from pathlib import Path

import pytest

from cocoon.adapters.topics import Topics, home_id
from cocoon.config.load import load_config
from cocoon.config.site import load_site, read_site
from cocoon.errors import ConfigError

from .texts import HA_TOKEN, MQTT_PASSWORD, Write

ROOT = Path(__file__).resolve().parents[2]

SITE = """\
mqtt: {host: 127.0.0.1, password: !secret mqtt_password}
home_assistant: {token: !secret ha_token}
settings: {rate_limit: 4, resume_fade: 5min}
homes:
  flat_01: flats/flat_01.yaml
  flat_02:
    home: {name: Flat 2, latitude: 51.05, longitude: 3.72, timezone: Europe/Brussels}
    devices:
      lamp: {zigbee2mqtt: flat_02/lamp}
"""
FLAT = """\
home: {name: Flat 1, latitude: 51.05, longitude: 3.72, timezone: Europe/Brussels}
devices:
  lamp: {zigbee2mqtt: flat_01/lamp}
  heat: {entity: climate.flat_01, min: 16, max: 23}
"""


def _site(write: Write, site: str = SITE, flat: str = FLAT) -> Path:
    write("secrets.yaml", f"ha_token: {HA_TOKEN}\nmqtt_password: {MQTT_PASSWORD}\n")
    write("flats/flat_01.yaml", flat)
    return write("site.yaml", site)


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_site(path)
    return [str(p) for p in caught.value.problems]


def test_a_site_of_a_home_file_and_an_inline_home_loads_each_under_its_id(write: Write) -> None:
    path = _site(write)

    site = load_site(path)

    assert list(site.homes) == ["flat_01", "flat_02"]
    assert not site.single
    assert site.files == {"flat_01": path.parent / "flats/flat_01.yaml", "flat_02": path}
    flat_01, flat_02 = site.homes["flat_01"], site.homes["flat_02"]
    assert flat_01.home.id == "flat_01"
    assert flat_01.home.name == "Flat 1"
    assert flat_02.devices["lamp"].zigbee2mqtt == "flat_02/lamp"
    # The site's connections are every home's, the secrets read next to the site file.
    assert flat_01.mqtt == flat_02.mqtt == site.mqtt
    assert site.mqtt is not None
    assert site.mqtt.password is not None
    assert site.mqtt.password.get_secret_value() == MQTT_PASSWORD
    assert flat_01.home_assistant == site.home_assistant
    assert site.settings.rate_limit == 4
    assert flat_02.settings.resume_fade.total_seconds() == 300


def test_a_homes_id_is_its_key_and_names_its_topics(write: Write) -> None:
    site = load_site(_site(write))

    flat = site.homes["flat_01"]
    assert home_id(flat) == "flat_01"
    assert Topics.for_config(flat).availability == "cocoon/flat_01/status"
    assert Topics.for_config(site.homes["flat_02"]).node_id == "cocoon_flat_02"


def test_an_unnamed_flat_is_called_by_its_id(write: Write) -> None:
    flat = FLAT.replace("name: Flat 1, ", "")

    assert load_site(_site(write, flat=flat)).homes["flat_01"].home.name == "Flat 01"


def test_a_homes_settings_go_over_the_sites_key_by_key(write: Write) -> None:
    flat = FLAT + "settings: {resume_fade: 1min, max_step: 2}\n"

    cfg = load_site(_site(write, flat=flat)).homes["flat_01"]

    assert cfg.settings.resume_fade.total_seconds() == 60
    assert cfg.settings.max_step == 2
    assert cfg.settings.rate_limit == 4


def test_an_error_in_a_home_file_names_that_file_and_line(write: Write) -> None:
    flat = FLAT + "scenes:\n  warm: {lights: {lamp: {brightness: 150}}}\n"

    path = _site(write, flat=flat)

    assert _problems(path) == [
        f"{path.parent / 'flats' / 'flat_01.yaml'}:6:26: scenes.warm.lights.lamp.brightness:"
        " must be at most 100"
    ]


def test_an_error_in_an_inline_home_names_the_site_file_under_homes(write: Write) -> None:
    site = SITE.replace("lamp: {zigbee2mqtt: flat_02/lamp}", "lamp: {zigbe2mqtt: flat_02/lamp}")

    path = _site(write, site=site)

    assert _problems(path) == [
        f"{path}:9:14: homes.flat_02.devices.lamp.zigbe2mqtt: unknown key 'zigbe2mqtt'"
        " — did you mean 'zigbee2mqtt'?"
    ]


def test_a_device_in_two_homes_is_an_error_naming_both(write: Write) -> None:
    site = SITE.replace("flat_02/lamp", "flat_01/lamp")
    path = _site(write, site=site)

    (problem,) = _problems(path)

    flat_file = path.parent / "flats" / "flat_01.yaml"
    assert problem == (
        f"{path}:9:7: homes.flat_02.devices.lamp: Zigbee2MQTT device 'flat_01/lamp' is in two"
        f" homes: flat_01 (its device lamp, {flat_file}:3) and flat_02;"
        " a device belongs to one home"
    )
    with pytest.raises(ConfigError):
        read_site(path)


def test_the_same_home_assistant_entity_in_two_homes_is_an_error(write: Write) -> None:
    site = SITE + "      heat: {entity: climate.flat_01}\n"

    (problem,) = _problems(_site(write, site=site))

    assert "Home Assistant entity climate.flat_01 is in two homes: flat_01" in problem


def test_connections_in_a_home_file_belong_in_the_site_file(write: Write) -> None:
    flat = FLAT + "mqtt: {host: 10.0.0.1}\nhome_assistant: {token: x}\n"
    path = _site(write, flat=flat)
    flat_file = path.parent / "flats" / "flat_01.yaml"

    assert _problems(path) == [
        f"{flat_file}:5:1: mqtt: connections belong in the site file, once for all homes"
        " (a home names only its Zigbee2MQTT network: mqtt: {zigbee2mqtt_topic: …})",
        f"{flat_file}:6:1: home_assistant: connections belong in the site file, once for all homes",
    ]


def test_a_home_may_name_the_zigbee2mqtt_network_its_devices_are_on(write: Write) -> None:
    flat = FLAT + "mqtt: {zigbee2mqtt_topic: zigbee2mqtt_east}\n"
    site_text = SITE.replace("flat_02/lamp", "flat_01/lamp")  # the same name, another network

    site = load_site(_site(write, site=site_text, flat=flat))

    east, west = site.homes["flat_01"].mqtt, site.homes["flat_02"].mqtt
    assert east is not None
    assert west is not None
    assert (east.zigbee2mqtt_topic, west.zigbee2mqtt_topic) == ("zigbee2mqtt_east", "zigbee2mqtt")
    assert east.host == west.host == "127.0.0.1"  # the rest is the site's


def test_a_homes_network_with_a_wildcard_is_named_in_the_home_file(write: Write) -> None:
    path = _site(write, flat=FLAT + "mqtt: {zigbee2mqtt_topic: zigbee2mqtt/#}\n")

    (problem,) = _problems(path)

    assert problem.startswith(f"{path.parent / 'flats' / 'flat_01.yaml'}:5:")
    assert "mqtt.zigbee2mqtt_topic" in problem


def test_rate_limit_in_a_home_is_an_error_it_paces_the_whole_network(write: Write) -> None:
    flat = FLAT + "settings:\n  max_step: 3\n  rate_limit: 50\n"
    path = _site(write, flat=flat)

    assert _problems(path) == [
        f"{path.parent / 'flats' / 'flat_01.yaml'}:7:3: settings.rate_limit: rate_limit paces"
        " a whole Zigbee network: set it in the site file's settings"
    ]


def test_a_missing_home_file_is_named_at_its_line_in_the_site_file(write: Write) -> None:
    path = _site(write, site=SITE.replace("flats/flat_01.yaml", "flats/flat_09.yaml"))

    assert _problems(path) == [
        f"{path}:5:3: homes.flat_01: {path.parent / 'flats' / 'flat_09.yaml'}:"
        " cannot read the configuration: no such file"
    ]


def test_read_site_sets_broken_homes_apart_and_loads_the_others(write: Write) -> None:
    path = _site(write, flat=FLAT.replace("latitude: 51.05", "latitude: 951.05"))

    reading = read_site(path)

    assert list(reading.site.homes) == ["flat_02"]
    assert list(reading.site.files) == ["flat_02"]
    (problem,) = reading.broken["flat_01"].problems
    assert (Path(problem.file).name, problem.line, problem.field) == (
        "flat_01.yaml",
        1,
        "home.latitude",
    )


def test_every_problem_of_every_home_comes_at_once(write: Write) -> None:
    site = SITE.replace("zigbee2mqtt: flat_02/lamp", "zigbee2mqtt: flat_02/lamp, min: 3")
    path = _site(write, site=site, flat=FLAT.replace("latitude: 51.05", "latitude: 951.05"))

    fields = [p.split(": ")[1] for p in _problems(path)]

    assert fields == ["home.latitude", "homes.flat_02.devices.lamp"]


def test_keys_of_a_home_at_the_top_of_a_site_belong_in_a_home(write: Write) -> None:
    site = SITE + "devices: {lamp: {zigbee2mqtt: lamp}}\nhomse: {}\n"
    path = _site(write, site=site)

    assert _problems(path) == [
        f"{path}:10:1: devices: belongs in a home: in the home's file, or under homes: <id>:",
        f"{path}:11:1: homse: unknown key 'homse' — did you mean 'homes'?",
    ]


def test_home_ids_follow_the_id_pattern(write: Write) -> None:
    path = _site(write, site=SITE.replace("flat_01:", "Flat-1:"))

    (problem,) = _problems(path)

    assert problem.startswith(f"{path}:5:3: homes.Flat-1: 'Flat-1' is not a valid home id")


def test_a_site_error_in_the_site_sections_is_named_there(write: Write) -> None:
    path = _site(write, site=SITE.replace("rate_limit: 4", "rate_limit: 0"))

    assert _problems(path) == [f"{path}:3:12: settings.rate_limit: must be more than 0"]


def test_a_single_home_file_is_a_site_of_one(write: Write) -> None:
    path = write("cocoon.yaml", "mqtt: {}\n" + FLAT.replace("  heat:", "  # heat:"))

    site = load_site(path)

    assert site.single
    assert list(site.homes) == ["flat_1"]
    cfg = site.home(None)
    assert cfg.home.id is None
    assert home_id(cfg) == "flat_1"
    assert site.home("flat_1") is cfg
    assert site.files == {"flat_1": path}


def test_a_single_home_reader_says_a_site_file_is_not_one(write: Write) -> None:
    path = _site(write)

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert [str(p) for p in caught.value.problems] == [
        f"{path}:4:1: homes: a site file (homes:) holds several homes:"
        " this reads a single home's file"
    ]


def test_a_homes_id_given_in_its_file_must_be_its_key(write: Write) -> None:
    path = _site(write, flat=FLAT.replace("name: Flat 1,", "name: Flat 1, id: flat_1,"))

    (problem,) = _problems(path)

    assert problem.endswith(
        "home.id: a site's home has its key under homes: as id, here 'flat_01': leave id out"
    )


def test_a_home_is_chosen_by_its_id_and_an_unknown_one_names_the_ids(write: Write) -> None:
    site = load_site(_site(write))

    assert site.home("flat_02").home.name == "Flat 2"
    with pytest.raises(ConfigError, match=r"say which one: flat_01, flat_02"):
        site.home(None)
    with pytest.raises(ConfigError, match=r"no home 'flat_2' here .*flat_01, flat_02"):
        site.home("flat_2")


def test_shared_scenes_and_devices_come_by_include_into_several_homes(write: Write) -> None:
    write("common/scenes.yaml", "evening: {lights: {lamp: {brightness: 30, kelvin: 2200}}}\n")
    write("common/rituals.yaml", 'evening: {at: "19:00", scene: evening, duration: 2h}\n')
    flat = FLAT + "scenes: !include ../common/scenes.yaml\n"
    flat += "rituals: !include ../common/rituals.yaml\n"
    site = SITE + "    scenes: !include common/scenes.yaml\n"
    site += "    rituals: !include common/rituals.yaml\n"

    homes = load_site(_site(write, site=site, flat=flat)).homes

    assert homes["flat_01"].scenes == homes["flat_02"].scenes
    assert list(homes["flat_02"].rituals) == ["evening"]


def test_an_error_in_a_shared_file_names_that_file(write: Write) -> None:
    scenes = write("common/scenes.yaml", "evening: {lights: {lamp: {brightnes: 30}}}\n")
    flat = FLAT + "scenes: !include ../common/scenes.yaml\n"

    with pytest.raises(ConfigError) as caught:
        load_site(_site(write, flat=flat))

    (problem,) = caught.value.problems
    assert Path(problem.file).resolve() == scenes.resolve()
    assert (problem.line, problem.field) == (1, "scenes.evening.lights.lamp.brightnes")


def test_the_example_site_loads(write: Write) -> None:
    del write
    site = load_site(ROOT / "config" / "site" / "site.yaml")

    assert list(site.homes) == ["flat_01", "flat_02", "flat_03"]
    assert site.homes["flat_01"].scenes == site.homes["flat_03"].scenes


def test_a_home_file_reads_secrets_next_to_the_site_file(write: Write) -> None:
    path = _site(write, flat=FLAT.replace("name: Flat 1", "name: !secret mqtt_password"))

    assert load_site(path).homes["flat_01"].home.name == MQTT_PASSWORD


def test_a_home_takes_shared_rituals_and_adds_its_own_with_a_merge_key(write: Write) -> None:
    write("common/scenes.yaml", "evening: {lights: {lamp: {brightness: 30, kelvin: 2200}}}\n")
    write("common/rituals.yaml", 'evening: {at: "19:00", scene: evening, duration: 2h}\n')
    flat = FLAT + "scenes: !include ../common/scenes.yaml\n"
    flat += "rituals:\n  <<: !include ../common/rituals.yaml\n"
    flat += '  tea: {at: "16:00", scene: evening, duration: 30min}\n'

    cfg = load_site(_site(write, flat=flat)).homes["flat_01"]

    assert list(cfg.rituals) == ["evening", "tea"]


def test_a_broken_single_home_file_says_what_load_config_says(write: Write) -> None:
    flat = FLAT.replace("latitude: 51.05", "latitude: 951").replace("  heat:", "  # heat:")
    path = write("cocoon.yaml", "mqtt: {}\n" + flat)

    with pytest.raises(ConfigError) as caught:
        read_site(path)
    with pytest.raises(ConfigError) as single:
        load_config(path)

    assert caught.value.problems == single.value.problems
    assert [p.field for p in caught.value.problems] == ["home.latitude"]
