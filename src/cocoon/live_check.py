"""`cocoon check --live`: the configured devices held against what is really there.

Reads, once and within a bounded time, what Zigbee2MQTT keeps retained on the broker
(`bridge/state`, `bridge/devices`, `bridge/groups`) and every state of Home Assistant,
then says per device whether it matches (`adapters.inventory`). A service that cannot
be had is said in one line, in a person's words, and its devices are not checked.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field

from cocoon.adapters.ha_wire import read_states
from cocoon.adapters.inventory import Finding, home_assistant_finding, zigbee2mqtt_finding
from cocoon.adapters.mqtt_diagnoses import until_connected
from cocoon.adapters.mqtt_link import MqttLink
from cocoon.adapters.z2m_bridge import Directory, bridge_online, read_directory
from cocoon.adapters.zigbee2mqtt import base_topic
from cocoon.config.schema import CocoonConfig, Mqtt
from cocoon.errors import BusError, GatewayError
from cocoon.ports import Message

DEFAULT_WAIT = 3.0
"""Seconds to wait for Zigbee2MQTT's retained messages (they come right after subscribing)."""
_CONNECT_WAIT = 5.0
"""Seconds to wait for the broker to accept the connection."""
_SETTLE = 0.3
"""Seconds to wait for `bridge/groups` and `bridge/state` once `bridge/devices` came."""


_NAMED = 5
"""Devices not checked named in the summary, at most."""


@dataclass
class LiveReport:
    """What `cocoon check --live` found: per device, and per service that failed."""

    findings: list[Finding] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    """Each service problem (unreachable, offline, never seen) in one sentence."""
    unchecked: list[str] = field(default_factory=list)
    """Devices that could not be checked because their service could not be had."""

    @property
    def ok(self) -> bool:
        """Everything matches and every service was there."""
        return not self.services and all(not f.problems for f in self.findings)

    def lines(self) -> list[str]:
        """The report as printed: a line per device, per service problem, then a summary."""
        shown = [str(finding) for finding in self.findings] + self.services
        return [*shown, self.summary()]

    def summary(self) -> str:
        """One line: how many devices matched, had problems, were not checked."""
        bad = sum(1 for f in self.findings if f.problems)
        good = len(self.findings) - bad
        parts = [f"{good} {'matches' if good == 1 else 'match'}"]
        if bad:
            parts.append(f"{bad} with a problem")
        if self.unchecked:
            names = ", ".join(self.unchecked[:_NAMED])
            more = ", …" if len(self.unchecked) > _NAMED else ""
            parts.append(f"{len(self.unchecked)} not checked ({names}{more})")
        if self.services:
            count = len(self.services)
            parts.append(f"{count} service problem{'s' if count != 1 else ''}")
        total = len(self.findings) + len(self.unchecked)
        return f"{total} device{'s' if total != 1 else ''}: {', '.join(parts)}"


@dataclass
class _Bridge:
    """Zigbee2MQTT's retained messages as they arrive."""

    topics: dict[str, str]
    """What each topic is (state, devices, groups), by topic."""
    payloads: dict[str, bytes] = field(default_factory=dict)
    devices_came: asyncio.Event = field(default_factory=asyncio.Event)

    def take(self, message: Message) -> None:
        kind = self.topics.get(message.topic)
        if kind is not None and kind not in self.payloads:
            self.payloads[kind] = message.payload
            if kind == "devices":
                self.devices_came.set()


async def _read_bridge(settings: Mqtt, base: str, wait: float) -> dict[str, bytes]:
    """Zigbee2MQTT's retained bridge messages by kind (state, devices, groups).

    Raises BusError with the broker's refusal or why it cannot be reached.
    """
    bridge = _Bridge({f"{base}/bridge/{kind}": kind for kind in ("devices", "groups", "state")})
    connected = asyncio.Event()
    link = MqttLink(
        settings,
        availability_topic=None,
        on_message=bridge.take,
        on_connect=connected.set,
        subscriptions=lambda: list(bridge.topics),
        client_id=f"cocoon-check-{os.getpid()}",
    )
    loop = asyncio.get_running_loop()
    await link.start()
    try:
        await until_connected(link, connected, _CONNECT_WAIT)
        try:
            await asyncio.wait_for(bridge.devices_came.wait(), wait)
        except TimeoutError:
            return bridge.payloads
        settle = loop.time() + _SETTLE
        while len(bridge.payloads) < len(bridge.topics) and loop.time() < settle:
            await asyncio.sleep(0.02)
        return dict(bridge.payloads)
    finally:
        await link.stop(say_offline=False)


def _directory(payloads: dict[str, bytes], base: str, report: LiveReport) -> Directory | None:
    """Zigbee2MQTT's devices and groups; None (with the reason in `report`) when unusable."""
    state = payloads.get("state")
    online: bool | None = None
    if state is not None:
        try:
            online = bridge_online(state)
        except ValueError:
            online = None
    if "devices" not in payloads:
        said = " and its bridge/state says offline" if online is False else ""
        report.services.append(
            f"Zigbee2MQTT: never seen on the broker: no retained {base}/bridge/devices{said} "
            f"(is Zigbee2MQTT running, with base_topic '{base}'? set mqtt.zigbee2mqtt_topic "
            "otherwise)"
        )
        return None
    if online is False:
        report.services.append(
            "Zigbee2MQTT: offline (its bridge/state says so); the devices below are "
            "checked against the list it left on the broker"
        )
    try:
        return read_directory(payloads["devices"], payloads.get("groups"))
    except ValueError as exc:
        report.services.append(f"Zigbee2MQTT: cannot read {base}/bridge/devices: {exc}")
        return None


async def _check_zigbee2mqtt(cfg: CocoonConfig, wait: float, report: LiveReport) -> None:
    if cfg.mqtt is None:
        return
    wanted = {name: d for name, d in cfg.devices.items() if d.zigbee2mqtt is not None}
    base = base_topic(cfg)
    try:
        payloads = await _read_bridge(cfg.mqtt, base, wait if wanted else 0.0)
    except BusError as exc:
        report.services.append(str(exc))
        report.unchecked.extend(wanted)
        return
    if not wanted:
        return
    directory = _directory(payloads, base, report)
    if directory is None:
        report.unchecked.extend(wanted)
        return
    for name, device in wanted.items():
        report.findings.append(zigbee2mqtt_finding(cfg, name, device, directory))


async def _check_home_assistant(cfg: CocoonConfig, report: LiveReport) -> None:
    if cfg.home_assistant is None:
        return
    wanted = {name: d for name, d in cfg.devices.items() if d.entity is not None}
    try:
        states = await read_states(cfg.home_assistant)
    except GatewayError as exc:
        report.services.append(str(exc))
        report.unchecked.extend(wanted)
        return
    for name, device in wanted.items():
        report.findings.append(home_assistant_finding(cfg, name, device, states))


async def check_live(cfg: CocoonConfig, wait: float = DEFAULT_WAIT) -> LiveReport:
    """Hold every configured device against the broker's Zigbee2MQTT and Home Assistant.

    `wait` bounds how long Zigbee2MQTT's retained messages are waited for.
    """
    report = LiveReport()
    await asyncio.gather(_check_zigbee2mqtt(cfg, wait, report), _check_home_assistant(cfg, report))
    order = list(cfg.devices)
    report.findings.sort(key=lambda finding: order.index(finding.device))
    return report
