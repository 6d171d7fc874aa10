"""How the workers of a fleet share a site's homes (pure).

Every worker sees the same live workers and the same owners, and works out the same
shares: the homes divided evenly, the first workers by name taking one more while it
does not divide. Each worker then moves only itself toward its own share: one holding
more gives homes back, one holding fewer claims free ones. Which homes move is decided
by rendezvous hashing, so that workers claiming at once mostly want different homes and
a home stays with the worker it prefers when the fleet changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Moves:
    """What one worker does next: claim `wanted` of the homes of `claim` (in that order:
    a claim another worker wins is followed by the next), release the homes of
    `release`."""

    claim: tuple[str, ...] = ()
    wanted: int = 0
    release: tuple[str, ...] = ()


def shares(homes: int, workers: Collection[str]) -> dict[str, int]:
    """How many homes each live worker serves: even, the first by name one more."""
    if not workers:
        return {}
    each, extra = divmod(homes, len(workers))
    return {worker: each + (i < extra) for i, worker in enumerate(sorted(workers))}


def affinity(home: str, worker: str) -> int:
    """How much `worker` is wanted for `home` (rendezvous hashing; higher wins)."""
    digest = hashlib.blake2b(f"{home}\0{worker}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def moves(
    homes: Collection[str],
    workers: Collection[str],
    owners: Mapping[str, str],
    me: str,
    *,
    most: int,
) -> Moves:
    """What worker `me` does next, `most` homes at a time.

    `owners` maps each owned home to its worker; a home not in it is free. A worker not
    (yet) among the live `workers` does nothing.
    """
    if me not in workers:
        return Moves()
    share = shares(len(homes), workers)[me]
    mine = [home for home in homes if owners.get(home) == me]
    if len(mine) > share:
        # Those this worker is least wanted for go first.
        surplus = sorted(mine, key=lambda home: (affinity(home, me), home))
        return Moves(release=tuple(surplus[: min(len(mine) - share, most)]))
    free = sorted(
        (home for home in homes if home not in owners),
        key=lambda home: (-affinity(home, me), home),
    )
    wanted = min(share - len(mine), most, len(free))
    return Moves(claim=tuple(free) if wanted else (), wanted=wanted)
