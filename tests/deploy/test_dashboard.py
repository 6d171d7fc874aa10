"""deploy/dashboard.yaml uses only what cocoon announces for the example home, and has
the cards it promises. (test_dashboard_browser.py clicks it in a real browser.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from cocoon.adapters.discovery import entities
from cocoon.adapters.topics import Topics
from cocoon.config.load import load_config

from .example import DASHBOARD, EXAMPLE, dashboard_entity_ids

NODE = "cocoon_brussels_flat"


def _dashboard() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DASHBOARD.read_text(encoding="utf-8"))
    return data


def _cards(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for view in dashboard["views"]:
        stack = list(view["cards"])
        while stack:
            card = stack.pop(0)
            yield card
            stack.extend(card.get("cards", []))


def announced() -> set[str]:
    """The entity ids cocoon announces for config/cocoon.yaml (discovery object ids)."""
    cfg = load_config(EXAMPLE)
    return {
        f"{entity.component}.{entity.object_id}" for entity in entities(cfg, Topics.for_config(cfg))
    }


def test_the_example_home_is_the_dashboards_home() -> None:
    assert Topics.for_config(load_config(EXAMPLE)).node_id == NODE


def test_every_entity_on_the_dashboard_is_announced_by_cocoon() -> None:
    used = set(dashboard_entity_ids(_dashboard()))
    assert used
    assert used <= announced(), used - announced()


def test_the_dashboard_shows_what_a_person_needs() -> None:
    used = set(dashboard_entity_ids(_dashboard()))
    for entity in (
        f"select.{NODE}_mode",
        f"switch.{NODE}_hands_off",
        f"sensor.{NODE}_next_ritual",
        f"sensor.{NODE}_plants_needing_care",
        f"sensor.{NODE}_active_scene",
        f"binary_sensor.{NODE}_plant_monstera",
        f"binary_sensor.{NODE}_plant_basil",
    ):
        assert entity in used, entity


def test_calm_now_is_a_large_button_that_presses_at_one_tap() -> None:
    calm = f"button.{NODE}_calm_calm_now"
    cards = list(_cards(_dashboard()))
    first = cards[0]
    assert first["type"] == "button"
    assert first["entity"] == calm
    assert first["name"] == "Calm now"
    assert int(first["icon_height"].removesuffix("px")) >= 120
    # `call-service` is what the 2024.3 frontend knows (later ones still accept it).
    assert first["tap_action"] == {
        "action": "call-service",
        "service": "button.press",
        "target": {"entity_id": calm},
    }
    assert "confirmation" not in first["tap_action"]
