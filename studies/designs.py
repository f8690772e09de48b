"""The two study designs, as pure functions: balanced Latin squares and team-draft interleaving.

Latin square (within-subject designs): participant p works through the tasks in study order and
uses arm ``row[t % n]`` of row ``p % len(rows)`` for its t-th task. The rows form a balanced
(Williams) Latin square: every arm appears once in every row and every column, and every arm
follows every other arm equally often. For an odd number of arms that takes 2n rows (the square
and its mirror image); for an even number n rows.

Team-draft interleaving (Radlinski, Kurup & Joachims, "How does clickthrough data reflect
retrieval quality?", CIKM 2008): two rankings A and B are merged like captains picking teams.
Whichever team has picked fewer results picks next (a coin decides when both have picked as
many); the picking team adds its highest-ranked result not already in the list. Each result
belongs to the team that picked it; a click (or a relevant grade) on it credits that team, and
the team with more credit in a session wins it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T", bound=Hashable)


def balanced_latin_square(n: int) -> list[list[int]]:
    """Rows of arm indices 0..n-1 (n rows for even n, 2n for odd n)."""
    if n < 1:
        raise ValueError("a Latin square needs at least one arm")
    first, low, high = [0], 1, n - 1
    while len(first) < n:
        first.append(low)
        low += 1
        if len(first) < n:
            first.append(high)
            high -= 1
    rows = [[(arm + shift) % n for arm in first] for shift in range(n)]
    if n % 2:
        rows += [list(reversed(row)) for row in rows]
    return rows


def arm_for(*, participant: int, task: int, n_arms: int) -> int:
    """The arm index participant number ``participant`` uses for their ``task``-th task."""
    rows = balanced_latin_square(n_arms)
    row = rows[participant % len(rows)]
    return row[task % n_arms]


@dataclass(frozen=True)
class Interleaved:
    """An interleaved list: ``items[i]`` was picked by team ``teams[i]`` (0 = A, 1 = B)."""

    items: list
    teams: list[int]


def team_draft_interleave(
    a: Sequence[T], b: Sequence[T], k: int, coin: Callable[[], int]
) -> Interleaved:
    """Merge rankings a and b into at most k results by team drafting.

    ``coin()`` returns 0 (A picks first) or 1 (B picks first); it is tossed only when both teams
    have picked as many results. Stops at k results or when either ranking has nothing new left.
    """
    items: list[T] = []
    teams: list[int] = []
    seen: set[T] = set()
    size = [0, 0]
    rankings = (a, b)
    while len(items) < k:
        remaining = [[x for x in ranking if x not in seen] for ranking in rankings]
        if not remaining[0] or not remaining[1]:
            break
        if size[0] < size[1]:
            team = 0
        elif size[1] < size[0]:
            team = 1
        else:
            team = 1 if coin() else 0
        pick = remaining[team][0]
        items.append(pick)
        teams.append(team)
        seen.add(pick)
        size[team] += 1
    return Interleaved(items=items, teams=teams)


def team_credit(teams: Sequence[int], credited: Sequence[int]) -> tuple[int, int]:
    """Credit per team: ``credited`` are the positions (0-based) clicked or graded relevant."""
    credit = [0, 0]
    for position in set(credited):
        credit[teams[position]] += 1
    return credit[0], credit[1]


def preference(credit: tuple[int, int]) -> int | None:
    """0 if team A won the session, 1 if team B did, None for a tie."""
    if credit[0] == credit[1]:
        return None
    return 0 if credit[0] > credit[1] else 1
