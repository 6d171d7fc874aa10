"""The day plan's picture."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

from cocoon.errors import CocoonError
from cocoon.report.colour import kelvin_rgb
from cocoon.report.picture import draw_day

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
