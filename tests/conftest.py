"""Fixtures shared by every test package: a real Mosquitto, a real Home Assistant and a
real etcd, each on free loopback ports.

Every test that boots Home Assistant runs twice, on the oldest supported release and
on the current one (`ha_install`, ids `[ha2024.3.3]` and `[ha2026.11.0]`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .brokers import Mosquitto
from .etcd import Etcd
from .faults.mosquittos import TunedMosquitto
from .homeassistant import HomeAssistant, Install, installs


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """One broker for the whole session, for tests that only need a broker to talk to."""
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def etcd(tmp_path: Path) -> Iterator[Etcd]:
    """An etcd member of the test's own (tests kill, pause and restart it)."""
    member = Etcd(tmp_path / "etcd")
    member.start()
    yield member
    member.kill()


PACKET_LIMIT = 600
"""The largest packet `limited_mosquitto` takes: below every discovery message."""


@pytest.fixture
def limited_mosquitto(tmp_path: Path) -> Iterator[TunedMosquitto]:
    """A broker of the test's own that takes packets of at most `PACKET_LIMIT` bytes."""
    broker = TunedMosquitto(tmp_path / "limited", options={"max_packet_size": str(PACKET_LIMIT)})
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


@pytest.fixture(scope="session", params=installs(), ids=lambda install: install.label)
def ha_install(request: pytest.FixtureRequest) -> Install:
    """Each Home Assistant installation in turn: the oldest supported, then the current."""
    install: Install = request.param
    return install


@pytest.fixture(scope="session")
def home_assistant(
    tmp_path_factory: pytest.TempPathFactory, mosquitto: Mosquitto, ha_install: Install
) -> Iterator[HomeAssistant]:
    """One Home Assistant of each installation for the whole session, on the session
    broker (booting takes 2-3 s).

    Its demo state is shared: set what a test reads.
    """
    hass = HomeAssistant(
        tmp_path_factory.mktemp(f"home-assistant-{ha_install.label}"),
        mosquitto.port,
        install=ha_install,
    )
    hass.start()
    yield hass
    hass.stop()


@pytest.fixture
def fresh_home_assistant(
    tmp_path: Path, fresh_mosquitto: Mosquitto, ha_install: Install
) -> Iterator[HomeAssistant]:
    """A Home Assistant of the test's own, on the test's own broker (`fresh_mosquitto`),
    for tests that restart or kill it."""
    hass = HomeAssistant(tmp_path / "home-assistant", fresh_mosquitto.port, install=ha_install)
    hass.start()
    yield hass
    hass.stop()
