"""YAML texts and secrets shared by the configuration tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Write = Callable[[str, str], Path]

HA_TOKEN = "ey-very-secret-token-4711"
MQTT_PASSWORD = "hunter2-horse-battery"

MINIMAL = """\
home:
  latitude: 51.05
  longitude: 3.72
  timezone: Europe/Brussels
home_assistant:
  token: !secret ha_token
devices:
  sofa_lamp: {entity: light.sofa}
  desk_lamp: {entity: light.desk}
  living_heat: {entity: climate.living, min: 16, max: 23}
"""
Config = Callable[[str], Path]
