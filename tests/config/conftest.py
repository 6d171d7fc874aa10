"""Fixtures for the configuration tests: YAML files written into a temporary directory."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from .texts import HA_TOKEN, MINIMAL, MQTT_PASSWORD, Config, Write


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """Write a dedented file under the temporary directory; returns its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def secrets(write: Write) -> Path:
    """A secrets.yaml with an HA token and an MQTT password."""
    return write(
        "secrets.yaml",
        f"ha_token: {HA_TOKEN}\nmqtt_password: {MQTT_PASSWORD}\nmqtt_user: cocoon\n",
    )


@pytest.fixture
def config(write: Write, secrets: Path) -> Config:
    """Write cocoon.yaml: the minimal home followed by the text given."""
    del secrets  # only needed on disk

    def _config(extra: str = "") -> Path:
        return write("cocoon.yaml", MINIMAL + textwrap.dedent(extra))

    return _config
