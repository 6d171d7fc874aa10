"""The dashboard in deploy/dashboard.yaml, clicked in a real browser.

A real Home Assistant with its frontend (each installation: 2024.3.3 and 2026.11.0)
serves, as a YAML-mode dashboard, what `cocoon dashboard` prints for the example home
with the demo's lights and climate in place of its own (deploy/dashboard.yaml is the
same for the example's own devices); cocoon runs against it; Debian's headless Chromium,
driven by Playwright, logs in through Home Assistant's login form, opens the
dashboard, and presses "Calm now". The demo
lights must reach the calm scene in Home Assistant's states. Screenshots of the
dashboard before and after the press go to the test's `tmp_path` and to
`test-artifacts/` at the top of the repository, one set per Home Assistant version.

The browser reaches nothing but 127.0.0.1: its host resolver maps every other name
to nothing, and a route aborts (and the test fails on) any request elsewhere.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from playwright.sync_api import (
    BrowserContext,
    Page,
    Playwright,
    Route,
    ViewportSize,
    sync_playwright,
)

from cocoon.adapters.dashboard import dashboard_yaml
from cocoon.runtime.clock import ScaledClock

from ..brokers import Mosquitto
from ..daemon.harness import DaemonThread, config_of
from ..homeassistant import HomeAssistant, Install, light_brightness
from .example import FLOOR, ROOT, SOFA, example_home
from .readme import blocks

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
# Headless, as root (so no sandbox), and quiet: nothing that phones home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
ARTIFACTS = ROOT / "test-artifacts"

VIEW = "cocoon"  # the view's `path` in deploy/dashboard.yaml
USERNAME, PASSWORD = "cocoon", "a-quiet-evening"
CALM_NOW = "button.cocoon_brussels_flat_calm_calm_now"
# The README's `lovelace:` block, as a person adds it to configuration.yaml. Plus
# `frontend:`, and `recorder:` because the frontend asks for `recorder/info` on every
# page (a real installation has both through `default_config:`); without the
# recorder the page logs an unhandled "unknown command" rejection.
(LOVELACE,) = blocks("The dashboard", "yaml")
EXTRA_YAML = "frontend:\nrecorder:\n" + LOVELACE
((URL_PATH, _DASHBOARD),) = yaml.safe_load(LOVELACE)["lovelace"]["dashboards"].items()
DASHBOARD_FILE = _DASHBOARD["filename"]
# A quiet afternoon: no ritual runs (morning tea is over, the evening starts at
# 18:00), so what the lights do after the press is the calm mode's doing alone.
AFTERNOON = "2026-11-25 14:00:00"


def add_login(hass: HomeAssistant, username: str, password: str) -> None:
    """Give the harness's admin a username and password, as onboarding would have.

    The harness seeds a user with a token only; Home Assistant's own auth provider keeps
    a bcrypt hash (computed with Home Assistant's bcrypt, in its venv) and the user's
    auth store links it to the user as a credential.
    """
    hashed = subprocess.run(
        hass.install.command(
            "python",
            "-c",
            "import base64, bcrypt, sys; "
            "print(base64.b64encode(bcrypt.hashpw(sys.argv[1].encode(), "
            "bcrypt.gensalt(rounds=4))).decode())",
            password,
        ),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    storage = hass.dir / ".storage"
    auth = json.loads((storage / "auth").read_text(encoding="utf-8"))
    user_id = auth["data"]["users"][0]["id"]
    auth["data"]["credentials"].append(
        {
            "id": uuid.uuid4().hex,
            "user_id": user_id,
            "auth_provider_type": "homeassistant",
            "auth_provider_id": None,
            "data": {"username": username},
        }
    )
    (storage / "auth").write_text(json.dumps(auth), encoding="utf-8")
    provider = {
        "version": 1,
        "minor_version": 1,
        "key": "auth_provider.homeassistant",
        "data": {"users": [{"username": username, "password": hashed}]},
    }
    (storage / "auth_provider.homeassistant").write_text(json.dumps(provider), encoding="utf-8")


def loopback_browser(
    playwright: Playwright,
    profile: Path,
    outside: list[str],
    viewport: ViewportSize,
    **options: Any,
) -> BrowserContext:
    """Debian's Chromium on a fresh `profile`, reaching 127.0.0.1 only: any other request
    is aborted and its address added to `outside`."""
    browser = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        headless=True,
        chromium_sandbox=False,
        args=CHROMIUM_ARGS,
        viewport=viewport,
        service_workers="block",
        **options,
    )

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", None):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    browser.route("**/*", only_loopback)
    return browser


def open_dashboard(page: Page, hass_url: str) -> None:
    """Open cocoon's dashboard as a person does: the frontend sends them to the login
    form first."""
    page.goto(f"{hass_url}/{URL_PATH}/{VIEW}")
    page.wait_for_url("**/auth/authorize?**")
    page.get_by_role("textbox", name="Username").fill(USERNAME)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**/{URL_PATH}/{VIEW}")


@pytest.fixture
def dashboard_home(
    tmp_path: Path, fresh_mosquitto: Mosquitto, ha_install: Install
) -> Iterator[HomeAssistant]:
    """A Home Assistant with its frontend, cocoon's dashboard for the home, a login."""
    hass = HomeAssistant(
        tmp_path / "home-assistant",
        fresh_mosquitto.port,
        extra_yaml=EXTRA_YAML,
        install=ha_install,
    )
    cfg = config_of(example_home(fresh_mosquitto.port, hass.url, hass.token), tmp_path)
    (hass.dir / DASHBOARD_FILE).write_text(dashboard_yaml(cfg), encoding="utf-8")
    add_login(hass, USERNAME, PASSWORD)
    hass.start()
    yield hass
    hass.stop()


def _kelvin(state: dict[str, Any]) -> int:
    return int(state["attributes"].get("color_temp_kelvin") or 0)


def _save(page: Page, name: str, tmp_path: Path) -> Path:
    """Screenshot the page into `tmp_path` and `test-artifacts/`; the stable path."""
    ARTIFACTS.mkdir(exist_ok=True)
    # The pictures are output, never part of the repository.
    (ARTIFACTS / ".gitignore").write_text("*\n", encoding="utf-8")
    page.screenshot(path=str(tmp_path / name), full_page=True)
    shutil.copy(tmp_path / name, ARTIFACTS / name)
    return ARTIFACTS / name


def test_calm_now_clicked_on_the_dashboard_brings_the_calm_scene(
    dashboard_home: HomeAssistant, fresh_mosquitto: Mosquitto, tmp_path: Path
) -> None:
    assert CHROMIUM.exists(), (
        f"{CHROMIUM} is missing: install Debian's chromium (scripts/system-packages does)"
    )
    hass = dashboard_home
    timings: dict[str, float] = {"Home Assistant boot": hass.boot_seconds or 0.0}
    hass.call_service(
        "light", "turn_on", {"entity_id": SOFA, "brightness": 180, "color_temp_kelvin": 4000}
    )
    hass.call_service(
        "light", "turn_on", {"entity_id": FLOOR, "brightness": 120, "color_temp_kelvin": 3000}
    )
    cfg = config_of(example_home(fresh_mosquitto.port, hass.url, hass.token), tmp_path)
    afternoon = datetime.fromisoformat(AFTERNOON).replace(tzinfo=cfg.home.zone)
    outside: list[str] = []
    page_errors: list[str] = []

    started = time.monotonic()
    with (
        DaemonThread(cfg, tmp_path / "state", clock=ScaledClock(afternoon, speed=1)),
        sync_playwright() as playwright,
    ):
        hass.wait_for_state(CALM_NOW, lambda s: s["state"] != "unavailable", timeout=20)
        timings["cocoon announced"] = time.monotonic() - started

        mark = time.monotonic()
        browser = loopback_browser(
            playwright, tmp_path / "chromium-profile", outside, {"width": 1280, "height": 800}
        )
        try:
            page = browser.pages[0] if browser.pages else browser.new_page()
            page.on("pageerror", lambda error: page_errors.append(f"{error.name}: {error}"))
            page.on(
                "console",
                lambda message: (
                    page_errors.append(f"console: {message.text}")
                    if message.type == "error"
                    else None
                ),
            )
            timings["browser start"] = time.monotonic() - mark

            # Log in as a person does: the frontend sends us to the login form first.
            mark = time.monotonic()
            open_dashboard(page, hass.url)
            calm_button = page.locator("hui-button-card").filter(has_text="Calm now")
            calm_button.wait_for()
            # Every card is there, and none says "Entity not available".
            page.get_by_text("Plants needing care").wait_for()
            page.get_by_text("Morning tea now").wait_for()
            # A section's title: 2024.3 shows it, later releases make it a heading card.
            page.get_by_text("Living room", exact=True).wait_for()
            page.wait_for_load_state("networkidle")
            assert page.locator("hui-warning").count() == 0
            timings["log in and open the dashboard"] = time.monotonic() - mark
            before = _save(page, f"dashboard-before-{hass.install.label}.png", tmp_path)

            sofa = hass.get_state(SOFA) or {}
            assert light_brightness(sofa) == 180, sofa  # not calm yet

            mark = time.monotonic()
            calm_button.click()
            calm = hass.wait_for_state(SOFA, lambda s: light_brightness(s) == 51)  # 20 % of 255
            assert abs(_kelvin(calm) - 2000) <= 20, calm
            hass.wait_for_state(FLOOR, lambda s: s["state"] == "off")
            timings["click to calm lights"] = time.monotonic() - mark
            # The dashboard follows: the mode select and the active scene say so.
            hass.wait_for_state(
                "select.cocoon_brussels_flat_mode", lambda s: s["state"] == "Calm now"
            )
            active_scene = page.locator("hui-tile-card").filter(has_text="Active scene")
            active_scene.get_by_text("Calm now").wait_for()
            # Let the press's ripple fade, so the picture shows the dashboard at rest.
            page.mouse.move(1270, 790)
            page.wait_for_timeout(600)
            after = _save(page, f"dashboard-after-{hass.install.label}.png", tmp_path)
        except BaseException:
            _save(page, f"dashboard-failure-{hass.install.label}.png", tmp_path)
            raise
        finally:
            browser.close()

    timings["all, boot included"] = time.monotonic() - started + timings["Home Assistant boot"]
    report = "\n".join(f"{what}: {seconds:.2f} s" for what, seconds in timings.items())
    (ARTIFACTS / f"dashboard-timings-{hass.install.label}.txt").write_text(
        report + "\n", encoding="utf-8"
    )
    print(report)
    assert before.stat().st_size > 10_000
    assert after.stat().st_size > 10_000
    assert outside == [], f"the browser tried to reach beyond 127.0.0.1: {outside}"
    assert page_errors == [], page_errors
    assert hass.unexpected_log_lines() == []
