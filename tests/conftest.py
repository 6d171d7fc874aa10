"""Fixtures shared by every test package: a real Mosquitto and a real Home Assistant,
each on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .brokers import Mosquitto
from .homeassistant import HomeAssistant


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """One broker for the whole session, for tests that only need a broker to talk to."""
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def fresh_mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker of the test's own, for tests that kill or restart it."""
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def home_assistant(
    tmp_path_factory: pytest.TempPathFactory, mosquitto: Mosquitto
) -> Iterator[HomeAssistant]:
    """One Home Assistant for the whole session, on the session broker (booting takes ~2 s).

    Its demo state is shared: set what a test reads.
    """
    hass = HomeAssistant(tmp_path_factory.mktemp("home-assistant"), mosquitto.port)
    hass.start()
    yield hass
    hass.stop()


@pytest.fixture
def fresh_home_assistant(tmp_path: Path, fresh_mosquitto: Mosquitto) -> Iterator[HomeAssistant]:
    """A Home Assistant of the test's own, on the test's own broker (`fresh_mosquitto`),
    for tests that restart or kill it."""
    hass = HomeAssistant(tmp_path / "home-assistant", fresh_mosquitto.port)
    hass.start()
    yield hass
    hass.stop()
