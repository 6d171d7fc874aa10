"""The summary line of `cocoon check --live`, by value."""

from __future__ import annotations

from cocoon.live_check import LiveReport


def test_the_devices_not_checked_are_named_a_few_at_most() -> None:
    report = LiveReport(services=["Home Assistant at ha:8123 not reachable: …"])
    report.unchecked.extend(f"lamp_{n}" for n in range(7))
    assert report.summary() == (
        "7 devices: 0 match, 7 not checked (lamp_0, lamp_1, lamp_2, lamp_3, lamp_4, …),"
        " 1 service problem"
    )
    assert not report.ok
