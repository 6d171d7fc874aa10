"""The fleet's etcd: leases, claims and fenced writes, every call bounded in time.

Spoken through aetcd (etcd's v3 gRPC API on asyncio). aetcd takes one endpoint per
client, so the endpoints of `--fleet` are tried in turn: a call that fails moves the
next call to the next endpoint. Every call has a deadline, so a paused or partitioned
etcd makes a call fail (`EtcdUnavailable`) instead of hanging.

A home's owner key is bound to its worker's lease and created only while absent; its
create revision is the fencing token. Every write of the home's state is a transaction
that compares that token, so a worker that lost the home (its lease expired and another
claimed it) can no longer write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import aetcd

from cocoon.adapters.etcd_common import Endpoint, EtcdUnavailable

_LOGGER = logging.getLogger(__name__)

_T = TypeVar("_T")

_UNAVAILABLE = (
    aetcd.ConnectionFailedError,
    aetcd.ConnectionTimeoutError,
    aetcd.InternalError,
)


@dataclass(frozen=True, slots=True)
class Key:
    """A key read from etcd: its value, its lease (0: none) and its create revision."""

    value: bytes
    lease: int
    created: int


class Etcd:
    """A connection to an etcd cluster through any of its `endpoints`."""

    def __init__(self, endpoints: list[Endpoint], *, timeout: float) -> None:
        if not endpoints:
            raise ValueError("no etcd endpoint")
        self.endpoints = endpoints
        self.timeout = timeout
        self._at = 0
        self._client: aetcd.Client | None = None

    @property
    def endpoint(self) -> Endpoint:
        """The endpoint the next call goes to."""
        return self.endpoints[self._at]

    async def _call(self, call: Callable[[aetcd.Client], Awaitable[_T]]) -> _T:
        client = self._client
        endpoint = self.endpoint
        if client is None:
            # aetcd's timeout is its gRPC deadline for each call.
            client = self._client = aetcd.Client(
                host=endpoint.host, port=endpoint.port, timeout=self.timeout
            )
        try:
            return await call(client)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # this call's own task is being cancelled
            # Another call failed and closed the client under this one.
            raise EtcdUnavailable(f"etcd at {endpoint} not reachable (connection closed)") from None
        except _UNAVAILABLE as exc:
            await self._forget(client)
            raise EtcdUnavailable(f"etcd at {endpoint} not reachable ({_why(exc)})") from exc
        except aetcd.ClientError as exc:
            raise EtcdUnavailable(f"etcd at {endpoint} refused a call ({_why(exc)})") from exc

    async def _forget(self, client: aetcd.Client) -> None:
        """Close `client` after a failure and try the next endpoint next, unless another
        call did so already."""
        current = self._client is client
        if not current:
            return
        self._client = None
        self._at = (self._at + 1) % len(self.endpoints)
        try:
            await client.close()
        except Exception:  # a client that failed may fail to close too
            _LOGGER.debug("Closing the etcd client failed", exc_info=True)

    async def close(self) -> None:
        """Close the connection."""
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.close()
            except Exception:
                _LOGGER.debug("Closing the etcd client failed", exc_info=True)

    async def grant(self, ttl: int) -> int:
        """A new lease of `ttl` seconds: its id."""
        lease = await self._call(lambda client: client.lease(ttl))
        return int(lease.id)

    async def refresh(self, lease: int) -> int:
        """Keep `lease` alive: the seconds it has left now, 0 when it has expired."""
        reply = await self._call(lambda client: client.refresh_lease(lease))
        return max(0, int(reply.TTL))

    async def revoke(self, lease: int) -> None:
        """End `lease` now: the keys bound to it are deleted."""
        await self._call(lambda client: client.revoke_lease(lease))

    async def create(self, key: bytes, value: bytes, lease: int) -> bool:
        """Put `key` bound to `lease` only if it is absent; whether it was."""

        async def call(client: aetcd.Client) -> bool:
            t = client.transactions
            ok, _ = await client.transaction(
                compare=[t.create(key) == 0], success=[t.put(key, value, lease=lease)], failure=[]
            )
            return bool(ok)

        return await self._call(call)

    async def claim(
        self, owner: bytes, value: bytes, lease: int, state: bytes
    ) -> tuple[int, bytes | None] | None:
        """Create the owner key `owner` bound to `lease` if no one owns it, and read the
        key `state` in the same transaction: the fencing token and the state (None: no
        state yet); None when someone owns it."""
        if lease <= 0:
            raise ValueError("a claim is bound to a lease")  # else it would outlive its worker

        async def call(client: aetcd.Client) -> tuple[int, bytes | None] | None:
            t = client.transactions
            ok, replies = await client.transaction(
                compare=[t.create(owner) == 0],
                success=[t.put(owner, value, lease=lease), t.get(state)],
                failure=[],
            )
            if not ok:
                return None
            token = int(replies[0].response_put.header.revision)
            found = replies[1]
            return token, (bytes(found[0][0]) if found else None)

        return await self._call(call)

    async def put_if_owner(self, owner: bytes, token: int, key: bytes, value: bytes) -> bool:
        """Write `key` only while `owner` is the key created at revision `token`."""

        async def call(client: aetcd.Client) -> bool:
            t = client.transactions
            ok, _ = await client.transaction(
                compare=[t.create(owner) == token], success=[t.put(key, value)], failure=[]
            )
            return bool(ok)

        return await self._call(call)

    async def release(
        self, owner: bytes, token: int, last: tuple[bytes, bytes] | None = None
    ) -> bool:
        """Delete `owner` only while it is the key created at revision `token`, and write
        `last` (key, value) in the same transaction: a home's last state and its release,
        at once. Whether it was still that key."""

        async def call(client: aetcd.Client) -> bool:
            t = client.transactions
            writes = [] if last is None else [t.put(*last)]
            ok, _ = await client.transaction(
                compare=[t.create(owner) == token],
                success=[*writes, t.delete(owner)],
                failure=[],
            )
            return bool(ok)

        return await self._call(call)

    async def changes(self, prefix: bytes) -> AsyncIterator[None]:
        """Once for every change under `prefix` from now on, as etcd tells it; raises
        EtcdUnavailable when the watch ends (etcd away, the client closed)."""
        watch = await self._call(lambda client: client.watch_prefix(prefix))
        try:
            async for _ in watch:
                yield None
        except aetcd.ClientError as exc:
            raise EtcdUnavailable(f"etcd at {self.endpoint}: a watch ended ({_why(exc)})") from exc
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(watch.cancel(), self.timeout)

    async def listing(self, prefix: bytes) -> dict[bytes, Key]:
        """Every key under `prefix` (read at one revision)."""

        async def call(client: aetcd.Client) -> dict[bytes, Key]:
            found = await client.get_prefix(prefix)
            return {
                bytes(kv.key): Key(bytes(kv.value), int(kv.lease), int(kv.create_revision))
                for kv in found
            }

        return await self._call(call)


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:120] if text and text[0] else type(exc).__name__
