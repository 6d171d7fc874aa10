"""How a fleet's workers share homes: even shares, reached in a few rounds, moving few."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cocoon.core.share import Moves, moves, shares

HOMES = [f"flat_{n:02d}" for n in range(1, 31)]


def settle(
    homes: list[str], workers: list[str], owners: dict[str, str], *, most: int = 100
) -> tuple[dict[str, str], int]:
    """Every worker moves in turn until none has anything to do; the owners and rounds."""
    owners = dict(owners)
    for rounds in range(1, 200):
        changed = False
        for worker in workers:
            step = moves(homes, workers, owners, worker, most=most)
            for home in step.release:
                assert owners.pop(home) == worker
                changed = True
            got = 0
            for home in step.claim:
                if got == step.wanted:
                    break
                if home not in owners:  # a claim only wins while the home is free
                    owners[home] = worker
                    changed = True
                    got += 1
        if not changed:
            return owners, rounds
    raise AssertionError("the fleet never settled")


def counts(owners: dict[str, str], workers: list[str]) -> list[int]:
    return [sum(1 for worker in owners.values() if worker == w) for w in workers]


def test_shares_are_even_and_the_first_by_name_take_the_rest() -> None:
    assert shares(30, ["c", "a", "b"]) == {"a": 10, "b": 10, "c": 10}
    assert shares(30, ["w4", "w1", "w2", "w3"]) == {"w1": 8, "w2": 8, "w3": 7, "w4": 7}
    assert shares(2, ["a", "b", "c"]) == {"a": 1, "b": 1, "c": 0}
    assert shares(5, []) == {}


def test_three_workers_starting_together_serve_ten_homes_each_in_one_round() -> None:
    owners, rounds = settle(HOMES, ["w1", "w2", "w3"], {})
    assert counts(owners, ["w1", "w2", "w3"]) == [10, 10, 10]
    assert rounds == 2  # the second round only finds nothing left to do
    assert set(owners) == set(HOMES)


def test_a_first_worker_alone_takes_everything_then_hands_out_shares() -> None:
    alone, _ = settle(HOMES, ["w1"], {})
    assert counts(alone, ["w1"]) == [30]
    owners, _ = settle(HOMES, ["w1", "w2", "w3"], alone)
    assert counts(owners, ["w1", "w2", "w3"]) == [10, 10, 10]


def test_a_fourth_worker_takes_only_what_the_others_give_up() -> None:
    before, _ = settle(HOMES, ["w1", "w2", "w3"], {})
    after, _ = settle(HOMES, ["w1", "w2", "w3", "w4"], before)
    assert counts(after, ["w1", "w2", "w3", "w4"]) == [8, 8, 7, 7]
    moved = [home for home in HOMES if after[home] != before[home]]
    assert len(moved) == 7
    assert all(after[home] == "w4" for home in moved)


def test_the_homes_of_a_worker_gone_are_shared_by_the_others() -> None:
    before, _ = settle(HOMES, ["w1", "w2", "w3"], {})
    orphaned = {home for home, worker in before.items() if worker == "w2"}
    survivors = {home: worker for home, worker in before.items() if worker != "w2"}
    after, rounds = settle(HOMES, ["w1", "w3"], survivors)
    assert counts(after, ["w1", "w3"]) == [15, 15]
    assert rounds == 2
    assert all(after[home] == before[home] for home in survivors)
    assert {after[home] for home in orphaned} == {"w1", "w3"}


def test_a_worker_not_yet_registered_does_nothing() -> None:
    assert moves(HOMES, ["w1"], {}, "w2", most=10) == Moves()


def test_most_bounds_each_step() -> None:
    step = moves(HOMES, ["w1"], {}, "w1", most=4)
    assert step.wanted == 4
    assert len(step.claim) == len(HOMES)  # in order: the next when one is lost
    assert not step.release
    given_back = moves(HOMES, ["w1", "w2"], dict.fromkeys(HOMES, "w1"), "w1", most=3)
    assert len(given_back.release) == 3


def test_homes_owned_by_a_home_no_longer_in_the_site_are_not_counted() -> None:
    owners = {"gone": "w1", **dict.fromkeys(HOMES[:10], "w1")}
    step = moves(HOMES[:10], ["w1"], owners, "w1", most=100)
    assert step == Moves()


@settings(max_examples=200, deadline=None)
@given(
    homes=st.integers(min_value=0, max_value=60),
    workers=st.lists(
        st.text(alphabet="abcdefgh", min_size=1, max_size=3), min_size=1, max_size=6, unique=True
    ),
    start=st.dictionaries(st.integers(min_value=0, max_value=59), st.integers(0, 5)),
    most=st.integers(min_value=1, max_value=10),
)
def test_any_fleet_settles_on_even_shares_with_one_owner_per_home(
    homes: int, workers: list[str], start: dict[int, int], most: int
) -> None:
    names = [f"h{n}" for n in range(homes)]
    owners = {
        f"h{home}": workers[worker % len(workers)] for home, worker in start.items() if home < homes
    }
    settled, _ = settle(names, workers, owners, most=most)
    assert set(settled) == set(names)
    want = shares(homes, workers)
    assert counts(settled, workers) == [want[w] for w in workers]
