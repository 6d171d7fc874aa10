"""The composition root: the one place that builds concrete adapters and wires them up.

One process serves one home, or every home of a building (a site file): one broker
connection, one Home Assistant link, one scheduler and one pacer per network for all of
them (`app.shared`), and for each home its own engine, gateways, announcer and router
(`app.home`). A reload follows `app.reload`; `app.process` runs the daemon under signals.

Start order: the claim, each home's state and engine, the scheduler, Home Assistant,
then the bus (so nothing it delivers is lost). Stop order is the reverse; the bus says
`offline` last. A worker of a fleet (`app.fleet`) serves only the homes it owns in etcd:
it takes each it claims, releases each it hands on; its lease stands in for the claim.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from cocoon.adapters.claim import Instance
from cocoon.adapters.control import passed_on
from cocoon.adapters.home_assistant import HomeAssistantGateway
from cocoon.adapters.ownership import Ownership
from cocoon.adapters.router import Router
from cocoon.adapters.switchboard import Switchboard
from cocoon.adapters.topics import Topics
from cocoon.adapters.z2m_gateway import Zigbee2MqttGateway
from cocoon.app.fleet_options import FleetOptions
from cocoon.app.fleet_store import Fence, FleetStore
from cocoon.app.home import HomeRuntime
from cocoon.app.reload import homes_to_serve
from cocoon.app.shared import Shared
from cocoon.config.schema import CocoonConfig
from cocoon.config.site import Site, read_site
from cocoon.core import RuntimeState
from cocoon.errors import CocoonError, ConfigError
from cocoon.ports import Clock, for_home
from cocoon.runtime.clock import SystemClock
from cocoon.runtime.engine import Engine

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
        fleet: FleetOptions | None = None,
    ) -> None:
        if isinstance(site, CocoonConfig):
            site = Site.of_home(site)
        if site.mqtt is None:
            raise CocoonError("cocoon run needs an mqtt: section (the broker to talk through)")
        if fleet is not None and site.single:
            raise CocoonError(
                "--fleet shares the homes of a site file (homes:) among workers; this "
                "configuration is a home of its own"
            )
        self.site = site
        self.state_dir = state_dir
        self.building = not site.single
        self.clock = clock or SystemClock()
        self.fence = None if fleet is None else Fence(fleet.lease)
        first = next(iter(site.homes.values()))
        if fleet is not None:
            self.process_topics = Topics.of_worker(site.mqtt, fleet.worker)
            client_id = client_id or f"{site.mqtt.client_id}-{fleet.worker}"
        elif self.building:
            self.process_topics = Topics.of_process(site.mqtt)
        else:
            self.process_topics = Topics.for_config(first)
        self.shared = Shared.build(
            site,
            site.mqtt,
            self.clock,
            availability_topic=self.process_topics.availability,
            client_id=client_id,
            worker=None if fleet is None else fleet.worker,
            fence=None if self.fence is None else self.fence.open,
        )
        self.scheduler = self.shared.scheduler
        self.link = self.shared.link
        self.hub = self.shared.hub
        self.homes: dict[str, HomeRuntime] = {}
        """The homes served now: every home of the site, or a fleet worker's own."""
        if fleet is None:
            self.homes = {ident: self._home(ident, cfg) for ident, cfg in site.homes.items()}
        self.instance = Instance.this_process(self.clock.now())
        self.ownership = (
            None
            if fleet is not None
            else Ownership(
                site.mqtt,
                f"the building's {len(site.homes)} homes" if self.building else first.home.name,
                self.process_topics,
                self.link,
                self.instance,
                drives=(self._drive,),
            )
        )
        self.fleet = None if fleet is None else fleet.join(self, self.fence)
        if self.fleet is not None and self.hub is not None:
            self.hub.pass_on = self._pass_on
        self.switchboard = Switchboard(self.ownership, self._routers)
        self._driving = True
        """Whether this process drives (not while another cocoon runs these homes)."""
        self._listen_pending = False
        self._taken: list[HomeRuntime] = []
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

    def _home(self, ident: str, cfg: CocoonConfig, store: FleetStore | None = None) -> HomeRuntime:
        if not self.building:
            return HomeRuntime("", cfg, self.shared, self.state_dir)
        # A fleet's home says who sends for it: the worker and its claim's token.
        sender = None if store is None else f"{self.shared.worker}#{store.token}"
        return HomeRuntime(ident, cfg, self.shared, self.state_dir / HOMES / ident, store, sender)

    def _routers(self) -> Iterator[tuple[str, Router]]:
        for home in self.homes.values():
            yield home.ident, home.router

    def _drive(self, on: bool) -> None:
        self._driving = on
        for home in self.homes.values():
            home.drive(on)

    def _connected(self) -> None:
        if self.ownership is not None:
            self.ownership.claim()
        for home in self.homes.values():
            home.connected()

    # -- a fleet's worker (app.fleet.Serving) ---------------------------------------------

    def site_homes(self) -> list[str]:
        """Every home of the site, served here or not."""
        return list(self.site.homes)

    def take(self, ident: str, store: FleetStore) -> None:
        """Serve `ident` from now on (claimed in the fleet), resuming its state."""
        home = self.homes[ident] = self._home(ident, self.site.homes[ident], store)
        home.start()
        if not self._driving:
            home.drive(False)
        for_home(ident, _LOGGER.info)("Served by this worker from now on")
        self._taken.append(home)
        self._listen_soon()

    def release(self, ident: str, *, last: bool = False) -> RuntimeState | None:
        """Stop serving `ident` without a word to its devices (`last`: and say it is not
        served, as this worker stops); its state then."""
        home = self.homes.pop(ident, None)
        if home is None:
            return None
        self.shared.spreader.cancel(partial(_not_of, ident))
        state = home.release(offline=last)
        for_home(ident, _LOGGER.info)("No longer served by this worker")
        self._listen_soon()
        return state

    def drive(self, on: bool) -> None:
        """Drive the homes served, or hold everything back (the fleet's fence); driving
        again, each is announced and asked again."""
        self._drive(on)
        if on and self.link.connected:
            for home in self.homes.values():
                home.connected()

    def _pass_on(self, ident: str, event: dict[str, Any]) -> bool:
        """A fleet's worker passes each `cocoon_trigger` for a home of the site on as its
        press over MQTT (`control.passed_on`), for the home's owner, now or next."""
        cfg = self.site.homes.get(ident)
        if cfg is None or self.shared.worker is None:
            return False
        topics = Topics.for_worker(cfg, self.shared.worker)
        press = passed_on(cfg, topics, event, self.clock.now().timestamp())
        if press is not None:
            self.shared.publish(press)
        return press is not None

    def _listen_soon(self) -> None:
        """Subscribe to what the homes served now listen to, once for a turn's takes."""
        if not self._listen_pending:
            self._listen_pending = True
            asyncio.get_running_loop().call_soon(self._listen)

    def _listen(self) -> None:
        self._listen_pending = False
        self.switchboard.subscriptions()
        self.link.resubscribe()
        # Asked and announced once subscribed: the answers come on what was just asked for.
        taken, self._taken = self._taken, []
        if self._driving and self.link.connected:
            for home in taken:
                if self.homes.get(home.ident) is home:
                    home.connected()

    # -- life -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Wait while another cocoon runs these homes; then load each home's state, start
        the engines and the scheduler, and connect."""
        if self.ownership is not None:
            await self.ownership.wait_turn()
        for home in self.homes.values():
            home.start()
        self.scheduler.start()
        if self.hub is not None:
            await self.hub.start()
        await self.link.start()
        if self.fleet is not None:
            self.fleet.start()

    async def stop(self) -> None:
        """Stop in reverse order; the bus publishes `offline` before it disconnects."""
        if self.fleet is not None:
            await self.fleet.stop()  # every home released, for the others to take now
        self.shared.spreader.stop()
        if self.ownership is not None:
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
            serving = {ident: home.cfg for ident, home in self.homes.items()}
            homes = homes_to_serve(
                reading, self.site, serving, hub=self.hub is not None, log=_LOGGER
            )
            if homes is not None:
                self._follow(reading.site, homes)

    def _follow(self, site: Site, homes: dict[str, CocoonConfig]) -> None:
        """Serve `homes` (of `site`, each with its configuration) from now on: those gone
        give their devices back, those new start, those changed take their new one."""
        self.shared.pacers.follow(site.settings.rate_limit)
        if self.fleet is not None:
            # A fleet's worker reloads the homes it serves; it claims new ones in turn.
            homes = {ident: cfg for ident, cfg in homes.items() if ident in self.homes}
        for ident in [i for i in self.homes if i not in homes]:
            home = self.homes.pop(ident)
            self.shared.spreader.cancel(partial(_not_of, ident))
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


def _not_of(home: str, key: Hashable) -> bool:
    """Whether a spreader's key (home, what) is not one of `home`'s."""
    return not (isinstance(key, tuple) and key[:1] == (home,))
