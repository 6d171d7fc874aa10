"""One cocoon per home, agreed through the broker.

A running cocoon keeps its `Instance` (an id, its host and pid, since when it runs)
retained on `<base>/owner`, and its availability on `<base>/status`: `online`, and
`offline` from its clean stop or, as its last will, from the broker when it dies. Both
`offline`s read the same, so a clean stop first marks its claim `"stopped": true`: the
next cocoon takes over from it as the ordinary thing it is (a line at INFO), and warns
only of one that ended without stopping (killed, crashed, its connection lost).

Before a starting cocoon connects as the home's cocoon (with the home's client id and
last will), `wait_turn` looks with a client of its own. When another instance is online,
the newcomer says so in its log and knocks on `<base>/owner/waiting`; the running one
says so in its own log and answers on `<base>/owner/here`. The newcomer then waits until
the running one goes offline, and takes over. A running one that does not answer (the
broker kept an `online` whose last will never came) is taken over from at once. Two that
start at the same instant both claim the home; the younger then steps back
(`Instance.outranks`) and waits like any newcomer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import operator
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from cocoon.adapters.mqtt_link import ONLINE, MqttLink
from cocoon.adapters.topics import Topics
from cocoon.config.schema import Mqtt
from cocoon.ports import Message

_LOGGER = logging.getLogger(__name__)

CONNECT_WAIT = 5.0
"""Seconds to wait for the broker before starting without having looked."""
ANSWER_WAIT = 5.0
"""Seconds a running cocoon has to answer a knock."""
KNOCK_AGAIN = 60.0
"""Seconds between two knocks while waiting (a running cocoon may die without a will)."""


@dataclass(frozen=True, slots=True)
class Instance:
    """One running cocoon process."""

    id: str
    host: str
    pid: int
    since: datetime

    @classmethod
    def this_process(cls, now: datetime) -> Instance:
        """This process, started at `now`."""
        return cls(uuid.uuid4().hex[:12], socket.gethostname(), os.getpid(), now)

    def payload(self, *, stopped: bool = False) -> bytes:
        """As JSON, for the owner topics; `stopped` marks the claim of a clean stop."""
        data = {"instance": self.id, "host": self.host, "pid": self.pid}
        ended = {"stopped": True} if stopped else {}
        return json.dumps({**data, "since": self.since.isoformat(), **ended}).encode()

    @classmethod
    def parse(cls, payload: bytes | None) -> Instance | None:
        """An instance from an owner topic's payload; None for anything else."""
        try:
            data = json.loads(payload or b"")
            return cls(
                str(data["instance"]),
                str(data["host"]),
                int(data["pid"]),
                datetime.fromisoformat(data["since"]).astimezone(UTC),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    @staticmethod
    def stopped(payload: bytes | None) -> bool:
        """Whether an owner topic's payload is the claim of a cocoon that stopped cleanly."""
        try:
            return json.loads(payload or b"").get("stopped") is True
        except (ValueError, AttributeError):
            return False

    def outranks(self, other: Instance) -> bool:
        """Whether this one keeps the home when both claim it: the older, then the lower id."""
        return (self.since, self.id) < (other.since, other.id)

    def describe(self) -> str:
        """`pid 4711 on pi, running since 2026-11-30 01:02 UTC`."""
        return f"pid {self.pid} on {self.host}, running since {self.since:%Y-%m-%d %H:%M} UTC"


async def _until(condition: Callable[[], bool], timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def wait_turn(settings: Mqtt, topics: Topics, me: Instance, home: str) -> None:
    """Return once no other cocoon is online for this home (at once, mostly)."""
    seen: dict[str, bytes] = {}
    answered: set[str] = set()
    probe = f"{topics.owner}/probe/{me.id}"

    def received(message: Message) -> None:
        if message.topic == topics.owner_here:
            if (who := Instance.parse(message.payload)) is not None:
                answered.add(who.id)
        else:
            seen[message.topic] = message.payload

    connected = asyncio.Event()
    link = MqttLink(
        settings,
        availability_topic=None,
        on_message=received,
        on_connect=connected.set,
        subscriptions=lambda: [topics.availability, topics.owner, topics.owner_here, probe],
        client_id=f"cocoon-wait-{me.id}",
    )
    await link.start()
    try:
        try:
            await asyncio.wait_for(connected.wait(), CONNECT_WAIT)
        except TimeoutError:
            _LOGGER.warning("Could not ask the broker whether another cocoon runs %s", home)
            return
        # The broker sends a subscription's retained messages before what this client
        # publishes after it: once the probe is back, what is retained is known.
        link.publish(Message(probe, b"probe", qos=1))
        await _until(lambda: probe in seen, CONNECT_WAIT)
        await _wait_while_taken(link, topics, me, home, seen, answered)
    finally:
        await link.stop()


async def _wait_while_taken(
    link: MqttLink,
    topics: Topics,
    me: Instance,
    home: str,
    seen: dict[str, bytes],
    answered: set[str],
) -> None:
    told = False
    while True:
        owner = Instance.parse(seen.get(topics.owner))
        if seen.get(topics.availability) != ONLINE or owner is None or owner.id == me.id:
            if owner is not None and owner.id != me.id:
                _taking_over(owner, home, told=told, stopped=Instance.stopped(seen[topics.owner]))
            return
        if not told:
            told = True
            _LOGGER.error(
                "Another cocoon already runs %s on this broker (%s): this one (%s) drives "
                "nothing and takes over when that one stops. If these are two homes, give "
                "each its own home.name (or mqtt.base_topic)",
                home,
                owner.describe(),
                me.describe(),
            )
        running = owner.id
        answered.discard(running)
        link.publish(Message(topics.owner_waiting, me.payload(), qos=1))
        if not await _until(partial(operator.contains, answered, running), ANSWER_WAIT):
            _LOGGER.warning(
                "The broker says cocoon (%s) is online %s, but it does not answer: taking over",
                owner.describe(),
                home,
            )
            return
        await _until(lambda: seen.get(topics.availability) != ONLINE, KNOCK_AGAIN)


def _taking_over(owner: Instance, home: str, *, told: bool, stopped: bool) -> None:
    """Say in the log from whom this cocoon takes over, and how that one ended."""
    if told:
        how = "has stopped" if stopped else "ended without a clean stop"
        _LOGGER.warning("The other cocoon %s %s: this one takes over", home, how)
    elif stopped:
        # A restart, an upgrade, a move to another machine: the ordinary case.
        _LOGGER.info(
            "The cocoon (%s) that ran %s stopped cleanly: this one takes over",
            owner.describe(),
            home,
        )
    else:
        _LOGGER.warning(
            "The cocoon (%s) that claimed %s ended without a clean stop (killed, crashed "
            "or cut off) and is offline: this one takes over",
            owner.describe(),
            home,
        )
