"""A first start at night: the engine joins the night in force, gently, from the first report."""

from __future__ import annotations

import logging

import pytest

from cocoon.core.events import LightReport, Wake
from cocoon.core.model import LightCommand, LightState
from cocoon.runtime.engine import Engine

from ..core.homes import at, home_config
from ..fakes import FakeClock, FakeGateway, MemoryStore

NIGHT = {"at": "22:30", "until": "sunrise", "scene": "evening", "fade": "30min"}


def test_a_first_start_at_night_joins_the_night_and_glides_from_the_first_report(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cfg = home_config(rituals={"night": NIGHT}, settings={"rate_limit": 1000})
    clock = FakeClock(at("2026-11-26 01:02"))
    gateway, store, armed = FakeGateway(), MemoryStore(), []
    engine = Engine(cfg, clock=clock, store=store, gateways=[gateway], arm=armed.append)
    engine.start()
    with caplog.at_level(logging.INFO):
        engine.handle(Wake("start"))
    assert "ritual night joined where it stands: in force since 22:30, until 08:16" in caplog.text
    assert "missed" not in caplog.text
    assert gateway.sent == []  # the lamp has not said how it is yet
    engine.handle(LightReport("sofa", LightState(80, 4000)))
    shown = 80.0
    while clock.now() < at("2026-11-26 01:10"):
        for command in gateway.sent:
            assert isinstance(command, LightCommand)
            assert command.brightness is not None
            assert abs(command.brightness - shown) <= cfg.settings.max_step + 0.1
            shown = command.brightness
        gateway.sent.clear()
        clock.moment = armed[-1]
        engine.handle(Wake())
    assert shown == 35.0
    assert store.state.runs["night"].joined == at("2026-11-26 01:02")
