"""The Docker HEALTHCHECK of cocoon: healthy when the daemon is online and its state fresh.

Run as `python healthcheck.py [CONFIG]` (default: $COCOON_CONFIG, else
config/cocoon.yaml). It asks the broker, the way `cocoon status` does, for the
daemon's retained availability and status, and exits

- 0 when cocoon says `online` and its status is fresh;
- 1 when the broker cannot be reached, cocoon is `offline` (its last will, sent by the
  broker when the connection dies), it has never published a status, or the status
  is stale: it promised something (the next ritual's start, a calm mode's end) that
  is more than five minutes past. The daemon wakes up for each of those moments and
  publishes a new status, so a status still promising one is from a daemon that no
  longer runs its loop. While idle, cocoon publishes nothing, so the status's age
  alone says nothing.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cocoon.config.load import load_config
from cocoon.errors import CocoonError
from cocoon.remote import fetch_status

DEFAULT = "config/cocoon.yaml"
LATE = timedelta(minutes=5)
"""How far past a promised moment a status may be before it counts as stale."""


def _moment(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def problem(document: dict[str, Any] | None, online: bool, now: datetime) -> str | None:
    """What is wrong with the daemon, from its status and availability; None when healthy."""
    if not online:
        return "cocoon is offline (or has never been online on this broker)"
    if document is None:
        return "cocoon is online but has published no status"
    promised = {"the next ritual's start": _moment(document.get("next_ritual_at"))}
    calm_until = document.get("calm_until")
    if isinstance(calm_until, dict):
        for name, end in calm_until.items():
            promised[f"the end of calm mode {name}"] = _moment(end)
    for what, moment in promised.items():
        if moment is not None and now - moment > LATE:
            return f"cocoon's status is stale: {what} ({moment.isoformat()}) has passed"
    return None


def main(argv: list[str]) -> int:
    """Check the daemon of the configuration in argv[1] (or $COCOON_CONFIG); exit status."""
    config = Path(argv[1] if len(argv) > 1 else os.environ.get("COCOON_CONFIG") or DEFAULT)
    try:
        document, online = asyncio.run(fetch_status(load_config(config)))
    except CocoonError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    found = problem(document, online, datetime.now(UTC))
    if found is not None:
        print(f"unhealthy: {found}", file=sys.stderr)
        return 1
    print("healthy: cocoon is online and its status is fresh")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
