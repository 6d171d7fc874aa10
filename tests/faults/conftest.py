"""Fixtures of the fault suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..brokers import Mosquitto
from ..homeassistant import HomeAssistant, Install
from .mosquittos import QUICK_SAVES, TunedMosquitto


@pytest.fixture(scope="package")
def refusing_home_assistant(
    tmp_path_factory: pytest.TempPathFactory, mosquitto: Mosquitto, ha_install: Install
) -> Iterator[HomeAssistant]:
    """A Home Assistant of the fault suite's own, to be refused wrong tokens: each refusal
    is a warning in its log, which the shared `home_assistant` must not collect."""
    hass = HomeAssistant(
        tmp_path_factory.mktemp(f"refusing-home-assistant-{ha_install.label}"),
        mosquitto.port,
        install=ha_install,
    )
    hass.start()
    yield hass
    hass.stop()


@pytest.fixture
def periodic_mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A Mosquitto of its own that saves its database once a minute, as an installation
    would (the shared one saves on every change, which costs each change a file write)."""
    started = TunedMosquitto(tmp_path / "mosquitto", options=QUICK_SAVES)
    started.start()
    yield started
    started.stop()
