"""A worker of a fleet: its lease and fence, and the homes it claims and releases.

Several `cocoon run --fleet` processes share the homes of one site through etcd (the
keys and a home's state there: `app.fleet_store`). Each worker claims its even share of
the homes (`core.share`) and releases what is over it.

The fence: a worker drives only until half its lease's time to live after it sent the
last renewal that succeeded (`Fence`). Past that, every message for its homes is held
back at the moment it would be published, and its engines stop sending: by the time
etcd could expire the lease and another worker claim a home, this one has gone quiet.
A renewal that succeeds again opens the fence (the lease lived: the homes are still
its); one that finds the lease expired lets every home go without a word.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Collection
from typing import TYPE_CHECKING, Protocol

from cocoon.adapters.etcd_common import EtcdUnavailable, worker_document
from cocoon.app.fleet_store import FENCE, Fence, FleetStore, Keys, uptime
from cocoon.core import RuntimeState
from cocoon.core.share import moves
from cocoon.ports import for_home

if TYPE_CHECKING:
    from cocoon.adapters.etcd import Etcd

_LOGGER = logging.getLogger(__name__)

RENEWALS = 6
"""Renewals sent in each time to live."""
TURN = 0.2
"""Seconds at least between two looks at who serves what. A worker looks when etcd tells
of a change (a worker gone or come, a home claimed or released), and every `LOOK`
seconds in any case."""
JOIN = 1.0
"""Seconds a worker that joins waits before it claims, so that workers started together
see each other first (and share from the start instead of handing homes on)."""
LOOK = 5.0
"""Seconds at most between two looks (a third of the lease if shorter), and between two
tries of a watch that etcd ended."""
CLAIMS = 200
"""Homes a worker claims at most in one turn."""
RELEASES = 10
"""Homes a worker releases at most in one turn (the others take them in theirs)."""


class Serving(Protocol):
    """What the fleet asks of the process that serves the homes."""

    def site_homes(self) -> Collection[str]:
        """Every home of the site (served here or not)."""
        ...

    def take(self, home: str, store: FleetStore) -> None:
        """Serve `home` from now on, its state in `store`."""
        ...

    def release(self, home: str, *, last: bool = False) -> RuntimeState | None:
        """Stop serving `home` without a word to its devices (`last`: saying it is not
        served, as the worker stops); its state at that instant (None: not served)."""
        ...

    def drive(self, on: bool) -> None:
        """Send and speak for the homes served, or hold everything back."""
        ...


class Fleet:
    """This worker's part in a fleet: its lease, its fence, its homes."""

    def __init__(
        self,
        etcd: Etcd,
        serving: Serving,
        *,
        fleet: str,
        worker: str,
        ttl: int,
        fence: Fence,
    ) -> None:
        self.etcd = etcd
        self.serving = serving
        self.keys = Keys(fleet)
        self.worker = worker
        self.ttl = ttl
        self.fence = fence
        self.lease: int | None = None
        self.tokens: dict[str, int] = {}
        """The homes served, with their fencing tokens."""
        self._stores: dict[str, FleetStore] = {}
        self._releasing: dict[str, tuple[int, bytes]] = {}
        """Homes released whose release etcd has not taken yet: token, last state."""
        self._driving = False
        self._away_since: float | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._name_taken = False
        self._joined = 0.0
        self._changed = asyncio.Event()
        """Set when etcd tells of a change a turn should look at."""

    # -- life -----------------------------------------------------------------------------

    def start(self) -> None:
        """Join the fleet and keep at it (tasks on the running loop)."""
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._keep_alive(), name="cocoon-fleet-lease"),
            loop.create_task(self._share(), name="cocoon-fleet-share"),
            loop.create_task(self._watch(self.keys.owners), name="cocoon-fleet-owners"),
            loop.create_task(self._watch(self.keys.workers), name="cocoon-fleet-workers"),
        ]

    async def stop(self) -> None:
        """Release every home (its state saved), so the others take them at once, and
        end the lease."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for home in sorted(self.tokens):
            self._release(home, last=True)
        try:
            await self._tell_releases()
            if self.lease is not None and self.fence.open():
                await self.etcd.revoke(self.lease)
        except EtcdUnavailable as exc:
            _LOGGER.warning("Left the fleet without telling etcd (%s)", exc)
        self.fence.close()
        await self.etcd.close()

    # -- the lease and the fence ----------------------------------------------------------

    async def _keep_alive(self) -> None:
        every = self.ttl / RENEWALS
        while True:
            lease = self.lease
            await self._attempt(
                self._join() if lease is None else self._renew(lease), "Keeping the lease"
            )
            self._follow_fence()
            await asyncio.sleep(every)

    async def _attempt(self, work: Awaitable[None], what: str) -> None:
        """Do `work`; etcd away is said and shown, any other failure logged: the loop that
        does it goes on."""
        try:
            await work
        except EtcdUnavailable as exc:
            self._away(exc)
        except Exception:  # a bug: said, and the work tried again at the next turn
            _LOGGER.exception("%s failed unexpectedly", what)

    async def _join(self) -> None:
        sent = uptime()  # the lease's time runs from etcd's answer, after this
        lease = await self.etcd.grant(self.ttl)
        document = worker_document(self.worker, os.getpid(), socket.gethostname())
        if not await self.etcd.create(self.keys.worker(self.worker), document, lease):
            await self.etcd.revoke(lease)
            if not self._name_taken:
                self._name_taken = True
                _LOGGER.error(
                    "Another worker of this fleet is called %r: waiting until it is gone (one "
                    "killed a moment ago is, within %d s); give each worker its own --worker",
                    self.worker,
                    self.ttl,
                )
            return
        self._name_taken = False
        self.lease = lease
        self._joined = uptime()
        self.fence.renewed(sent)
        self._back()
        _LOGGER.info("Joined the fleet as %r (lease of %d s)", self.worker, self.ttl)

    async def _renew(self, lease: int) -> None:
        sent = uptime()
        if await self.etcd.refresh(lease) > 0:
            self.fence.renewed(sent)
            self._back()
            return
        # The lease expired (etcd away longer than its time to live, or this worker was
        # paused): other workers may serve its homes already. Not a word to them.
        _LOGGER.warning(
            "This worker's lease expired: its %d home(s) may be another's now; joining again",
            len(self.tokens),
        )
        self.fence.close()
        for home in sorted(self.tokens):
            self._release(home, told=False)
        self._releasing.clear()
        self.lease = None

    def _away(self, exc: EtcdUnavailable) -> None:
        if self._away_since is None:
            self._away_since = uptime()
            _LOGGER.warning("%s; driving on until the lease could expire", exc)

    def _back(self) -> None:
        if self._away_since is not None:
            _LOGGER.info("etcd answers again after %.1f s", uptime() - self._away_since)
            self._away_since = None

    def _follow_fence(self) -> None:
        """Tell the homes to drive or hold back, as the fence says."""
        driving = self.fence.open() and self.lease is not None
        if driving == self._driving:
            return
        self._driving = driving
        if not driving and self.tokens:
            _LOGGER.warning(
                "No renewal of the lease for %.1f s: holding back every home until etcd "
                "answers (another worker may take them over)",
                self.ttl * FENCE,
            )
        elif driving and self.tokens:
            _LOGGER.info("The lease is renewed again: driving the %d home(s) on", len(self.tokens))
        self.serving.drive(driving)

    # -- sharing the homes ----------------------------------------------------------------

    async def _share(self) -> None:
        longest = min(LOOK, self.ttl / 3)
        while True:
            await asyncio.sleep(TURN)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), longest)
            self._changed.clear()
            await asyncio.sleep(max(0.0, self._joined + JOIN - uptime()))
            lease = self.lease
            if lease is None or not self.fence.open():
                continue
            await self._attempt(self._turn(lease), "A turn of sharing the homes")

    async def _watch(self, prefix: bytes) -> None:
        """Wake the turns at every change under `prefix`; a watch etcd ends is tried
        again (the turns look every `LOOK` seconds meanwhile)."""
        while True:
            try:
                async for _ in self.etcd.changes(prefix):
                    self._changed.set()
            except EtcdUnavailable:
                pass  # said by the lease's loop, which meets it too
            except Exception:  # a bug: said, and the watch tried again
                _LOGGER.exception("Watching %s failed unexpectedly", prefix.decode())
            self._changed.set()
            await asyncio.sleep(min(LOOK, self.ttl / 3))

    async def _turn(self, lease: int) -> None:
        """One turn: see who serves what, drop what is no longer ours, move toward our
        share."""
        await self._tell_releases()
        # The owners first: a worker seen without its homes is only claimed from later.
        listing = await self.etcd.listing(self.keys.owners)
        listing.update(await self.etcd.listing(self.keys.workers))
        workers = [
            key[len(self.keys.workers) :].decode()
            for key in listing
            if key.startswith(self.keys.workers)
        ]
        owners: dict[str, str] = {}
        for key, found in listing.items():
            if key.startswith(self.keys.owners):
                home = key[len(self.keys.owners) :].decode()
                owners[home] = found.value.decode()
                if found.lease == lease and home not in self.tokens and home not in self._releasing:
                    # Ours in etcd but not served (a claim whose answer was lost): free it.
                    await self.etcd.release(key, found.created)
                    del owners[home]
        for home, token in list(self.tokens.items()):
            held = listing.get(self.keys.owner(home))
            if held is None or held.lease != lease or held.created != token:
                for_home(home, _LOGGER.warning)("No longer this worker's: released")
                self._release(home, told=False)
        site = set(self.serving.site_homes())
        for home in [home for home in self.tokens if home not in site]:
            self._release(home)  # no longer in the site (a reload): free in etcd too
        step = moves(site, workers, owners, self.worker, most=CLAIMS)
        for home in step.release[:RELEASES]:
            self._release(home)
        await self._tell_releases()
        await self._claim(list(step.claim), step.wanted, lease)

    async def _claim(self, candidates: list[str], wanted: int, lease: int) -> None:
        """Claim `wanted` of `candidates` (in order; all of a batch at once) and serve
        each won."""
        keys = self.keys
        while wanted and candidates:
            batch, candidates = candidates[:wanted], candidates[wanted:]
            claims = [
                self.etcd.claim(keys.owner(home), self.worker.encode(), lease, keys.state(home))
                for home in batch
            ]
            failure: BaseException | None = None
            for home, claimed in zip(
                batch, await asyncio.gather(*claims, return_exceptions=True), strict=True
            ):
                if isinstance(claimed, BaseException):
                    failure = claimed  # a claim won unseen is released next turn
                elif claimed is not None:  # else another worker was quicker
                    self._serve(home, *claimed)
                    wanted -= 1
            if failure is not None:
                raise failure

    def _serve(self, home: str, token: int, found: bytes | None) -> None:
        loop = asyncio.get_running_loop()
        store = FleetStore(self.etcd, self.keys, home, token, found or None, loop)
        self.tokens[home] = token
        self._stores[home] = store
        self.serving.take(home, store)

    def _release(self, home: str, *, told: bool = True, last: bool = False) -> None:
        """Stop serving `home`; release it in etcd at the next chance (`told`), or not
        (it is not ours any more)."""
        token = self.tokens.pop(home, None)
        store = self._stores.pop(home, None)
        if store is not None:
            store.released = True
        state = self.serving.release(home, last=last)
        if told and token is not None and store is not None:
            payload = store.payload(state) if state is not None else (store.last or b"")
            self._releasing[home] = (token, payload)

    async def _tell_releases(self) -> None:
        keys = self.keys
        for home, (token, payload) in list(self._releasing.items()):
            last = (keys.state(home), payload) if payload else None
            await self.etcd.release(keys.owner(home), token, last)
            del self._releasing[home]
