"""How cocoon reaches the world: the MQTT broker and Home Assistant."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from cocoon.config.base import Model, Topic
from cocoon.config.values import Duration


class Tls(Model):
    """TLS towards the broker."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = False
    """Skip the check of the broker's host name (only for test brokers)."""


class Mqtt(Model):
    """The MQTT broker cocoon talks through."""

    host: str = "localhost"
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    client_id: str = "cocoon"
    base_topic: Topic = "cocoon"
    discovery_prefix: Topic = "homeassistant"
    zigbee2mqtt_topic: Topic = "zigbee2mqtt"
    keepalive: int = Field(default=60, ge=5, le=3600)
    protocol: Literal["5", "3.1.1"] = "5"
    """MQTT version. 3.1.1 only for brokers without MQTT 5 (no persistent session then)."""
    max_payload: int = Field(default=65536, ge=256)
    """Payloads larger than this many bytes are logged and dropped."""
    tls: Tls | None = None


class HomeAssistant(Model):
    """The Home Assistant instance cocoon reaches entities through."""

    url: str = "http://localhost:8123"
    token: SecretStr
    """A long-lived access token; keep it in secrets.yaml and write `token: !secret ha_token`."""
    timeout: Duration = timedelta(seconds=5)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"'{value}' must start with http:// or https://")
        return value.rstrip("/")
