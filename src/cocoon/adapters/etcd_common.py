"""What a fleet says of etcd without etcd's client: where it is, and that it is away.

`cocoon run --fleet` reads its options with these, and the fleet catches `EtcdUnavailable`,
whether or not the optional client (aetcd, the `fleet` extra) is installed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cocoon.errors import CocoonError


class EtcdUnavailable(CocoonError):
    """etcd did not answer (down, paused, unreachable)."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One etcd member's client address."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def parse_endpoints(url: str) -> tuple[list[Endpoint], str]:
    """`etcd://HOST:PORT[,HOST:PORT…][/NAME]`: the endpoints and the fleet's name ("" when
    not given). Raises ValueError saying what is wrong."""
    scheme, separator, rest = url.partition("://")
    if not separator or scheme != "etcd":
        raise ValueError(f"--fleet takes etcd://HOST:PORT[,HOST:PORT…][/NAME], not {url!r}")
    hosts, _, name = rest.partition("/")
    endpoints = []
    for part in hosts.split(","):
        host, colon, port = part.strip().rpartition(":")
        if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"--fleet: {part.strip()!r} is not HOST:PORT (in {url!r})")
        endpoints.append(Endpoint(host.strip("[]"), int(port)))
    if name and not all(c.isalnum() or c in "-_." for c in name):
        raise ValueError(f"--fleet: the fleet's name {name!r} takes letters, digits, - _ . only")
    return endpoints, name


def worker_document(name: str, pid: int, host: str) -> bytes:
    """What a worker's key says of it (for people reading etcd)."""
    document: dict[str, Any] = {"worker": name, "pid": pid, "host": host}
    return json.dumps(document, separators=(",", ":")).encode()
