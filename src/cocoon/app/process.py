"""`cocoon run`: the daemon as a process, from its start to a signal that ends it.

SIGTERM and SIGINT stop it (within 5 s), also while it waits for another cocoon to let
go of these homes; SIGHUP reloads the configuration, one reload at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Callable
from pathlib import Path

from cocoon import installed_version
from cocoon.app import Daemon
from cocoon.app.fleet_options import FleetOptions
from cocoon.config.site import Site, load_site

_LOGGER = logging.getLogger(__name__)


def describe(site: Site, state_dir: Path, fleet: FleetOptions | None = None) -> str:
    """What `cocoon run` serves, for its first log line."""
    devices = sum(len(cfg.devices) for cfg in site.homes.values())
    rituals = sum(len(cfg.rituals) for cfg in site.homes.values())
    if site.single:
        cfg = next(iter(site.homes.values()))
        what = cfg.home.name
    else:
        what = f"{len(site.homes)} home{'s' * (len(site.homes) != 1)}"
    if fleet is not None:
        what = f"its share of {what}, as worker {fleet.worker!r} of a fleet"
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
    fleet: FleetOptions | None = None,
) -> int:
    """`cocoon run`: the daemon until SIGTERM or SIGINT; SIGHUP reloads the configuration.

    `site` is what `config` says, when it was read already; `fleet` makes it a worker of
    a fleet.
    """
    site = site or load_site(config)
    daemon = Daemon(site, state_dir, fleet=fleet)
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
    _LOGGER.info("%s", describe(site, state_dir, fleet))
    if on_ready is not None:
        on_ready()
    await stopping.wait()
    _LOGGER.info("Stopping")
    await asyncio.wait_for(daemon.stop(), timeout=5)
    return 0
