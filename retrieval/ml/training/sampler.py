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
    """Batches of a few classes with several images each (P x K sampling), patents kept together.

    A batch is filled class by class: a class is drawn (without replacement within the batch),
    then patents of that class, each giving up to ``per_group`` of its images, until
    ``per_class`` images of the class are in (or it has no more). A class-level contrastive
    loss needs several members of a class in a batch: with one image per drawn class, most
    anchors would have no positive that is not of their own patent.

    An epoch has ``ceil(size / batch_size)`` batches. Items without a class label form one
    class of their own. No item appears twice in a batch; a batch is smaller than
    ``batch_size`` only when the whole training set is.

    Args:
        classes: class label of each item ('' = none).
        groups: patent id of each item.
        batch_size: items per batch.
        per_group: at most this many images of one patent per draw (default 4).
        per_class: images of one class per batch, at most (default 8).
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
        per_class: int = 8,
        power: float = 0.5,
        seed: int = 0,
    ) -> None:
        _check(len(classes), batch_size)
        if len(groups) != len(classes):
            raise ValueError("classes and groups must have one entry per item")
        if per_group < 1 or per_class < 1 or power < 0:
            raise ValueError(
                f"per_group and per_class must be >= 1 and power >= 0, got {per_group}, "
                f"{per_class}, {power}"
            )
        self.per_class = per_class
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
        left = [[list(images) for images in patents] for patents in self.patents]
        remaining = self.class_weights.clone()
        target = min(self.batch_size, self.size)
        while len(batch) < target:
            weights = remaining * torch.tensor([float(bool(p)) for p in left], dtype=torch.float64)
            if not bool((weights > 0).any()):  # every class drawn once: draw again
                remaining = self.class_weights.clone()
                continue
            c = int(torch.multinomial(weights, 1, generator=generator))
            remaining[c] = 0.0
            quota = min(self.per_class, target - len(batch))
            while quota > 0 and left[c]:
                taken = self._take(left[c], min(self.per_group, quota), generator)
                batch += taken
                quota -= len(taken)
        return batch

    @staticmethod
    def _take(patents: list[list[int]], most: int, generator: torch.Generator) -> list[int]:
        """Up to ``most`` images of one random patent of ``patents``, removed from it."""
        k = int(torch.randint(len(patents), (1,), generator=generator))
        images = patents[k]
        order = torch.randperm(len(images), generator=generator).tolist()
        taken = [images[j] for j in order[:most]]
        patents[k] = [images[j] for j in order[most:]]
        if not patents[k]:
            del patents[k]
        return taken


def _check(size: int, batch_size: int) -> None:
    if size < 1:
        raise ValueError("the training set is empty")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
