"""The study designs against hand-worked examples (pure functions; no database)."""

from collections import Counter
from itertools import permutations

import pytest

from studies.designs import (
    arm_for,
    balanced_latin_square,
    preference,
    team_credit,
    team_draft_interleave,
)


def test_latin_square_of_four_arms_is_the_williams_square():
    assert balanced_latin_square(4) == [[0, 1, 3, 2], [1, 2, 0, 3], [2, 3, 1, 0], [3, 0, 2, 1]]


def test_latin_square_of_three_arms_adds_the_mirror_image():
    assert balanced_latin_square(3) == [[0, 1, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0], [0, 2, 1], [1, 0, 2]]


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_latin_square_is_balanced(n):
    rows = balanced_latin_square(n)
    assert len(rows) == (n if n % 2 == 0 else 2 * n)
    for row in rows:
        assert sorted(row) == list(range(n))  # each arm once per participant
    for column in zip(*rows, strict=True):
        assert Counter(column) == {arm: len(rows) // n for arm in range(n)}  # each arm equally often per slot
    carry = Counter((row[i], row[i + 1]) for row in rows for i in range(n - 1))
    assert set(carry) == set(permutations(range(n), 2))  # every arm follows every other ...
    assert len(set(carry.values())) == 1  # ... equally often


def test_two_participants_three_tasks_alternate_arms():
    assert [arm_for(participant=0, task=t, n_arms=2) for t in range(3)] == [0, 1, 0]
    assert [arm_for(participant=1, task=t, n_arms=2) for t in range(3)] == [1, 0, 1]
    # every task is done under each arm by one of the two participants
    for t in range(3):
        assert {arm_for(participant=p, task=t, n_arms=2) for p in range(2)} == {0, 1}


def _coins(*values):
    tosses = iter(values)
    return lambda: next(tosses)


def test_team_draft_follows_the_published_algorithm_on_a_hand_worked_example():
    # A = a b c d, B = b e a f. Coin: B first. B picks b; A has fewer, picks a (b is taken);
    # equal sizes, coin: A first, A picks c; B has fewer, picks e (b, a taken). k = 4.
    result = team_draft_interleave(list("abcd"), list("beaf"), 4, _coins(1, 0))
    assert result.items == list("bace")
    assert result.teams == [1, 0, 0, 1]


def test_team_draft_with_identical_rankings_keeps_the_order():
    result = team_draft_interleave(list("abc"), list("abc"), 3, _coins(0, 1))
    assert result.items == list("abc")
    assert result.teams == [0, 1, 1]


def test_team_draft_stops_when_a_ranking_has_nothing_new():
    # The published loop runs while both rankings have a result not yet in the list.
    result = team_draft_interleave(["a"], ["b", "c", "d"], 10, _coins(0))
    assert result.items == ["a"]
    assert result.teams == [0]


def test_credit_goes_to_the_team_that_picked_the_clicked_or_relevant_result():
    teams = [1, 0, 0, 1]  # b a c e from the example above
    assert team_credit(teams, [1, 2]) == (2, 0)  # a and c: A's picks
    assert preference(team_credit(teams, [1, 2])) == 0
    assert team_credit(teams, [0, 2]) == (1, 1)  # b (B) and c (A): a tie
    assert preference(team_credit(teams, [0, 2])) is None
    assert preference(team_credit(teams, [3])) == 1
    assert team_credit(teams, [3, 3]) == (0, 1)  # the same result clicked twice counts once
