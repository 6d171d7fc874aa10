"""`cocoon dashboard`: a sections dashboard of the home's own names and cocoon's own
entity ids; deploy/dashboard.yaml is what it prints for the example home.
(test_dashboard_browser.py clicks it in a real browser; tests/ha/test_dashboard.py has a
real Home Assistant take it.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cocoon.adapters.dashboard import dashboard
from cocoon.adapters.discovery import entities
from cocoon.adapters.topics import Topics
from cocoon.cli import main
from cocoon.config.load import load_config
from cocoon.config.schema import CocoonConfig

from .example import DASHBOARD, EXAMPLE, dashboard_entity_ids

NODE = "cocoon_brussels_flat"


def _printed(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["dashboard", *args]) == 0
    return capsys.readouterr().out


def _cards(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for view in board["views"]:
        for section in view["sections"]:
            yield from section["cards"]


def _sections(board: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    (view,) = board["views"]
    return {section["title"]: section["cards"] for section in view["sections"]}


def announced(cfg: CocoonConfig) -> set[str]:
    """The entity ids cocoon's MQTT discovery gives the home's entities."""
    return {entity.entity_id for entity in entities(cfg, Topics.for_config(cfg))}


def test_deploy_dashboard_yaml_is_what_cocoon_dashboard_prints_for_the_example(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert DASHBOARD.read_text(encoding="utf-8") == _printed(capsys, str(EXAMPLE)), (
        "deploy/dashboard.yaml is out of date: run "
        "`cocoon dashboard config/cocoon.yaml > deploy/dashboard.yaml`"
    )


def test_the_file_is_given_as_an_argument_or_with_config(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _printed(capsys, "--config", str(EXAMPLE)) == _printed(capsys, str(EXAMPLE))


def test_an_invalid_configuration_prints_its_problems_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cocoon.yaml"
    path.write_text("home: {name: Flat}\n", encoding="utf-8")
    assert main(["dashboard", str(path)]) == 2
    printed = capsys.readouterr()
    assert printed.out == ""
    assert f"{path}:1:1: home" in printed.err


def test_a_home_without_mqtt_has_no_entities_for_a_dashboard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cocoon.yaml"
    path.write_text(
        "home: {latitude: 50.85, longitude: 4.35, timezone: Europe/Brussels}\n"
        "home_assistant: {token: t}\n"
        "devices: {sofa: {entity: light.sofa}}\n",
        encoding="utf-8",
    )
    assert main(["dashboard", str(path)]) == 2
    printed = capsys.readouterr()
    assert printed.out == ""
    assert "add an mqtt: section" in printed.err


def test_the_printed_yaml_says_how_to_add_it_and_is_one_sections_view(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = _printed(capsys, str(EXAMPLE))
    comment = " ".join(line[2:] for line in text.splitlines() if line.startswith("# "))
    assert "Settings → Dashboards → Add dashboard" in comment
    assert "Raw configuration editor" in comment
    board = yaml.safe_load(text)
    (view,) = board["views"]
    assert view["type"] == "sections"
    assert all(section["type"] == "grid" for section in view["sections"])


def test_every_cocoon_entity_on_it_is_one_cocoon_announces() -> None:
    cfg = load_config(EXAMPLE)
    used = set(dashboard_entity_ids(dashboard(cfg)))
    own = {entity for entity in used if f".{NODE}_" in entity}
    assert own == announced(cfg)  # all of them, and nothing else
    # Besides: the Home Assistant lights, thermostat and plant sensor of the example.
    others = {d.entity for d in cfg.devices.values() if d.entity is not None}
    assert used - own == others


def test_cards_carry_the_configured_names(capsys: pytest.CaptureFixture[str]) -> None:
    board = yaml.safe_load(_printed(capsys, str(EXAMPLE)))
    names = {card["entity"]: card["name"] for card in _cards(board)}
    assert names[f"button.{NODE}_calm_calm_now"] == "Calm now"
    assert names[f"button.{NODE}_ritual_morning_tea"] == "Morning tea now"  # `name:`
    assert names[f"button.{NODE}_ritual_evening"] == "Evening now"  # from the id
    assert names[f"binary_sensor.{NODE}_plant_monstera"] == "Monstera"
    assert names["light.sofa"] == "Sofa lamp"
    assert names["climate.living_room"] == "Living heat"


def test_calm_now_is_a_large_button_that_presses_at_one_tap() -> None:
    calm = f"button.{NODE}_calm_calm_now"
    first = _sections(dashboard(load_config(EXAMPLE)))["Calm"][0]
    assert first["type"] == "button"
    assert first["entity"] == calm
    assert first["layout_options"] == {"grid_columns": 4, "grid_rows": 3}  # a whole row
    # `call-service` is what the 2024.3 frontend knows (later ones still accept it).
    assert first["tap_action"] == {
        "action": "call-service",
        "service": "button.press",
        "target": {"entity_id": calm},
    }
    assert "confirmation" not in first["tap_action"]


def _home(**changes: Any) -> CocoonConfig:
    data: dict[str, Any] = {
        "home": {"name": "Our home", "latitude": 69.65, "longitude": 18.96, "timezone": "UTC"},
        "mqtt": {},
        "home_assistant": {"token": "t"},
        "devices": {
            "reading_lamp": {"entity": "light.reading", "room": "Study", "name": "Reading"},
            "radiator": {"entity": "climate.study", "room": "Study"},
            "hall_light": {"entity": "light.hall"},
            "bulb": {"zigbee2mqtt": "bulb", "room": "Study"},
            "soil": {"zigbee2mqtt": "soil", "kind": "sensor"},
        },
        "scenes": {"calm": {"lights": {"reading_lamp": {"brightness": 20}}}},
        "calm_modes": {
            "calm_now": {"scene": "calm"},
            "breathe": {"scene": "calm", "button": "Breathe slowly"},
        },
        "plants": {"fern": {"moisture": {"sensor": "soil", "below": 30}, "name": "Little fern"}},
    }
    data.update(changes)
    return CocoonConfig.model_validate(data)


def test_a_room_per_section_and_zigbee2mqtt_devices_left_out() -> None:
    sections = _sections(dashboard(_home()))
    assert list(sections) == ["Calm", "Now", "Plants", "Study", "Lights and heating"]
    study = sections["Study"]
    assert [(c["entity"], c["name"]) for c in study] == [
        ("light.reading", "Reading"),
        ("climate.study", "Radiator"),
    ]
    assert study[0]["features"] == [{"type": "light-brightness"}]
    assert study[1]["features"] == [{"type": "target-temperature"}]
    assert [c["entity"] for c in sections["Lights and heating"]] == ["light.hall"]


def test_each_calm_mode_has_its_button_and_the_ids_follow_the_homes_name() -> None:
    calm = _sections(dashboard(_home()))["Calm"]
    assert [(c["type"], c["entity"], c["name"]) for c in calm] == [
        ("button", "button.cocoon_our_home_calm_calm_now", "Calm now"),
        ("button", "button.cocoon_our_home_calm_breathe", "Breathe slowly"),
        ("tile", "select.cocoon_our_home_mode", "Mode"),
        ("tile", "switch.cocoon_our_home_hands_off", "Hands off"),
    ]
    assert calm[2]["features"] == [{"type": "select-options"}]


def test_a_home_without_rituals_or_plants_has_no_empty_sections() -> None:
    sections = _sections(dashboard(_home(plants={})))
    assert "Rituals" not in sections
    assert "Plants" not in sections
    # No rituals, no "Next ritual" tile either.
    assert [c["name"] for c in sections["Now"]] == ["Active scene", "Problem"]


def test_the_options_of_check_live_are_not_offered(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["dashboard", "--live", str(EXAMPLE)])
    assert exited.value.code == 2
    assert "unrecognized arguments: --live" in capsys.readouterr().err
