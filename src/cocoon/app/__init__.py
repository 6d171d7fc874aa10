"""The composition root: the one place that builds concrete adapters and wires them up.

One process serves one home, or every home of a building (a site file): one broker
connection, one Home Assistant link, one scheduler and one pacer per network for all of
them, and for each home its own engine, gateways, announcer and router (`app.home`).

Start order: the claim, each home's state and engine, the scheduler, Home Assistant,
then the bus (so nothing it delivers is lost). Stop order is the reverse; the bus says
`offline` last.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Callable, Hashable, Iterator
from collections.abc import Set as AbstractSet
from functools import partial
from pathlib import Path

from cocoon import installed_version
from cocoon.adapters.claim import Instance
from cocoon.adapters.ha_hub import HomeAssistantHub
from cocoon.adapters.home_assistant import HomeAssistantGateway
from cocoon.adapters.mqtt_client import MAX_QUEUED, QUEUED_PER_HOME
from cocoon.adapters.mqtt_link import MqttLink
from cocoon.adapters.ownership import Ownership
from cocoon.adapters.router import Router
from cocoon.adapters.spreader import Spreader
from cocoon.adapters.switchboard import Switchboard
from cocoon.adapters.topics import Topics
from cocoon.adapters.z2m_gateway import Zigbee2MqttGateway
from cocoon.app.home import HomeRuntime, Shared, network, uses_home_assistant
from cocoon.config.schema import CocoonConfig
from cocoon.config.site import Site, SiteReading, load_site, read_site
from cocoon.errors import CocoonError, ConfigError
from cocoon.ports import Clock, for_home
from cocoon.runtime.clock import SystemClock
from cocoon.runtime.engine import Engine
from cocoon.runtime.pacer import Pacer
from cocoon.runtime.saving import Writer
from cocoon.runtime.scheduler import Scheduler

_LOGGER = logging.getLogger(__name__)

SAVE_FLUSH = 2.0
"""Seconds a stop waits for the saves under way."""
HOMES = "homes"
"""The directory of a building's state directory that holds each home's."""


class Daemon:
    """cocoon running against one MQTT broker: its homes, their bus and their scheduler.

    Built in the order things depend on each other, each handed what it talks to: what
    the homes share (the scheduler, the link, Home Assistant, the pacers), the homes,
    the claim on them, and last the switchboard the link hands messages to.
    """

    def __init__(
        self,
        site: Site | CocoonConfig,
        state_dir: Path,
        *,
        clock: Clock | None = None,
        client_id: str | None = None,
    ) -> None:
        if isinstance(site, CocoonConfig):
            site = Site.of_home(site)
        if site.mqtt is None:
            raise CocoonError("cocoon run needs an mqtt: section (the broker to talk through)")
        self.site = site
        self.state_dir = state_dir
        self.building = not site.single
        self.clock = clock or SystemClock()
        first = next(iter(site.homes.values()))
        self.process_topics = (
            Topics.of_process(site.mqtt) if self.building else Topics.for_config(first)
        )
        self.scheduler = Scheduler(self.clock)
        self.link = MqttLink(
            site.mqtt,
            availability_topic=self.process_topics.availability,
            client_id=client_id,
            queue=MAX_QUEUED + QUEUED_PER_HOME * (len(site.homes) - 1),
        )
        self.hub: HomeAssistantHub | None = None
        if site.home_assistant is not None and (self.building or _any_entity(site)):
            # A building's flats are pressed from Home Assistant (`cocoon_trigger`)
            # whether or not their devices are its entities.
            self.hub = HomeAssistantHub(site.home_assistant)
        self._pacers: dict[str, Pacer] = {}
        self.spreader = Spreader()
        self.shared = Shared(
            clock=self.clock,
            link=self.link,
            scheduler=self.scheduler,
            hub=self.hub,
            pacer=self._pacer,
            spread=self.spreader.ask,
            writer=Writer(),
            building=self.building,
        )
        self.homes: dict[str, HomeRuntime] = {
            ident: self._home(ident, cfg) for ident, cfg in site.homes.items()
        }
        self.instance = Instance.this_process(self.clock.now())
        self.ownership = Ownership(
            site.mqtt,
            f"the building's {len(site.homes)} homes" if self.building else first.home.name,
            self.process_topics,
            self.link,
            self.instance,
            drives=(self._drive,),
        )
        self.switchboard = Switchboard(self.ownership, self._routers)
        self._driving = True
        """Whether this process drives (not while another cocoon runs these homes)."""
        self._reloading = asyncio.Lock()
        self.link.listen(
            on_message=self.switchboard.receive,
            on_connect=self._connected,
            subscriptions=self.switchboard.subscriptions,
        )

    # -- a home of its own, as tests and the demo reach into it ---------------------------

    @property
    def home(self) -> HomeRuntime:
        """The one home served (of a site of one)."""
        return next(iter(self.homes.values()))

    @property
    def cfg(self) -> CocoonConfig:
        """The configuration of the one home served."""
        return self.home.cfg

    @property
    def engine(self) -> Engine:
        """The engine of the one home served."""
        return self.home.engine

    @property
    def gateway(self) -> Zigbee2MqttGateway:
        """The Zigbee2MQTT gateway of the one home served."""
        return self.home.gateway

    @property
    def home_assistant(self) -> HomeAssistantGateway | None:
        """The Home Assistant gateway of the one home served."""
        return self.home.home_assistant

    @property
    def topics(self) -> Topics:
        """The topics of the one home served."""
        return self.home.topics

    # -- wiring ---------------------------------------------------------------------------

    def _home(self, ident: str, cfg: CocoonConfig) -> HomeRuntime:
        if self.building:
            return HomeRuntime(ident, cfg, self.shared, self.state_dir / HOMES / ident)
        return HomeRuntime("", cfg, self.shared, self.state_dir)

    def _pacer(self, network: str) -> Pacer:
        pacer = self._pacers.get(network)
        if pacer is None:
            pacer = self._pacers[network] = Pacer(self.site.settings.rate_limit)
        return pacer

    def _routers(self) -> Iterator[tuple[str, Router]]:
        for home in self.homes.values():
            yield home.ident, home.router

    def _drive(self, on: bool) -> None:
        self._driving = on
        for home in self.homes.values():
            home.drive(on)

    def _connected(self) -> None:
        self.ownership.claim()
        for home in self.homes.values():
            home.connected()

    # -- life -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Wait while another cocoon runs these homes; then load each home's state, start
        the engines and the scheduler, and connect."""
        await self.ownership.wait_turn()
        for home in self.homes.values():
            home.start()
        self.scheduler.start()
        if self.hub is not None:
            await self.hub.start()
        await self.link.start()

    async def stop(self) -> None:
        """Stop in reverse order; the bus publishes `offline` before it disconnects."""
        self.spreader.stop()
        await self.ownership.stop()
        for home in self.homes.values():
            await home.stop()
        self.scheduler.stop()
        if self.hub is not None:
            await self.hub.stop()
        # What the homes' last saves still write is on disk before the process ends.
        await asyncio.to_thread(self.shared.writer.flush, SAVE_FLUSH)
        await self.link.stop()

    async def reload(self, path: Path) -> None:
        """Read the configuration again and follow it, home by home.

        A site file that is invalid as a whole is logged and the old configuration kept.
        A home whose own part is invalid keeps its last good configuration while the
        others reload; a home no longer in the site gives its devices back. The files are
        read on a thread of their own (a building's take seconds), one reload at a time.
        """
        async with self._reloading:
            try:
                reading = await asyncio.to_thread(read_site, path)
            except ConfigError as exc:
                # A configuration problem is the person's to fix, not a bug: no traceback.
                _LOGGER.error("The new configuration is invalid; keeping the old one:\n%s", exc)  # noqa: TRY400
                return
            self._reload(reading)

    def _reload(self, reading: SiteReading) -> None:
        if reading.site.single != self.site.single:
            _LOGGER.error(
                "The new configuration is a %s; keeping the old one until the next restart",
                "home of its own" if reading.site.single else "building (homes:)",
            )
            return
        if reading.site.mqtt != self.site.mqtt:
            _LOGGER.warning("Changes to the mqtt: section take effect at the next restart")
        if reading.site.home_assistant != self.site.home_assistant:
            _LOGGER.warning(
                "Changes to the home_assistant: section take effect at the next restart"
            )
        for ident, problem in reading.broken.items():
            keeping = "keeping its last good one" if ident in self.homes else "not started"
            for_home(ident, _LOGGER.error)(
                "The new configuration of this home is invalid; %s:\n%s", keeping, problem
            )
        self._follow(reading.site, kept=frozenset(reading.broken))

    def _keep_what_kept_homes_hold(
        self, homes: dict[str, CocoonConfig], kept: AbstractSet[str]
    ) -> None:
        """A home that now names a device a kept home (its file broken) still drives keeps
        its own last good configuration too (or is not started): one driver per device."""
        held = {claim: ident for ident in kept for claim in _claims(homes[ident])}
        for ident, cfg in list(homes.items()):
            taken = sorted(f"{claim[1]} ({held[claim]})" for claim in _claims(cfg) & held.keys())
            if ident in kept or not taken:
                continue
            serving = self.homes.get(ident)
            for_home(ident, _LOGGER.error)(
                "The new configuration of this home names what a home kept as it was still "
                "drives: %s; %s",
                ", ".join(taken),
                "keeping its last good one" if serving is not None else "not started",
            )
            if serving is not None:
                homes[ident] = serving.cfg
            else:
                del homes[ident]

    def _follow(self, site: Site, kept: frozenset[str]) -> None:
        """Serve the homes of `site` (and keep those of `kept` as they are)."""
        if self.hub is None and site.home_assistant is not None and _any_entity(site):
            _LOGGER.warning(
                "Home Assistant devices new to this process take effect at the next restart"
            )
        for pacer in self._pacers.values():
            pacer.rate = site.settings.rate_limit
        homes = dict(site.homes)
        if site.single:
            # A home of its own is the same home whatever it is called now.
            homes = {next(iter(self.homes)): next(iter(site.homes.values()))}
        for ident in kept & self.homes.keys():
            homes[ident] = self.homes[ident].cfg
        self._keep_what_kept_homes_hold(homes, kept & self.homes.keys())
        for ident in [i for i in self.homes if i not in homes]:
            home = self.homes.pop(ident)
            self.spreader.cancel(partial(_not_of, ident))
            home.leave()
            for_home(ident, _LOGGER.info)("No longer in the site: its devices are given back")
        connected = self.link.connected
        unchanged = 0
        for ident, cfg in homes.items():
            serving = self.homes.get(ident)
            if serving is None:
                new = self.homes[ident] = self._home(ident, cfg)
                new.start()
                if not self._driving:
                    new.drive(False)
                elif connected:
                    new.connected()
                for_home(ident, _LOGGER.info)("New in the site: served from now on")
            elif cfg != serving.cfg or site.single:
                # (A home of its own is told again even unchanged, as it always was.)
                serving.reload(cfg)
            else:
                unchanged += 1
        if unchanged:
            _LOGGER.info("%d home%s unchanged", unchanged, "s" * (unchanged != 1))
        self.site = site
        # New buttons and devices are listened to now, and those gone no longer.
        self.switchboard.subscriptions()
        self.link.resubscribe()


