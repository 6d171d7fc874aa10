"""The one rate limiter of cocoon's log: one report per key a while, with a count."""

from __future__ import annotations

from cocoon.adapters.throttle import Throttle


def test_one_report_per_key_per_interval_then_the_count_held_back() -> None:
    throttle = Throttle(60.0)
    assert throttle.allow("a", 0.0) == 0
    assert throttle.allow("a", 10.0) is None
    assert throttle.allow("a", 59.9) is None
    assert throttle.allow("b", 30.0) == 0  # each key its own
    assert throttle.allow("a", 60.0) == 2  # two were held back since the last report
    assert throttle.allow("a", 61.0) is None
    assert throttle.allow("a", 120.0) == 1
