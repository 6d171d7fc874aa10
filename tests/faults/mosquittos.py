"""Mosquitto with a config of the test's choosing: tests.brokers.Mosquitto, options changed.

`options` replaces (or, with None, removes) top-level options of the base config; `listener`
lines go right after the `listener` line (TLS files apply to that listener).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ..brokers import Mosquitto

# The base broker saves its database on every change: 10 000 retained messages would mean
# 10 000 saves of a growing file. Saving once a minute is what an installation would do.
QUICK_SAVES = {"autosave_interval": "60", "autosave_on_changes": "false"}


class TunedMosquitto(Mosquitto):
    """A Mosquitto whose generated config has some options changed."""

    def __init__(
        self,
        directory: Path,
        port: int | None = None,
        *,
        options: dict[str, str | None] | None = None,
        listener: list[str] | None = None,
    ) -> None:
        super().__init__(directory, port)
        self.options = options or {}
        self.listener = listener or []

    def _config(self) -> str:
        lines: list[str] = []
        for line in super()._config().splitlines():
            key = line.split(" ", 1)[0]
            if key in self.options:
                value = self.options[key]
                if value is not None:
                    lines.append(f"{key} {value}")
                continue
            lines.append(line)
            if key == "listener":
                lines.extend(self.listener)
        present = {line.split(" ", 1)[0] for line in lines}
        lines.extend(
            f"{k} {v}" for k, v in self.options.items() if v is not None and k not in present
        )
        return "\n".join(lines) + "\n"


def _tool(name: str) -> str:
    found = shutil.which(name) or (
        f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None
    )
    if found is None:
        raise RuntimeError(f"{name} is not installed (Debian package mosquitto / openssl)")
    return found


def password_file(path: Path, users: dict[str, str]) -> Path:
    """A Mosquitto password file made by mosquitto_passwd (hashed, never plain text)."""
    tool = _tool("mosquitto_passwd")
    for number, (user, password) in enumerate(users.items()):
        create = ["-c"] if number == 0 else []
        subprocess.run([tool, *create, "-b", str(path), user, password], check=True, timeout=30)
    return path


def tls_files(directory: Path, host: str = "127.0.0.1") -> dict[str, Path]:
    """A throwaway CA and a server certificate for `host` (in its subjectAltName), by openssl."""
    tool = _tool("openssl")
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "ca_key": directory / "ca.key",
        "ca": directory / "ca.crt",
        "key": directory / "server.key",
        "csr": directory / "server.csr",
        "cert": directory / "server.crt",
        "ext": directory / "server.ext",
    }
    files["ext"].write_text(
        f"subjectAltName = IP:{host}\nbasicConstraints = CA:FALSE\n"
        "keyUsage = digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\n"
    )

    def run(*args: str) -> None:
        subprocess.run([tool, *args], check=True, timeout=60, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test CA",
        "-keyout", str(files["ca_key"]), "-out", str(files["ca"]))  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(files["key"]),
        "-out", str(files["csr"]), "-subj", f"/CN={host}")  # fmt: skip
    run("x509", "-req", "-in", str(files["csr"]), "-CA", str(files["ca"]),
        "-CAkey", str(files["ca_key"]), "-CAcreateserial", "-days", "2",
        "-out", str(files["cert"]), "-extfile", str(files["ext"]))  # fmt: skip
    return files