def _claims(cfg: CocoonConfig) -> set[tuple[str, str]]:
    """The devices a home drives, as a network sees them: (network, name or entity)."""
    return {
        (network(cfg, name), device.zigbee2mqtt or device.entity or name)
        for name, device in cfg.devices.items()
    }


def _any_entity(site: Site) -> bool:
    """Whether any home of the site has a device that is a Home Assistant entity."""
    return any(uses_home_assistant(cfg) for cfg in site.homes.values())


def _not_of(home: str, key: Hashable) -> bool:
    """Whether a spreader's key (home, what) is not one of `home`'s."""
    return not (isinstance(key, tuple) and key[:1] == (home,))


def describe(site: Site, state_dir: Path) -> str:
    """What `cocoon run` serves, for its first log line."""
    devices = sum(len(cfg.devices) for cfg in site.homes.values())
    rituals = sum(len(cfg.rituals) for cfg in site.homes.values())
    if site.single:
        cfg = next(iter(site.homes.values()))
        what = cfg.home.name
    else:
        what = f"{len(site.homes)} home{'s' * (len(site.homes) != 1)}"
    return (
        f"cocoon {installed_version()} running for {what} ({devices} device"
        f"{'s' * (devices != 1)}, {rituals} ritual{'s' * (rituals != 1)}); state in {state_dir}"
    )


