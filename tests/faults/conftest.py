"""Fixtures of the fault suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..brokers import Mosquitto
from ..homeassistant import HomeAssistant


@pytest.fixture(scope="package")
def refusing_home_assistant(
    tmp_path_factory: pytest.TempPathFactory, mosquitto: Mosquitto
) -> Iterator[HomeAssistant]:
    """A Home Assistant of the fault suite's own, to be refused wrong tokens: each refusal
    is a warning in its log, which the shared `home_assistant` must not collect."""
    hass = HomeAssistant(tmp_path_factory.mktemp("refusing-home-assistant"), mosquitto.port)
    hass.start()
    yield hass
    hass.stop()
