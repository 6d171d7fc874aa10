"""The README's pictures in docs/pictures/, made by `scripts/pictures` (which runs
`python -m tests.deploy.pictures`), never by the test suite:

- `day.png`: `cocoon plan --png` of the example home (config/cocoon.yaml) on a fixed
  autumn day;
- `dashboard.png`: deploy/dashboard.yaml in the current Home Assistant (2026.11), in
  Debian's headless Chromium, with cocoon running the example home on an autumn
  evening: its Zigbee2MQTT devices simulated on a Mosquitto of its own, its Home
  Assistant devices played by the demo's (as in test_dashboard_browser.py, whose
  Home Assistant, login and browser settings this reuses). The browser reaches
  nothing but 127.0.0.1.

Each picture is recorded in docs/pictures/SOURCES with one digest of the files it is
made from (`INPUTS`); test_pictures.py recomputes the digests and names the command
to run when a picture is older than its inputs.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from .example import DASHBOARD, ROOT

PICTURES = ROOT / "docs" / "pictures"
SOURCES = PICTURES / "SOURCES"
COMMAND = "scripts/pictures"

# A Wednesday in October: morning tea (weekdays), an evening that starts at 18:00
# (sunset is later than 18:30), a long night.
DAY = date(2026, 10, 14)
# The dashboard on the evening of the day it is made, once the evening ritual has
# faded in (cocoon joins it where it stands, then glides there); cocoon's clock runs
# EVENING_SPEED times as fast, and the browser's is set to cocoon's when it opens.
EVENING_SINCE = timedelta(minutes=50)
EVENING_SPEED = 20.0
# The basil is thirsty (below its 30 %), the monstera is not (above its 25 %).
BASIL_MOISTURE, MONSTERA_MOISTURE = 22.0, 41.0

HOME_ZONE = "Europe/Brussels"  # config/cocoon.yaml's, for the dashboard's times

PLAN_COMMAND = f"cocoon plan --config config/cocoon.yaml --png docs/pictures/day.png --date {DAY}"


@dataclass(frozen=True)
class Picture:
    """A picture in docs/pictures/ and the files (globs from the root) it is made from."""

    name: str
    inputs: tuple[str, ...]

    @property
    def path(self) -> Path:
        """Where it is."""
        return PICTURES / self.name


THIS = "tests/deploy/pictures.py"  # the day, the evening, the plants, the window size
DAY_PICTURE = Picture(
    "day.png",
    (
        "config/cocoon.yaml",
        "config/secrets.yaml",
        "src/cocoon/config/*.py",
        "src/cocoon/core/**/*.py",
        "src/cocoon/report/*.py",
        THIS,
    ),
)
DASHBOARD_PICTURE = Picture(
    "dashboard.png",
    (
        "deploy/dashboard.yaml",
        "src/cocoon/adapters/dashboard.py",
        # What cocoon announces and what its entities say: names, icons, states.
        "config/cocoon.yaml",
        "src/cocoon/adapters/discovery.py",
        "src/cocoon/adapters/labels.py",
        "src/cocoon/core/names.py",
        "src/cocoon/core/status.py",
        "tests/deploy/example.py",
        THIS,
    ),
)
PICTURES_MADE = (DAY_PICTURE, DASHBOARD_PICTURE)


def input_files(picture: Picture, root: Path = ROOT) -> list[Path]:
    """The files behind a picture, in a fixed order; a glob that finds nothing is an error."""
    found: set[Path] = set()
    for pattern in picture.inputs:
        matches = [path for path in root.glob(pattern) if path.is_file()]
        if not matches:
            raise FileNotFoundError(f"{picture.name}: no file matches {pattern}")
        found.update(matches)
    return sorted(found, key=lambda path: path.relative_to(root).as_posix())


def digest(picture: Picture, root: Path = ROOT) -> str:
    """One SHA-256 over the names and bytes of the files behind a picture."""
    sha = hashlib.sha256()
    for path in input_files(picture, root):
        name = path.relative_to(root).as_posix().encode()
        content = path.read_bytes()
        sha.update(b"%d:%s%d:" % (len(name), name, len(content)))
        sha.update(content)
    return sha.hexdigest()


def recorded() -> dict[str, Any]:
    """docs/pictures/SOURCES as data ({} when there is none)."""
    if not SOURCES.exists():
        return {}
    data = yaml.safe_load(SOURCES.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _record(entries: dict[str, dict[str, Any]]) -> None:
    header = (
        f"# Written by {COMMAND}: each picture with the digest of the files it was made\n"
        "# from (tests/deploy/pictures.py, INPUTS) and how. tests/deploy/test_pictures.py\n"
        f"# recomputes the digests; when one differs, run {COMMAND}.\n"
    )
    SOURCES.write_text(
        header + yaml.safe_dump(entries, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )


def make_day() -> dict[str, Any]:
    """Draw day.png with `cocoon plan --png`; its SOURCES entry."""
    cocoon = Path(sys.executable).parent / "cocoon"
    arguments = PLAN_COMMAND.split()[1:]
    subprocess.run([str(cocoon), *arguments], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return {"inputs": digest(DAY_PICTURE), "made_with": PLAN_COMMAND}


def _chromium_version(chromium: Path) -> str:
    result = subprocess.run(
        [str(chromium), "--version"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or "chromium"


@dataclass
class _World:
    """Mosquitto, Home Assistant with the dashboard, the simulated devices, cocoon."""

    directory: Path
    clock: Any = None
    """cocoon's clock, once started (a ScaledClock)."""

    def start(self, stack: ExitStack) -> Any:
        from cocoon.adapters.simulator import Zigbee2MqttSimulator
        from cocoon.core.schedule import ritual_window
        from cocoon.runtime.clock import ScaledClock

        from ..brokers import Mosquitto
        from ..daemon.harness import DaemonThread, config_of
        from ..homeassistant import HomeAssistant, current, light_brightness
        from .example import SOFA, example_home
        from .test_dashboard_browser import (
            DASHBOARD_FILE,
            EXTRA_YAML,
            PASSWORD,
            USERNAME,
            add_login,
        )

        broker = Mosquitto(self.directory / "mosquitto")
        broker.start()
        stack.callback(broker.stop)
        hass = HomeAssistant(
            self.directory / "home-assistant",
            broker.port,
            extra_yaml=EXTRA_YAML,
            install=current(),
        )
        # The example home's dashboard (deploy/dashboard.yaml), with the demo's entities
        # standing in for the example's Home Assistant devices.
        cfg = config_of(example_home(broker.port, hass.url, hass.token), self.directory)
        (hass.dir / DASHBOARD_FILE).write_text(_with_stand_ins(), encoding="utf-8")
        add_login(hass, USERNAME, PASSWORD)
        # The home's time zone, so that the next ritual shows at its local time.
        configuration = hass.dir / "configuration.yaml"
        text = configuration.read_text(encoding="utf-8")
        if "time_zone: UTC\n" not in text:
            raise RuntimeError(f"{configuration}: no `time_zone: UTC` to replace")
        configuration.write_text(
            text.replace("time_zone: UTC\n", f"time_zone: {HOME_ZONE}\n"), encoding="utf-8"
        )
        hass.start()
        stack.callback(hass.stop)
        hass.call_service(
            "input_number",
            "set_value",
            {"entity_id": "input_number.plant_moisture", "value": MONSTERA_MOISTURE},
        )
        simulator = Zigbee2MqttSimulator(cfg, broker.host, broker.port)
        simulator.start()
        stack.callback(simulator.stop)
        evening = ritual_window(cfg, "evening", datetime.now(cfg.home.zone).date()).start
        self.clock = ScaledClock(evening + EVENING_SINCE, speed=EVENING_SPEED)
        stack.enter_context(DaemonThread(cfg, self.directory / "state", clock=self.clock))
        node = "cocoon_brussels_flat"
        hass.wait_for_state(
            f"sensor.{node}_active_scene", lambda s: s["state"] == "Evening", timeout=30
        )
        evening_look = round(255 * 0.35)  # config/cocoon.yaml's evening: the sofa at 35 %
        hass.wait_for_state(
            SOFA, lambda s: abs((light_brightness(s) or 0) - evening_look) <= 1, timeout=60
        )
        # Reported once cocoon listens: a sensor's report is not kept by the broker.
        simulator.set_reading("basil_sensor", "soil_moisture", BASIL_MOISTURE)
        hass.wait_for_state(
            f"sensor.{node}_plants_needing_care", lambda s: s["state"] == "1", timeout=30
        )
        return hass


