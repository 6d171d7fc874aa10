"""The day plan's picture."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

from cocoon.config.schema import CocoonConfig
from cocoon.errors import CocoonError
from cocoon.report import build_day
from cocoon.report.colour import kelvin_rgb
from cocoon.report.picture import day_figure, draw_day, setpoint_steps

from .homes import brussels, tromso

PNG = b"\x89PNG\r\n\x1a\n"


def test_draw_day_writes_a_png(tmp_path: Path) -> None:
    path = tmp_path / "plan.png"
    draw_day(brussels(), date(2026, 3, 29), path)
    data = path.read_bytes()
    assert data.startswith(PNG)
    assert len(data) > 10_000


def test_draw_day_on_a_polar_day(tmp_path: Path) -> None:
    path = tmp_path / "tromso.png"
    draw_day(tromso(), date(2026, 6, 21), path)
    assert path.read_bytes().startswith(PNG)


def test_without_matplotlib_the_error_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(CocoonError, match=r"pip install 'cocoon-home\[plot\]'"):
        draw_day(brussels(), date(2026, 3, 29), tmp_path / "plan.png")
    assert not (tmp_path / "plan.png").exists()


def test_kelvin_colours_go_from_warm_to_cool() -> None:
    warm, neutral, cool = kelvin_rgb(2000), kelvin_rgb(6600), kelvin_rgb(10000)
    assert warm[0] == 1.0
    assert warm[2] < 0.2
    assert all(channel > 0.95 for channel in neutral)
    assert cool[2] == 1.0
    assert cool[0] < 0.9


def _panels(cfg: CocoonConfig, day: date) -> list[tuple[str, tuple[float, float], list[str]]]:
    """Each panel below the strip: its name, its y range, its y tick labels."""
    import matplotlib.pyplot as pyplot

    figure = day_figure(build_day(cfg, day))
    try:
        found = []
        for axis in figure.axes[1:-1]:  # past the sun strip, before the kelvin key
            figure.canvas.draw()
            label = axis.texts[0].get_text() if axis.texts else ""
            ticks = [tick.get_text() for tick in axis.get_yticklabels()]
            found.append((label, axis.get_ylim(), ticks))
        return found
    finally:
        pyplot.close(figure)


def test_every_light_panel_has_one_brightness_scale_and_the_heat_its_own() -> None:
    # The bedside lamp never goes above 1 %, the sofa to 35 %: both are drawn on 0–100 %.
    panels = _panels(brussels(), date(2026, 3, 24))
    lights = [p for p in panels if "°C" not in " ".join(p[2])]
    [heat] = [p for p in panels if "°C" in " ".join(p[2])]
    assert len(lights) == 3
    assert len({ylim for _, ylim, _ in lights}) == 1
    low, high = lights[0][1]
    assert low <= 0 < 100 <= high
    assert all(ticks == ["0", "50 %", "100 %"] for _, _, ticks in lights)
    low, high = heat[1]
    assert low < 20 < 20.5 < high
    assert high - low < 10


def test_panels_are_labelled_with_device_names() -> None:
    cfg = brussels(
        devices={
            "sofa": {"zigbee2mqtt": "sofa", "name": "Reading light", "room": "Living room"},
            "desk": {"zigbee2mqtt": "desk"},
            "bedside": {"zigbee2mqtt": "bedside"},
            "heat": {"zigbee2mqtt": "radiator", "kind": "thermostat"},
        }
    )
    labels = [label for label, _, _ in _panels(cfg, date(2026, 3, 24))]
    assert labels[0] == "Reading light  ·  Living room"
    assert "Desk" in labels
    assert "Heat  ·  setpoint" in labels


def test_a_setpoint_is_drawn_as_a_step_at_the_instant_it_is_given() -> None:
    cfg = brussels(
        scenes={"warm": {"lights": {"sofa": {"brightness": 35}}, "heat": {"heat": 21.5}}},
        rituals={"evening": {"at": "18:00", "until": "22:00", "scene": "warm", "fade": "30min"}},
    )
    steps = setpoint_steps(build_day(cfg, date(2026, 3, 24)), "heat")
    zone = cfg.home.zone
    assert [(at.astimezone(zone).strftime("%H:%M"), value) for at, value in steps] == [
        ("18:00", 21.5),
        ("22:00", 20.0),
    ]
