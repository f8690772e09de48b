"""Batch samplers: which items of the training set make up each step's batch.

``RandomBatches`` shuffles. ``ClassAwareBatches`` counters the long tail and feeds the
multi-positive loss: it draws a class (with probability ``n_c ** power``, square-root frequency by
default), then a patent of that class, then several images of that patent, until the batch is full.
Both are deterministic given (seed, epoch): the same epoch always gives the same batches, which is
what makes resuming at an epoch boundary reproduce an uninterrupted run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

import torch

__all__ = ["ClassAwareBatches", "RandomBatches", "epoch_generator"]


def epoch_generator(seed: int, epoch: int, stream: int = 0) -> torch.Generator:
    """A CPU generator seeded from (seed, epoch, stream): independent streams per epoch."""
    generator = torch.Generator()
    generator.manual_seed((seed * 1_000_003 + epoch) * 101 + stream)
    return generator


class RandomBatches:
    """Shuffled batches covering every item once per epoch (the last one may be smaller).

    Args:
        size: number of items.
        batch_size: items per batch.
        seed: base seed.
        drop_last: drop the last, smaller batch.
    """

    def __init__(
        self, size: int, batch_size: int, *, seed: int = 0, drop_last: bool = False
    ) -> None:
        _check(size, batch_size)
        self.size, self.batch_size, self.seed, self.drop_last = size, batch_size, seed, drop_last

    def __len__(self) -> int:
        full, rest = divmod(self.size, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def batches(self, epoch: int) -> Iterator[list[int]]:
        """The batches of ``epoch`` (lists of item indices)."""
        order = torch.randperm(self.size, generator=epoch_generator(self.seed, epoch)).tolist()
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield order[start : start + self.batch_size]


class ClassAwareBatches:
    """Batches drawn class first, then patent, then several images of that patent.

    An epoch has ``ceil(size / batch_size)`` batches. Items without a class label form one
    class of their own. No item appears twice in a batch; a batch is smaller than
    ``batch_size`` only when the whole training set is.

    Args:
        classes: class label of each item ('' = none).
        groups: patent id of each item.
        batch_size: items per batch.
        per_group: at most this many images of one patent per draw (default 4).
        power: classes are drawn with probability proportional to ``count ** power``
            (count = images of the class; 0.5 = square-root frequency, 0 = uniform).
        seed: base seed.
    """

    def __init__(
        self,
        classes: Sequence[str],
        groups: Sequence[str],
        batch_size: int,
        *,
        per_group: int = 4,
        power: float = 0.5,
        seed: int = 0,
    ) -> None:
        _check(len(classes), batch_size)
        if len(groups) != len(classes):
            raise ValueError("classes and groups must have one entry per item")
        if per_group < 1 or power < 0:
            raise ValueError(f"per_group must be >= 1 and power >= 0, got {per_group}, {power}")
        self.size, self.batch_size, self.per_group, self.seed = (
            len(classes),
            batch_size,
            per_group,
            seed,
        )
        members: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for index, (label, group) in enumerate(zip(classes, groups, strict=True)):
            members[label][group].append(index)
        self.class_names = sorted(members)
        self.patents = [[members[c][g] for g in sorted(members[c])] for c in self.class_names]
        counts = torch.tensor([sum(len(g) for g in p) for p in self.patents], dtype=torch.float64)
        self.class_weights = counts.pow(power)

    def __len__(self) -> int:
        return -(-self.size // self.batch_size)

    def batches(self, epoch: int) -> Iterator[list[int]]:
        """The batches of ``epoch`` (lists of item indices)."""
        generator = epoch_generator(self.seed, epoch)
        for _ in range(len(self)):
            yield self._batch(generator)

    def _batch(self, generator: torch.Generator) -> list[int]:
        batch: list[int] = []
        weights = self.class_weights.clone()
        left = [[list(images) for images in patents] for patents in self.patents]
        target = min(self.batch_size, self.size)
        while len(batch) < target:
            c = int(torch.multinomial(weights, 1, generator=generator))
            k = int(torch.randint(len(left[c]), (1,), generator=generator))
            images = left[c][k]
            order = torch.randperm(len(images), generator=generator).tolist()
            take = min(self.per_group, target - len(batch), len(images))
            batch += [images[j] for j in order[:take]]
            left[c][k] = [images[j] for j in order[take:]]
            if not left[c][k]:
                del left[c][k]
                if not left[c]:
                    weights[c] = 0.0
        return batch


def _check(size: int, batch_size: int) -> None:
    if size < 1:
        raise ValueError("the training set is empty")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