def _with_stand_ins() -> str:
    """deploy/dashboard.yaml with the demo's entity for each of the example's entities."""
    from .example import STAND_INS, example_data

    text = DASHBOARD.read_text(encoding="utf-8")
    devices = example_data()["devices"]
    for device, where in STAND_INS.items():
        entity = devices[device].get("entity")
        if entity is not None:
            text = re.sub(rf"\b{re.escape(entity)}\b", where["entity"], text)
    return text


def make_dashboard() -> dict[str, Any]:
    """Take dashboard.png in Chromium; its SOURCES entry."""
    from playwright.sync_api import sync_playwright

    from .test_dashboard_browser import CHROMIUM, loopback_browser, open_dashboard

    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: {COMMAND} installs Debian's chromium")
    outside: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="cocoon-pictures-") as directory,
        ExitStack() as stack,
    ):
        world = _World(Path(directory))
        hass = world.start(stack)
        playwright = stack.enter_context(sync_playwright())
        browser = loopback_browser(
            playwright,
            Path(directory) / "chromium-profile",
            outside,
            {"width": 1100, "height": 700},
            timezone_id=HOME_ZONE,  # the frontend shows times in the browser's zone
        )
        stack.callback(browser.close)
        page = browser.pages[0] if browser.pages else browser.new_page()
        # The frontend says "in 3 hours" by the browser's clock: cocoon's evening.
        page.clock.install(time=world.clock.now())
        open_dashboard(page, hass.url)
        page.locator("hui-button-card").filter(has_text="Calm now").wait_for()
        page.get_by_text("Plants needing care").wait_for()
        page.locator("hui-tile-card").filter(has_text="Active scene").get_by_text(
            "Evening"
        ).wait_for()
        page.wait_for_load_state("networkidle")
        if page.locator("hui-warning").count():
            raise SystemExit("the dashboard shows a warning: an entity is missing")
        page.mouse.move(1090, 690)  # no hover highlight on a card
        page.wait_for_timeout(600)  # the cards' entrance animations
        page.screenshot(path=str(DASHBOARD_PICTURE.path), full_page=True)
        version = hass.install.version
    if outside:
        raise SystemExit(f"the browser tried to reach beyond 127.0.0.1: {outside}")
    return {
        "inputs": digest(DASHBOARD_PICTURE),
        "made_with": (
            f"Home Assistant {version}, {_chromium_version(CHROMIUM)}, the evening ritual"
            f" of {datetime.now().date()} {EVENING_SINCE} after its start"
        ),
    }


def main(argv: list[str]) -> int:
    """Make the pictures named in argv (all when none), then rewrite SOURCES."""
    wanted = set(argv) or {picture.name for picture in PICTURES_MADE}
    unknown = wanted - {picture.name for picture in PICTURES_MADE}
    if unknown:
        print(f"pictures: no such picture: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    PICTURES.mkdir(parents=True, exist_ok=True)
    entries = {name: entry for name, entry in recorded().items() if isinstance(entry, dict)}
    makers = {DAY_PICTURE.name: make_day, DASHBOARD_PICTURE.name: make_dashboard}
    for picture in PICTURES_MADE:
        if picture.name in wanted:
            started = time.monotonic()
            entries[picture.name] = makers[picture.name]()
            seconds = time.monotonic() - started
            print(f"pictures: {picture.path.relative_to(ROOT)} in {seconds:.0f} s", flush=True)
            _record({p.name: entries[p.name] for p in PICTURES_MADE if p.name in entries})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
