"""Who runs this home, while cocoon runs: its claim, and what it does about another's.

`claim` (at every connect) keeps this cocoon's `Instance` retained on the owner topic;
`stop` marks it stopped, before the bus says `offline`, when this cocoon stops cleanly.
Another cocoon that starts for the same home knocks (`adapters.claim.wait_turn`); this
one says so in its log and answers. Another that claims the home at the same time is
told again when it is the younger one; when this one is the younger, it steps back:
it drives nothing (`drive(False)` to each of `drives`), leaves the broker, waits its
turn like any newcomer, and comes back (`drive(True)`), whatever went wrong meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from cocoon.adapters.claim import Instance, wait_turn
from cocoon.adapters.mqtt_link import MqttLink
from cocoon.adapters.topics import Topics
from cocoon.config.schema import Mqtt
from cocoon.ports import Message

_LOGGER = logging.getLogger(__name__)


class Ownership:
    """This cocoon's claim on its home (or building), and its answers to other cocoons for it."""

    def __init__(
        self,
        mqtt: Mqtt,
        name: str,
        topics: Topics,
        link: MqttLink,
        instance: Instance,
        drives: Sequence[Callable[[bool], None]],
    ) -> None:
        self.mqtt = mqtt
        self.name = name
        """What runs here, as the log says it: the home's name, or the building's."""
        self.topics = topics
        self.link = link
        self.instance = instance
        self._drives = tuple(drives)
        self._waiting: set[str] = set()
        """Other cocoons for this home that said they wait."""
        self._stepping_back: asyncio.Task[None] | None = None
        self._claimed = False
        """Whether the retained claim is this cocoon's (not while it steps back)."""

    def subscriptions(self) -> list[str]:
        """The topics other cocoons for this home speak on."""
        return [self.topics.owner, self.topics.owner_waiting]

    def handles(self, topic: str) -> bool:
        """Whether `topic` is one other cocoons for this home speak on."""
        return topic in (self.topics.owner, self.topics.owner_waiting)

    async def wait_turn(self) -> None:
        """Wait while another cocoon runs this home (see `adapters.claim.wait_turn`)."""
        await wait_turn(self.mqtt, self.topics, self.instance, f"for {self.name}")

    def claim(self) -> None:
        """Say, retained, which cocoon runs this home (see `adapters.claim`)."""
        self._claimed = True
        self.link.publish(Message(self.topics.owner, self.instance.payload(), qos=1, retain=True))

    def receive(self, message: Message) -> None:
        """Another cocoon for this home says it waits, or claims the home as well."""
        other = Instance.parse(message.payload)
        # A retained claim is an earlier run's: history, not a rival; nor is a stopped one.
        if (
            other is None
            or other.id == self.instance.id
            or message.retain
            or Instance.stopped(message.payload)
        ):
            return
        home = self.name
        if message.topic == self.topics.owner_waiting:
            if other.id not in self._waiting:
                self._waiting.add(other.id)
                _LOGGER.warning(
                    "Another cocoon for %s started (%s); it drives nothing while this one "
                    "(%s) runs",
                    home,
                    other.describe(),
                    self.instance.describe(),
                )
            self.link.publish(Message(self.topics.owner_here, self.instance.payload(), qos=1))
        elif self.instance.outranks(other):
            _LOGGER.warning(
                "Another cocoon (%s) claimed %s as well; it is younger and steps back",
                other.describe(),
                home,
            )
            self.claim()
        elif self._stepping_back is None:
            _LOGGER.error(
                "Another cocoon (%s) claimed %s first: this one steps back",
                other.describe(),
                home,
            )
            self._drive(False)
            self._stepping_back = asyncio.create_task(self._step_back())

    async def stop(self) -> None:
        """A clean stop: stop stepping back, if it does; else mark the claim stopped
        (retained, sent before the bus's `offline`), so the next cocoon for this home
        knows it ended cleanly."""
        if self._stepping_back is not None:
            self._stepping_back.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stepping_back
        elif self._claimed:
            stopped = self.instance.payload(stopped=True)
            self.link.publish(Message(self.topics.owner, stopped, qos=1, retain=True))

    async def _step_back(self) -> None:
        """Another cocoon claimed the home first: drive nothing, wait for its end."""
        self._claimed = False  # the claim on the broker is the other's now
        try:
            await self.link.stop(say_offline=False)
            await self.wait_turn()
        except Exception:
            # Never left standing aside for good: drive again, whatever went wrong.
            _LOGGER.exception("Stepping back went wrong; this cocoon drives again")
        try:
            await self.link.start()
        finally:
            self._drive(True)
            self._stepping_back = None

    def _drive(self, on: bool) -> None:
        for drive in self._drives:
            drive(on)
