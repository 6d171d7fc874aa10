"""The fleet's etcd calls against a real etcd: claims, fencing, leases, a member away."""

from __future__ import annotations

import asyncio

import pytest

from cocoon.adapters.etcd import Etcd
from cocoon.adapters.etcd_common import Endpoint, EtcdUnavailable, parse_endpoints
from tests.brokers import free_port
from tests.etcd import Etcd as EtcdMember

pytestmark = pytest.mark.integration

OWNER = b"/cocoon/test/owners/flat_01"
STATE = b"/cocoon/test/state/flat_01"


def client(member: EtcdMember, *more: Endpoint) -> Etcd:
    return Etcd([*more, Endpoint(member.host, member.port)], timeout=2)


def test_one_claim_wins_and_reads_the_state_it_takes_over(etcd: EtcdMember) -> None:
    async def scenario() -> None:
        one, two = client(etcd), client(etcd)
        first, second = await one.grant(10), await two.grant(10)
        assert await one.put_if_owner(OWNER, 0, STATE, b"before") is True  # no owner: token 0
        won = await one.claim(OWNER, b"w1", first, STATE)
        lost = await two.claim(OWNER, b"w2", second, STATE)
        assert won is not None
        assert won[1] == b"before"
        assert lost is None
        listing = await two.listing(b"/cocoon/test/owners/")
        assert listing[OWNER].value == b"w1"
        assert listing[OWNER].lease == first
        assert listing[OWNER].created == won[0]
        await one.close()
        await two.close()

    asyncio.run(scenario())


def test_a_stale_token_writes_nothing(etcd: EtcdMember) -> None:
    async def scenario() -> None:
        one = client(etcd)
        lease = await one.grant(10)
        claimed = await one.claim(OWNER, b"w1", lease, STATE)
        assert claimed is not None
        token = claimed[0]
        assert await one.put_if_owner(OWNER, token, STATE, b"mine") is True
        # The lease ends (as when it expires): another worker claims the home.
        await one.revoke(lease)
        assert await one.refresh(lease) == 0
        other = await one.grant(10)
        again = await one.claim(OWNER, b"w2", other, STATE)
        assert again is not None
        assert again[1] == b"mine"
        assert await one.put_if_owner(OWNER, token, STATE, b"late") is False
        assert await one.release(OWNER, token, (STATE, b"late")) is False
        assert (await one.listing(STATE))[STATE].value == b"mine"
        await one.close()

    asyncio.run(scenario())


def test_a_release_writes_the_state_and_frees_the_home_at_once(etcd: EtcdMember) -> None:
    async def scenario() -> None:
        one = client(etcd)
        lease = await one.grant(10)
        claimed = await one.claim(OWNER, b"w1", lease, STATE)
        assert claimed is not None
        assert await one.release(OWNER, claimed[0], (STATE, b"last")) is True
        keys = await one.listing(b"/cocoon/test/")
        assert OWNER not in keys
        assert keys[STATE].value == b"last"
        assert keys[STATE].lease == 0  # the state outlives every lease
        await one.close()

    asyncio.run(scenario())


def test_a_refresh_keeps_the_lease_and_says_its_time_left(etcd: EtcdMember) -> None:
    async def scenario() -> None:
        one = client(etcd)
        lease = await one.grant(5)
        assert 0 < await one.refresh(lease) <= 5
        assert await one.create(b"/cocoon/test/workers/w1", b"{}", lease) is True
        assert await one.create(b"/cocoon/test/workers/w1", b"{}", lease) is False
        await one.close()

    asyncio.run(scenario())


def test_a_member_away_is_said_at_once_and_the_next_endpoint_is_tried(
    etcd: EtcdMember,
) -> None:
    async def scenario() -> None:
        dead = Endpoint("127.0.0.1", free_port())
        one = client(etcd, dead)
        with pytest.raises(EtcdUnavailable, match=f"etcd at {dead} not reachable"):
            await one.grant(5)
        assert one.endpoint.port == etcd.port
        assert await one.grant(5) > 0
        etcd.kill()
        with pytest.raises(EtcdUnavailable):
            await one.listing(b"/cocoon/")
        await one.close()

    asyncio.run(scenario())


def test_a_paused_member_makes_calls_fail_within_their_deadline(etcd: EtcdMember) -> None:
    async def scenario() -> None:
        one = Etcd([Endpoint(etcd.host, etcd.port)], timeout=1)
        lease = await one.grant(5)
        etcd.pause()
        try:
            with pytest.raises(EtcdUnavailable):
                await asyncio.wait_for(one.refresh(lease), timeout=30)
        finally:
            etcd.resume()
        await one.close()

    asyncio.run(scenario())


def test_calls_under_way_when_etcd_stalls_all_fail_as_unavailable(etcd: EtcdMember) -> None:
    async def scenario() -> None:
        one = Etcd([Endpoint(etcd.host, etcd.port)], timeout=1)
        lease = await one.grant(5)
        etcd.pause()
        try:
            calls = [
                one.refresh(lease),
                one.listing(b"/cocoon/"),
                one.put_if_owner(OWNER, 1, STATE, b"x"),
                one.refresh(lease),
            ]
            outcomes = await asyncio.wait_for(
                asyncio.gather(*calls, return_exceptions=True), timeout=30
            )
        finally:
            etcd.resume()
        assert [type(outcome) for outcome in outcomes] == [EtcdUnavailable] * 4
        assert await one.refresh(lease) > 0  # and it goes on once etcd answers
        await one.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("url", "endpoints", "name"),
    [
        ("etcd://127.0.0.1:2379", [Endpoint("127.0.0.1", 2379)], ""),
        (
            "etcd://a:1,b:2/building-a",
            [Endpoint("a", 1), Endpoint("b", 2)],
            "building-a",
        ),
    ],
)
def test_fleet_urls(url: str, endpoints: list[Endpoint], name: str) -> None:
    assert parse_endpoints(url) == (endpoints, name)


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://127.0.0.1:2379", "etcd://HOST:PORT"),
        ("etcd://127.0.0.1", "is not HOST:PORT"),
        ("etcd://127.0.0.1:99999", "is not HOST:PORT"),
        ("etcd://a:1/x y", "letters, digits"),
    ],
)
def test_bad_fleet_urls_say_what_is_wrong(url: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        parse_endpoints(url)
