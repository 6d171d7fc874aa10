"""How `cocoon run --fleet` is told which fleet to join, and as whom."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from cocoon.adapters.etcd_common import Endpoint
from cocoon.app.fleet import Fleet, Serving
from cocoon.app.fleet_store import Fence
from cocoon.errors import CocoonError

DEFAULT_LEASE = 10
"""Seconds a worker's lease lives without renewal (`--lease`): a dead worker's homes are
taken over within about this, and a worker cut off from etcd stops after half of it."""
DEFAULT_FLEET = "default"
"""The fleet's name when `--fleet` names none (its keys are under /cocoon/<name>/)."""


@dataclass(frozen=True, slots=True)
class FleetOptions:
    """`cocoon run --fleet etcd://HOST:PORT[,…][/NAME] [--worker NAME] [--lease SECONDS]`."""

    endpoints: list[Endpoint]
    name: str
    worker: str
    lease: int = DEFAULT_LEASE

    def join(self, serving: Serving, fence: Fence | None) -> Fleet:
        """This worker's part in the fleet, for the process `serving` the homes."""
        try:
            from cocoon.adapters.etcd import Etcd  # the fleet's extra, only when needed
        except ImportError as exc:
            raise CocoonError(
                f"cocoon run --fleet needs etcd's client ({exc}): pip install "
                "'cocoon-home[fleet]' (from a clone: pip install '.[fleet]')"
            ) from exc
        etcd = Etcd(self.endpoints, timeout=max(0.5, self.lease / 4))
        return Fleet(
            etcd,
            serving,
            fleet=self.name or DEFAULT_FLEET,
            worker=self.worker,
            ttl=self.lease,
            fence=fence or Fence(self.lease),
        )


def default_worker() -> str:
    """A worker's name when none is given: the machine's."""
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in socket.gethostname())
    return name or "worker"
