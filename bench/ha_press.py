""" "Calm now" pressed through Home Assistant → the light in Home Assistant, on each version.

Run with `.venv/bin/python -m bench.ha_press [--presses N]` from the repository root
(bench/run does; about a minute). For each installation the tests use (2024.3.3 from
`.ha-venv`, 2026.11.0 from `.ha-current`, see tests/homeassistant.py): a Mosquitto and
that Home Assistant on free loopback ports, and cocoon's daemon (in a thread of this
process) on the example home of config/cocoon.yaml, pressed twice over: with the
example's own calm mode (`fade: 3min`), and with one that arrives at once (`fade: 0`).

One round: the sofa lamp at 180; t0 just before `POST /api/services/button/press` for
`button.cocoon_brussels_flat_calm_calm_now`; t1 the first REST read (polled every 5 ms)
that shows the sofa lamp changed: with the example's fade, at its first step (what a
person sees first), with `fade: 0` at the calm scene's 51. So the figure is press → MQTT
command topic → cocoon → websocket `light.turn_on` → Home Assistant's state, plus up to
one poll interval. After each round the mode is set back to `off` through Home Assistant
(given back at once, `fade_out: 0`) and the lamp's return is awaited. The target: a
press shows within a second.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.brokers import Mosquitto  # noqa: E402
from tests.daemon.harness import DaemonThread, config_of, wait_until  # noqa: E402
from tests.deploy.example import FLOOR, SOFA, example_home  # noqa: E402
from tests.homeassistant import HomeAssistant, Install, installs, light_brightness  # noqa: E402

from cocoon.runtime.clock import ScaledClock  # noqa: E402

CALM_NOW = "button.cocoon_brussels_flat_calm_calm_now"
MODE = "select.cocoon_brussels_flat_mode"
CALM_BRIGHTNESS, BEFORE = 51, 180
POLL = 0.005
AFTERNOON = "2026-11-25 14:00:00"  # no ritual runs


def _brightness(state: dict[str, Any] | None) -> int | None:
    return None if state is None else light_brightness(state)


def _until(
    hass: HomeAssistant, entity_id: str, shows: Callable[[int | None], bool], timeout: float = 10.0
) -> float:
    """Poll every POLL s until the light's brightness `shows`; the monotonic time it did."""
    deadline = time.monotonic() + timeout
    while not shows(_brightness(hass.get_state(entity_id))):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{entity_id} did not change as awaited in {timeout} s")
        time.sleep(POLL)
    return time.monotonic()


def measure(
    install: Install, presses: int, directory: Path, fade: str | int
) -> tuple[float, list[float]]:
    """Boot seconds and press → light seconds of `presses` rounds on one installation."""
    broker = Mosquitto(directory / "mosquitto")
    broker.start()
    hass = HomeAssistant(directory / "home-assistant", broker.port, install=install)
    changed: Callable[[int | None], bool] = (
        (lambda b: b == CALM_BRIGHTNESS) if fade == 0 else (lambda b: b != BEFORE)
    )
    try:
        hass.start()
        data = example_home(broker.port, hass.url, hass.token)
        data["calm_modes"]["calm_now"].update(fade=fade, fade_out=0)
        cfg = config_of(data, directory)
        clock = ScaledClock(datetime.fromisoformat(AFTERNOON).replace(tzinfo=cfg.home.zone), 1)
        times: list[float] = []
        with DaemonThread(cfg, directory / "state", clock=clock) as daemon:
            gateway = daemon.daemon.home_assistant
            assert gateway is not None
            wait_until(lambda: gateway.connected, what="cocoon connected to Home Assistant")
            hass.wait_for_state(CALM_NOW, lambda s: s["state"] != "unavailable", 20)
            hass.call_service(
                "light",
                "turn_on",
                {"entity_id": SOFA, "brightness": BEFORE, "color_temp_kelvin": 4000},
            )
            hass.call_service("light", "turn_on", {"entity_id": FLOOR, "brightness": 120})
            for _ in range(presses):
                time.sleep(0.3)  # an idle daemon meets each press, as in a home
                started = time.monotonic()
                hass.call_service("button", "press", {"entity_id": CALM_NOW})
                times.append(_until(hass, SOFA, changed) - started)
                hass.call_service("select", "select_option", {"entity_id": MODE, "option": "off"})
                _until(hass, SOFA, lambda b: b == BEFORE)
        return hass.boot_seconds or 0.0, times
    finally:
        hass.stop()
        broker.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=20)
    args = parser.parse_args()
    print(
        f'ha_press: "Calm now" through Home Assistant\'s button.press → the sofa lamp changed '
        f"in Home Assistant's state; {args.presses} presses per version and calm mode, "
        f"REST polled every {POLL * 1000:.0f} ms"
    )
    rows = [("Home Assistant", "calm mode", "boot", "p50", "min", "max", "target ≤ 1 s")]
    met = True
    for install in installs():
        for fade, what in (("3min", "example (fade 3min)"), (0, "fade 0")):
            with tempfile.TemporaryDirectory(prefix="ha-press-") as directory:
                boot, times = measure(install, args.presses, Path(directory), fade)
            met = met and max(times) <= 1.0
            rows.append(
                (
                    install.version or install.name,
                    what,
                    f"{boot:.1f} s",
                    f"{statistics.median(times) * 1000:.0f} ms",
                    f"{min(times) * 1000:.0f} ms",
                    f"{max(times) * 1000:.0f} ms",
                    "met" if max(times) <= 1.0 else "missed",
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
