"""Junk on every topic cocoon subscribes to, through its decoders and a real engine.

The decoders refuse junk with ValueError (UnicodeDecodeError is one) and nothing else;
the engine never raises on what they let through; memory stays flat over many payloads.
"""

from __future__ import annotations

import gc
import logging
import time
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocoon.ports import Message

from . import knobs
from .payloads import FastJunk, Receiver, payloads

_TOPICS = Receiver().subscriptions


_fuzzed = {"examples": 0, "messages": 0, "known_bug_hits": 0}


@settings(
    max_examples=knobs.PAYLOAD_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.lists(
        st.tuples(st.sampled_from(_TOPICS), payloads(), st.booleans()), min_size=1, max_size=20
    )
)
def test_junk_on_any_topic_is_refused_with_value_error_and_never_breaks_the_engine(
    messages: list[tuple[str, bytes, bool]],
) -> None:
    receiver = Receiver()
    for topic, payload, retain in messages:
        receiver.receive(Message(topic, payload, qos=1, retain=retain))
    _fuzzed["examples"] += 1
    _fuzzed["messages"] += len(messages)
    _fuzzed["known_bug_hits"] += receiver.known_bug_hits


def test_zz_report_the_fuzz_figures() -> None:
    knobs.record("payload-hypothesis", topics=len(_TOPICS), **_fuzzed)


def test_every_subscribed_topic_is_fuzzed() -> None:
    """The fuzz covers presses, the mode select, hands off, HA's birth, states, availability."""
    receiver = Receiver()
    topics = receiver.topics
    assert {topics.button("calm_now"), topics.button("evening")} <= set(_TOPICS)
    assert {topics.mode_set, topics.hands_off_set, topics.ha_status} <= set(_TOPICS)
    assert {"zigbee2mqtt/sofa", "zigbee2mqtt/soil/availability"} <= set(_TOPICS)


def test_memory_stays_flat_over_many_junk_payloads() -> None:
    receiver = Receiver()
    junk = FastJunk(knobs.SEED or 4711, receiver.subscriptions)
    for _ in range(1000):  # warm up: caches, the plan of the day, interned strings
        receiver.receive(junk.message())
    gc.collect()
    rss_before = knobs.rss_kib()
    # pytest keeps every log record of a test for its report; the daemon writes them out.
    logging.disable(logging.INFO)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        started = time.perf_counter()
        for _ in range(knobs.PAYLOADS):
            receiver.receive(junk.message())
        elapsed = time.perf_counter() - started
        gc.collect()
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        logging.disable(logging.NOTSET)
    growth = after - before
    rss_growth = knobs.rss_kib() - rss_before
    knobs.record(
        "payload-fuzz",
        payloads=knobs.PAYLOADS,
        dropped=receiver.dropped,
        events=receiver.events,
        traced_growth_kib=round(growth / 1024, 1),
        traced_peak_kib=round(peak / 1024, 1),
        payloads_per_s=round(knobs.PAYLOADS / elapsed),
        rss_growth_kib=rss_growth,
        commands=receiver.gateway.count,
    )
    assert receiver.dropped > knobs.PAYLOADS // 10  # the junk really was junk, mostly
    assert receiver.events > 0  # and some of it got through to the engine
    assert growth < 1024 * 1024, f"memory grew by {growth / 1024:.0f} KiB"


@pytest.mark.parametrize("topic", ["zigbee2mqtt/sofa", "zigbee2mqtt/sofa/availability"])
def test_json_nested_too_deep_is_refused_with_value_error(topic: str) -> None:
    receiver = Receiver()
    with pytest.raises(ValueError):  # noqa: PT011  any ValueError: the decoder says "junk"
        receiver.zigbee.decode(Message(topic, b'{"a":' * 5000 + b"1" + b"}" * 5000))


def test_a_denormal_colour_temperature_is_refused_with_value_error() -> None:
    receiver = Receiver()
    payload = b'{"state": "ON", "color_temp": 5e-324}'
    with pytest.raises(ValueError):  # noqa: PT011  any ValueError: the decoder says "junk"
        receiver.zigbee.decode(Message("zigbee2mqtt/sofa", payload))


def test_made_up_keys_on_a_sensor_topic_do_not_pile_up() -> None:
    receiver = Receiver()
    for number in range(1000):
        receiver.receive(Message("zigbee2mqtt/soil", f'{{"junk_{number}": 1}}'.encode()))
    assert len(receiver.engine.readings.sensors) < 50
