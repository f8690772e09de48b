"""Class focus: the classes of a query's best hits are ranked first.

An examiner who searches a field works within its classes: the article's US design class and
its Locarno class. The query does not say them, but its best hits do. After the channels are
fused, the best ``RETRIEVAL_CLASS_FOCUS_PATENTS`` patents of the fused list vote for their
classes, each by its place (``1 / place``: the first patent counts 1, the second 1/2, the third
1/3), once per scheme (US main class, Locarno class). A class's *share* is its votes over all
votes of that scheme (patents without a label of that scheme do not vote there). Every figure
of the list is then ranked by

    focus score = (s − s_min) / (s_max − s_min) + w · (share of its US class + share of its Locarno class)

where ``s`` is the fused score (cosine for one channel, the RRF sum for several), the minimum and
maximum taken over the list's first ``RETRIEVAL_FUSION_DEPTH`` figures so that the weight
``w = RETRIEVAL_CLASS_FOCUS_WEIGHT`` means the same for every kind of score: w 0.5 lifts a
figure of the one voted class of both schemes by half the score range in each. A figure
whose patent has no label in a scheme is neither lifted nor buried there: it takes the share it
would have on average if its class were one of the voted ones at their shares (the sum of the
squared shares), so a corpus that classifies some patents and not others (a Locarno class only
since 2015, a foreign or unclassed document) does not push the unclassed down. Within a class,
and among figures of the same boost, the fused order stands.

This is label-level pseudo-relevance feedback (the query is assumed to belong where its best
hits are) over the corpus's own public classification, the same labels the search filters use;
the query's classes are never read. Where the best hits disagree the shares are split and the
boost is small; where the list's patents carry no classes nothing changes. Its costs: a figure
of another class must be that much more similar to stay above the class's figures, so a
cross-class look-alike (a toy of a vehicle) falls down the page, and a wrong vote from the first
hits pulls the wrong class up. The weight and the number of voting patents were chosen on the
validation patents of the dev corpus (docs/evaluation.md, "Class focus"); w 0 turns it off, and
each search can turn it off (``class_focus=false``).

A hit reports its boost (``class_boost``) beside its fused score, and a result its voted classes
with their shares, so the page can say why a figure moved up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from retrieval.models import Figure

#: The classification schemes that vote, as (key, label in the interface).
SCHEMES = (("us_class_main", "US class"), ("locarno_class", "Locarno class"))


@dataclass(frozen=True)
class FocusClass:
    scheme: str  # "us_class_main" or "locarno_class"
    label: str
    share: float


@dataclass(frozen=True)
class ClassFocus:
    """What the focus did to one result: its weight, the voting patents, the voted classes."""

    weight: float
    patents: list[str]
    classes: list[FocusClass]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClassFocus:
        """The focus as logged (``dataclasses.asdict`` of one, in a case's search log)."""
        return cls(weight=float(data["weight"]), patents=list(data["patents"]),
                   classes=[FocusClass(c["scheme"], c["label"], float(c["share"])) for c in data["classes"]])

    def voted(self) -> dict[str, set[str]]:
        """The voted labels of each scheme (a figure of one of them was lifted for its class)."""
        labels: dict[str, set[str]] = {scheme: set() for scheme, _ in SCHEMES}
        for item in self.classes:
            labels[item.scheme].add(item.label)
        return labels


@dataclass(frozen=True)
class FigureClasses:
    patent_id: str
    us_class_main: str
    locarno_class: str


FusedItem = tuple[int, float, dict[str, int]]


def figure_classes(figure_ids: Sequence[int]) -> dict[int, FigureClasses]:
    """The patent and the classes of each figure (one query)."""
    rows = Figure.objects.filter(pk__in=list(figure_ids)).values_list(
        "pk", "patent__patent_id", "patent__us_class_main", "patent__locarno_class"
    )
    return {pk: FigureClasses(patent, us or "", loc or "") for pk, patent, us, loc in rows}


def focus_settings(weight: float | None = None, patents: int | None = None) -> tuple[float, int]:
    """The weight and the number of voting patents: the given ones, else the settings'."""
    w = float(settings.RETRIEVAL_CLASS_FOCUS_WEIGHT if weight is None else weight)
    m = int(settings.RETRIEVAL_CLASS_FOCUS_PATENTS if patents is None else patents)
    return w, m


def apply_class_focus(
    fused: Sequence[FusedItem], *, weight: float | None = None, patents: int | None = None,
    classes: dict[int, FigureClasses] | None = None,
) -> tuple[list[tuple[int, float, dict[str, int], float]], ClassFocus | None]:
    """The fused list re-ranked by the focus score (see the module docstring), each item with
    its boost, and what the focus did (None where it was off or nothing voted: order and
    scores as fused, boosts 0)."""
    w, m = focus_settings(weight, patents)
    unchanged = [(f, s, r, 0.0) for f, s, r in fused]
    if w <= 0 or m <= 0 or not fused:
        return unchanged, None
    labels = figure_classes([f for f, _, _ in fused]) if classes is None else classes
    voters: list[FigureClasses] = []
    seen: set[str] = set()
    for figure_id, _, _ in fused:
        info = labels.get(figure_id)
        if info is None or info.patent_id in seen:
            continue
        seen.add(info.patent_id)
        voters.append(info)
        if len(voters) == m:
            break
    shares: dict[str, dict[str, float]] = {}
    for scheme, _ in SCHEMES:
        votes: dict[str, float] = {}
        for place, info in enumerate(voters, start=1):
            label = getattr(info, scheme)
            if label:
                votes[label] = votes.get(label, 0.0) + 1.0 / place
        total = sum(votes.values())
        if total > 0:
            shares[scheme] = {label: v / total for label, v in votes.items()}
    if not shares:
        return unchanged, None
    window = [s for _, s, _ in fused[: max(int(settings.RETRIEVAL_FUSION_DEPTH), 1)]]
    low, high = min(window), max(window)
    spread = high - low if high > low else 1.0
    unknown = {scheme: sum(v * v for v in by_label.values()) for scheme, by_label in shares.items()}
    rescored = []
    for figure_id, score, ranks in fused:
        info = labels.get(figure_id)
        boost = 0.0
        for scheme, by_label in shares.items():
            label = getattr(info, scheme) if info is not None else ""
            boost += w * (by_label.get(label, 0.0) if label else unknown[scheme])
        rescored.append(((score - low) / spread + boost, figure_id, score, ranks, boost))
    rescored.sort(key=lambda item: (-item[0], item[1]))
    focus = ClassFocus(
        weight=w,
        patents=[v.patent_id for v in voters],
        classes=[
            FocusClass(scheme, label, round(share, 4))
            for scheme, _ in SCHEMES
            for label, share in sorted(shares.get(scheme, {}).items(), key=lambda item: (-item[1], item[0]))
        ],
    )
    return [(f, s, r, round(b, 6)) for _, f, s, r, b in rescored], focus
