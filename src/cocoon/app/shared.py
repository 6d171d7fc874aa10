"""What the homes of one process share, built once.

One scheduler (an alarm per home), one broker connection, one link to Home Assistant
(when any home needs it), the pacer of each network, the spreader that lets a building's
announcements out a few homes at a time, and the thread every home's state is saved on.
Each home is handed all of it (`Shared`); the daemon starts and stops it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from cocoon.adapters.ha_hub import HomeAssistantHub
from cocoon.adapters.mqtt_client import MAX_QUEUED, QUEUED_PER_HOME
from cocoon.adapters.mqtt_link import MqttLink
from cocoon.adapters.spreader import Spreader
from cocoon.config.schema import CocoonConfig, Mqtt
from cocoon.config.site import Site
from cocoon.ports import Clock, Message
from cocoon.runtime.pacer import Pacer
from cocoon.runtime.saving import Writer
from cocoon.runtime.scheduler import Scheduler


class Pacers:
    """The pacer of each network, made when a home first sends on it."""

    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._pacers: dict[str, Pacer] = {}

    def __call__(self, network: str) -> Pacer:
        """The pacer of `network` (a Zigbee2MQTT base topic, or Home Assistant)."""
        pacer = self._pacers.get(network)
        if pacer is None:
            pacer = self._pacers[network] = Pacer(self._rate)
        return pacer

    def follow(self, rate: float) -> None:
        """Pace every network at `rate` from now on (`settings.rate_limit`, reloaded)."""
        self._rate = rate
        for pacer in self._pacers.values():
            pacer.rate = rate


@dataclass(frozen=True, slots=True)
class Shared:
    """What every home of the process shares."""

    clock: Clock
    link: MqttLink
    scheduler: Scheduler
    hub: HomeAssistantHub | None
    pacers: Pacers
    spreader: Spreader
    """Does what every home must do at once a few homes at a time (`Spreader.ask`)."""
    writer: Writer
    """The thread every home's state is saved on."""
    building: bool
    """Whether the process serves a building (else a home of its own, as ever)."""
    publish: Callable[[Message], None]
    """How a home publishes: through the link, or in a fleet through the fence."""
    worker: str | None = None
    """The fleet's worker this process is (None: not in a fleet)."""
    may_drive: Callable[[], bool] = lambda: True
    """Whether a home may send to its devices now (a fleet's fence)."""

    @classmethod
    def build(
        cls,
        site: Site,
        mqtt: Mqtt,
        clock: Clock,
        *,
        availability_topic: str,
        client_id: str | None,
        worker: str | None = None,
        fence: Callable[[], bool] | None = None,
    ) -> Shared:
        """What the homes of `site` share, its broker `mqtt` (the site's) reached as
        `client_id` (else the configured one), with the process's availability topic.

        A fleet's `worker` publishes only while its `fence` is open (`fenced`)."""
        building = not site.single
        scheduler = Scheduler(clock)
        link = MqttLink(
            mqtt,
            availability_topic=availability_topic,
            client_id=client_id,
            queue=MAX_QUEUED + QUEUED_PER_HOME * (len(site.homes) - 1),
        )
        hub: HomeAssistantHub | None = None
        if site.home_assistant is not None and (building or any_entity(site)):
            # A building's flats are pressed from Home Assistant (`cocoon_trigger`)
            # whether or not their devices are its entities.
            hub = HomeAssistantHub(site.home_assistant)
        return cls(
            clock=clock,
            link=link,
            scheduler=scheduler,
            hub=hub,
            pacers=Pacers(site.settings.rate_limit),
            spreader=Spreader(),
            writer=Writer(),
            building=building,
            publish=link.publish if fence is None else fenced(link.publish, fence),
            worker=worker,
            may_drive=fence or (lambda: True),
        )


def fenced(
    publish: Callable[[Message], None], fence: Callable[[], bool]
) -> Callable[[Message], None]:
    """`publish`, for a fleet's worker: only while `fence` says this worker may drive
    (checked at the instant of publishing, so that a worker paused past its lease sends
    nothing stale when it goes on), and at QoS 0: a QoS 1 message not yet acknowledged
    would be sent again after a reconnect, perhaps behind the next owner's back (what is
    lost is sent again: the engine sends what a device does not confirm, and a home is
    announced again at every connection)."""

    def publish_fenced(message: Message) -> None:
        if fence():
            publish(replace(message, qos=0))

    return publish_fenced


def uses_home_assistant(cfg: CocoonConfig) -> bool:
    """Whether any of a home's devices is a Home Assistant entity."""
    return any(device.entity for device in cfg.devices.values())


def any_entity(site: Site) -> bool:
    """Whether any home of the site has a device that is a Home Assistant entity."""
    return any(uses_home_assistant(cfg) for cfg in site.homes.values())
