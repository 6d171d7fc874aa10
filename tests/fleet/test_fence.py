"""The fence of a fleet's worker, on a clock passed in, and what it lets through."""

from __future__ import annotations

from cocoon.app.fleet_store import FENCE, Fence
from cocoon.app.shared import fenced
from cocoon.ports import Message


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_fence_opens_at_a_renewal_and_closes_half_a_lease_after_it_was_sent() -> None:
    clock = Clock()
    fence = Fence(10, clock)
    assert not fence.open()  # not before the first renewal
    fence.renewed(sent=clock.now - 1.0)  # the answer came a second after it was sent
    clock.now += 10 * FENCE - 1.0 - 0.001
    assert fence.open()
    clock.now += 0.002
    assert not fence.open()


def test_an_older_renewal_answered_late_never_moves_the_fence_back() -> None:
    clock = Clock()
    fence = Fence(10, clock)
    fence.renewed(sent=100.0)
    fence.renewed(sent=98.0)
    assert fence.until == 100.0 + 10 * FENCE


def test_a_closed_fence_stays_closed_until_the_next_renewal() -> None:
    clock = Clock()
    fence = Fence(10, clock)
    fence.renewed(sent=clock.now)
    fence.close()
    assert not fence.open()
    fence.renewed(sent=clock.now)
    assert fence.open()


def test_a_fenced_publish_holds_back_everything_while_closed_and_sends_at_qos_0() -> None:
    clock = Clock()
    fence = Fence(4, clock)
    sent: list[Message] = []
    publish = fenced(sent.append, fence.open)
    command = Message("z2m/flat_01/lamp/set", b'{"state":"ON"}', qos=1)
    status = Message("cocoon/flat_01/status", b"online", qos=1, retain=True)
    publish(command)
    publish(status)
    assert sent == []  # never renewed: nothing goes out
    fence.renewed(sent=clock.now)
    publish(command)
    publish(status)
    assert [(m.topic, m.qos, m.retain) for m in sent] == [
        ("z2m/flat_01/lamp/set", 0, False),
        ("cocoon/flat_01/status", 0, True),
    ]
    clock.now += 4 * FENCE  # paused past half the lease: whatever fires now is stale
    publish(command)
    assert len(sent) == 2
