"""A real Mosquitto for tests: its own config, a free loopback port, started and stopped by us
(`tests.processes.Program`).

It runs as root with `user root`,
because mosquitto started as root otherwise drops to user `mosquitto` and cannot write
its log and persistence in a root-owned temporary directory. Persistence is saved on
every change, so even a SIGKILL keeps retained messages and persistent sessions.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

from .processes import Program

HOST = "127.0.0.1"
_START_TIMEOUT = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class Mosquitto(Program):
    """One mosquitto broker on `host:port`, with its config, log and persistence in `dir`."""

    host = HOST
    name = "mosquitto"

    def __init__(self, directory: Path, port: int | None = None) -> None:
        super().__init__()
        self.dir = directory
        self.port = port if port is not None else free_port()
        self.log_path = directory / "mosquitto.log"
        self.config_path = directory / "mosquitto.conf"

    def start(self) -> None:
        """Write the config, start the broker and wait until its port accepts connections."""
        if self.running:
            raise RuntimeError(f"mosquitto on port {self.port} is already running")
        executable = shutil.which("mosquitto") or _sbin("mosquitto")
        if executable is None:
            raise RuntimeError(
                "mosquitto is not installed, and the MQTT tests need the real broker: "
                "install the Debian package `mosquitto` (apt-get install mosquitto, "
                "or run scripts/system-packages)"
            )
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self._config(), encoding="utf-8")
        self._spawn([executable, "-c", str(self.config_path)])
        self._wait_ready(
            self._accepts, f"accepting connections on port {self.port}", _START_TIMEOUT, 0.01
        )

    def _config(self) -> str:
        return "\n".join(
            [
                f"listener {self.port} {self.host}",
                "allow_anonymous true",
                "persistence true",
                f"persistence_location {self.dir}/",
                "autosave_interval 1",
                "autosave_on_changes true",
                "user root",
                f"log_dest file {self.log_path}",
                "log_type all",
                "max_queued_messages 10000",
                # As deploy/docker/mosquitto.conf: a small message right after another is
                # not held back (Nagle) until the first is acknowledged (40 ms on Linux).
                "set_tcp_nodelay true",
                "",
            ]
        )

    def _accepts(self) -> bool:
        """Whether the broker's port takes a connection now."""
        try:
            with socket.create_connection((self.host, self.port), timeout=0.2):
                return True
        except OSError:
            return False


def _sbin(name: str) -> str | None:
    """Debian installs mosquitto in /usr/sbin, which is not on every user's PATH."""
    candidate = Path("/usr/sbin") / name
    return str(candidate) if candidate.exists() else None
