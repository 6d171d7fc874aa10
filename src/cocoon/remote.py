"""Talking to a running daemon through the broker: `cocoon trigger` and `cocoon status`.

Each opens a short-lived MQTT connection of its own, reads what the daemon keeps
retained (its availability, its status), acts, and disconnects. The daemon's
availability is the truth about whether it runs: `online` while it is connected,
`offline` from its clean stop or from the broker, as its last will, when it died.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any

from cocoon.adapters.control import PRESS, stamped_press
from cocoon.adapters.labels import button_id
from cocoon.adapters.mqtt_diagnoses import until_connected
from cocoon.adapters.mqtt_link import ONLINE, MqttLink
from cocoon.adapters.topics import Topics
from cocoon.config.checks import did_you_mean
from cocoon.config.schema import CocoonConfig
from cocoon.errors import CocoonError
from cocoon.ports import Message

_CONNECT_WAIT = 5.0
"""Seconds to wait for the broker to accept the connection."""
_RETAINED_WAIT = 1.0
"""Seconds to wait for a retained message after subscribing (it comes right after)."""
_SEND_WAIT = 0.3
"""Seconds to let a QoS 1 press reach the broker before disconnecting."""
FLEET = "is served by a fleet"
"""What `_availability` says of a home a worker of a fleet serves."""
PRESS_EXPIRY = 60
"""Seconds a press may wait on the broker: cocoon may have died a moment ago without the
broker knowing yet (a machine that lost power), and a press must not act an hour later."""


class UnknownButton(CocoonError):
    """The name is neither a calm mode nor a ritual of the configuration."""


class NotRunning(CocoonError):
    """The daemon is not online on the broker: nothing was pressed."""


@contextlib.asynccontextmanager
async def _connected(
    cfg: CocoonConfig, listen: list[str], found: dict[str, bytes]
) -> AsyncIterator[MqttLink]:
    """A short-lived client subscribed to `listen`, connected, then stopped.

    The first payload on each topic (the retained one, where there is one) goes to `found`.
    """
    assert cfg.mqtt is not None
    connected = asyncio.Event()
    link = MqttLink(
        cfg.mqtt,
        availability_topic=None,
        on_message=lambda message: _keep_first(found, message),
        on_connect=connected.set,
        subscriptions=lambda: listen,
        client_id=f"cocoon-cli-{os.getpid()}",
    )
    await link.start()
    try:
        await until_connected(link, connected, _CONNECT_WAIT)
        yield link
    finally:
        await link.stop()


def _keep_first(found: dict[str, bytes], message: Message) -> None:
    found.setdefault(message.topic, message.payload)


async def _until(found: dict[str, bytes], topic: str, timeout: float) -> bytes | None:
    """The retained payload on `topic` once it arrived, or None after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while topic not in found and loop.time() < deadline:
        await asyncio.sleep(0.01)
    return found.get(topic)


async def trigger(cfg: CocoonConfig, name: str, topics: Topics | None = None) -> str:
    """`cocoon trigger NAME`: press a calm mode's or ritual's button, if cocoon runs.

    Raises `UnknownButton` for a name the configuration lacks, `NotRunning` when the
    daemon is not online (the press is not sent: queued, it would wait in the daemon's
    session and act whenever the daemon came back, perhaps an hour later). A press sent
    expires on the broker after `PRESS_EXPIRY` seconds, should the daemon have died just
    before without the broker knowing yet.
    `topics` are the home's (in a building, `Topics.for_building`). Returns the topic
    pressed.
    """
    name = button_id(cfg, name) or name
    if name not in cfg.calm_modes and name not in cfg.rituals:
        names = [*cfg.calm_modes, *cfg.rituals]
        known = ", ".join(names) or "none are configured"
        raise UnknownButton(
            f"no calm mode or ritual named '{name}'{did_you_mean(name, names)} (known: {known})"
        )
    topics = topics or Topics.for_config(cfg)
    found: dict[str, bytes] = {}
    async with _connected(cfg, topics.availabilities, found) as link:
        said = await _availability(found, topics)
        if said not in (None, FLEET):
            raise NotRunning(
                f"cocoon for {cfg.home.name} {said} on the broker "
                f"{cfg.mqtt.host if cfg.mqtt else ''}: nothing was pressed; "
                f"start `cocoon run` and press again"
            )
        # To a fleet, stamped and retained: should the home be between two workers, its
        # next owner takes it when it subscribes.
        fleet = said == FLEET
        press = stamped_press(time.time()) if fleet else PRESS.encode()
        link.publish(Message(topics.button(name), press, qos=1, retain=fleet, expiry=PRESS_EXPIRY))
        await asyncio.sleep(_SEND_WAIT)
    return topics.button(name)


async def fetch_status(
    cfg: CocoonConfig, timeout: float = 3.0, topics: Topics | None = None
) -> tuple[dict[str, Any] | None, bool]:
    """The daemon's retained status document and whether it is online (`topics`: the
    home's, as for `trigger`)."""
    topics = topics or Topics.for_config(cfg)
    found: dict[str, bytes] = {}
    listen = [topics.state, *topics.availabilities]
    async with _connected(cfg, listen, found):
        said = await _availability(found, topics, min(timeout, _RETAINED_WAIT))
        said = None if said == FLEET else said
        await _until(found, topics.state, min(timeout, _RETAINED_WAIT))
    document = json.loads(found[topics.state]) if topics.state in found else None
    return document, said is None


async def _availability(
    found: dict[str, bytes], topics: Topics, timeout: float = _RETAINED_WAIT
) -> str | None:
    """None when the home is served (every availability of it says online), `FLEET`
    when a worker of a fleet serves it, else how it is not: "has never been online" or
    "is offline".

    A home of a fleet has no process that says `cocoon/status`: its own availability
    says whether a worker serves it.
    """
    process, *own = topics.availabilities
    if (
        own
        and await _until(found, process, timeout) is None
        and await _until(found, own[0], timeout) == ONLINE
    ):
        return FLEET
    for topic in topics.availabilities:
        availability = await _until(found, topic, timeout)
        if availability != ONLINE:
            return "has never been online" if availability is None else "is offline"
    return None