async def run(
    config: Path,
    state_dir: Path,
    on_ready: Callable[[], None] | None = None,
    *,
    site: Site | None = None,
) -> int:
    """`cocoon run`: the daemon until SIGTERM or SIGINT; SIGHUP reloads the configuration.

    `site` is what `config` says, when it was read already.
    """
    site = site or load_site(config)
    daemon = Daemon(site, state_dir)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    loop.add_signal_handler(signal.SIGINT, stopping.set)
    reloads: set[asyncio.Task[None]] = set()

    def reload() -> None:
        task = asyncio.create_task(daemon.reload(config), name="cocoon-reload")
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, reload)
    # Starting waits while another cocoon runs these homes: a stop ends the wait too.
    starting = asyncio.create_task(daemon.start())
    stop_waiting = asyncio.create_task(stopping.wait())
    await asyncio.wait({starting, stop_waiting}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        _LOGGER.info("Stopped before it took over")
        return 0
    stop_waiting.cancel()
    starting.result()
    # What start-up built (configuration, modules, caches) lives as long as the process:
    # kept out of the collector's full passes, which would otherwise walk it all again
    # every few seconds under load (a 20 ms pause for a 300-device home).
    gc.collect()
    gc.freeze()
    _LOGGER.info("%s", describe(site, state_dir))
    if on_ready is not None:
        on_ready()
    await stopping.wait()
    _LOGGER.info("Stopping")
    await asyncio.wait_for(daemon.stop(), timeout=5)
    return 0
