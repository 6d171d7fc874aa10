"""A real etcd for tests: one member on free loopback ports, its data in `dir`.

Debian's `etcd-server` (3.4): the client and peer ports are chosen free on 127.0.0.1, so
it never meets an etcd on the usual 2379/2380. Ready means `GET /health` says
`{"health":"true"}`. A restart keeps the data directory, hence the keys and leases (etcd
gives every lease its full time to live again when it comes back).
"""

from __future__ import annotations

import base64
import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from .brokers import HOST, free_port
from .processes import Program

_START_TIMEOUT = 20.0


class Etcd(Program):
    """One etcd member serving clients on `host:port`."""

    host = HOST
    name = "etcd"

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.dir = directory
        self.port = free_port()
        self.peer_port = free_port()
        self.log_path = directory / "etcd.log"

    @property
    def url(self) -> str:
        """What `cocoon run --fleet` takes: etcd://127.0.0.1:PORT."""
        return f"etcd://{self.host}:{self.port}"

    def start(self) -> None:
        """Start the member and wait until it says it is healthy."""
        executable = shutil.which("etcd")
        if executable is None:
            raise RuntimeError(
                "etcd is not installed, and the fleet's tests need the real one: install "
                "the Debian package `etcd-server` (or run scripts/system-packages)"
            )
        self.dir.mkdir(parents=True, exist_ok=True)
        client = f"http://{self.host}:{self.port}"
        peer = f"http://{self.host}:{self.peer_port}"
        with self.log_path.open("ab") as log:
            self._spawn(
                [
                    executable,
                    "--name=test",
                    f"--data-dir={self.dir / 'data'}",
                    f"--listen-client-urls={client}",
                    f"--advertise-client-urls={client}",
                    f"--listen-peer-urls={peer}",
                    f"--initial-advertise-peer-urls={peer}",
                    f"--initial-cluster=test={peer}",
                    "--initial-cluster-state=new",
                    "--initial-cluster-token=cocoon-test",
                    "--logger=zap",
                    "--log-outputs=stderr",
                ],
                output=log,
            )
        self._wait_ready(self.healthy, f"healthy on port {self.port}", _START_TIMEOUT)

    def healthy(self) -> bool:
        """Whether the member answers `/health` with true."""
        try:
            with urllib.request.urlopen(
                f"http://{self.host}:{self.port}/health", timeout=1
            ) as reply:
                return bool(json.loads(reply.read()).get("health") == "true")
        except (OSError, urllib.error.URLError, ValueError):
            return False

    def keys(self, prefix: str) -> dict[str, str]:
        """Every key under `prefix` with its value, through etcd's JSON gateway."""
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        body = json.dumps(
            {
                "key": base64.b64encode(prefix.encode()).decode(),
                "range_end": base64.b64encode(end.encode()).decode(),
            }
        ).encode()
        request = urllib.request.Request(
            f"http://{self.host}:{self.port}/v3/kv/range", data=body, method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as reply:
            found = json.loads(reply.read())
        return {
            base64.b64decode(kv["key"]).decode(): base64.b64decode(kv.get("value", "")).decode()
            for kv in found.get("kvs", [])
        }
