"""Held figure work: a queued encode or describe batch asks, before it does any work, whether some
of its figures are held, and skips those.

Apps above retrieval register a gate here (the console: figures whose encode, re-index or
describe job an admin cancelled), so cancelling stops work already sitting in a queue without
retrieval knowing about jobs. A gate is ``gate(work, model_id, figure_ids) -> held ids``, where
``work`` is :data:`ENCODE` (``model_id``: the model the vectors are for) or :data:`DESCRIBE`
(``model_id`` None). No gate registered: nothing is held.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

logger = logging.getLogger(__name__)

ENCODE = "encode"
DESCRIBE = "describe"

Gate = Callable[[str, "int | None", Sequence[int]], set[int]]
_GATES: list[Gate] = []


def gate_register(gate: Gate) -> None:
    """Add a gate (once; AppConfig.ready of the app that owns the reason to hold work)."""
    if gate not in _GATES:
        _GATES.append(gate)


def figures_held(*, work: str, model_id: int | None, figure_ids: Sequence[int]) -> set[int]:
    """The figures of a batch that no gate lets through."""
    held: set[int] = set()
    for gate in _GATES:
        held |= set(gate(work, model_id, list(figure_ids)))
    if held:
        logger.info("%s: %d of %d figures held (their job was cancelled)", work, len(held), len(figure_ids))
    return held
