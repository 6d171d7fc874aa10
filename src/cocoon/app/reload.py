"""A reload (SIGHUP): which homes to serve, each with which configuration, once the
site is read again.

What a reload may change: the homes, and each home's configuration. A site that is now
the other kind (a home of its own, a building) is refused as a whole until the next
restart, and so are changes to the connections (`mqtt:`, `home_assistant:`). A home
whose own part is invalid keeps its last good configuration (a new one is not started),
and so does a home that now names a device such a home still drives: a device never has
two drivers. Each of these is said in the log, before anything changes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from collections.abc import Set as AbstractSet

from cocoon.app.home import network
from cocoon.app.shared import any_entity
from cocoon.config.schema import CocoonConfig
from cocoon.config.site import Site, SiteReading
from cocoon.ports import for_home


def homes_to_serve(
    reading: SiteReading,
    site: Site,
    serving: Mapping[str, CocoonConfig],
    *,
    hub: bool,
    log: logging.Logger,
) -> dict[str, CocoonConfig] | None:
    """The homes to serve after `reading` (each home's id and configuration, in order),
    while serving `site` (`serving`: each home's configuration now, `hub`: whether Home
    Assistant is linked); None when the new site is refused as a whole. `log` says why."""
    new = reading.site
    if new.single != site.single:
        log.error(
            "The new configuration is a %s; keeping the old one until the next restart",
            "home of its own" if new.single else "building (homes:)",
        )
        return None
    if new.mqtt != site.mqtt:
        log.warning("Changes to the mqtt: section take effect at the next restart")
    if new.home_assistant != site.home_assistant:
        log.warning("Changes to the home_assistant: section take effect at the next restart")
    for ident, problem in reading.broken.items():
        keeping = "keeping its last good one" if ident in serving else "not started"
        for_home(ident, log.error)(
            "The new configuration of this home is invalid; %s:\n%s", keeping, problem
        )
    if not hub and new.home_assistant is not None and any_entity(new):
        log.warning("Home Assistant devices new to this process take effect at the next restart")
    homes = dict(new.homes)
    if new.single:
        # A home of its own is the same home whatever it is called now.
        homes = {next(iter(serving)): next(iter(new.homes.values()))}
    kept = frozenset(reading.broken) & serving.keys()
    for ident in kept:
        homes[ident] = serving[ident]
    _keep_what_kept_homes_hold(homes, kept, serving, log)
    return homes


def _keep_what_kept_homes_hold(
    homes: dict[str, CocoonConfig],
    kept: AbstractSet[str],
    serving: Mapping[str, CocoonConfig],
    log: logging.Logger,
) -> None:
    """A home that now names a device a kept home (its file broken) still drives keeps
    its own last good configuration too (or is not started): one driver per device."""
    held = {claim: ident for ident in kept for claim in _claims(homes[ident])}
    for ident, cfg in list(homes.items()):
        taken = sorted(f"{claim[1]} ({held[claim]})" for claim in _claims(cfg) & held.keys())
        if ident in kept or not taken:
            continue
        last_good = serving.get(ident)
        for_home(ident, log.error)(
            "The new configuration of this home names what a home kept as it was still "
            "drives: %s; %s",
            ", ".join(taken),
            "keeping its last good one" if last_good is not None else "not started",
        )
        if last_good is not None:
            homes[ident] = last_good
        else:
            del homes[ident]


def _claims(cfg: CocoonConfig) -> set[tuple[str, str]]:
    """The devices a home drives, as a network sees them: (network, name or entity)."""
    return {
        (network(cfg, name), device.zigbee2mqtt or device.entity or name)
        for name, device in cfg.devices.items()
    }
