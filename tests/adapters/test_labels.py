"""The names Home Assistant shows for cocoon's ids, and back."""

from __future__ import annotations

import pytest

from cocoon.adapters.labels import active_label, mode_from_option, mode_label, mode_options

from ..core.homes import home_config

CFG = home_config(
    calm_modes={
        "calm_now": {"scene": "calm"},
        "deep_calm": {"scene": "calm", "button": "Very calm"},
    },
    rituals={"tea": {"at": "07:15", "duration": "20min", "scene": "evening", "name": "Tea"}},
    plants={"fern": {"moisture": {"sensor": "soil", "below": 30}, "name": "Little fern"}},
)


def test_the_options_are_off_then_each_calm_mode_by_name() -> None:
    assert mode_options(CFG) == ["Off", "Calm now", "Very calm"]
    assert mode_label(CFG, "off") == "Off"
    assert mode_label(CFG, "deep_calm") == "Very calm"


@pytest.mark.parametrize(
    ("sent", "mode"),
    [
        ("Off", "off"),
        ("off", "off"),
        ("OFF", "off"),
        ("Calm now", "calm_now"),
        ("calm_now", "calm_now"),
        ("Very calm", "deep_calm"),
        ("deep_calm", "deep_calm"),
        ("Deep calm", None),  # the id made readable is not its name: it has one
        ("party", None),
    ],
)
def test_an_option_or_an_id_is_read_back_as_the_id(sent: str, mode: str | None) -> None:
    assert mode_from_option(CFG, sent) == mode


@pytest.mark.parametrize(
    ("active", "shown"),
    [
        ("none", "Nothing"),
        ("calm_now", "Calm now"),
        ("deep_calm, ritual tea", "Very calm, Tea"),
        ("plant fern cue, ritual tea", "Little fern cue, Tea"),
    ],
)
def test_what_is_in_force_is_named(active: str, shown: str) -> None:
    assert active_label(CFG, active) == shown
