"""Class focus: the classes of a query's best hits are ranked first.

An examiner who searches a field works within its classes: the article's US design class and
its Locarno class. The query does not say them, but its best hits do. After the channels are
fused, the best ``RETRIEVAL_CLASS_FOCUS_PATENTS`` patents of the fused list vote for their
classes, each by its place (``1 / place``: the first patent counts 1, the second 1/2, the third
1/3), once per scheme (US main class, Locarno class). A class's *share* is its votes over all
votes of that scheme (a patent without a label of that scheme votes by its estimate, below). Every figure
of the list is then ranked by

    focus score = (s − s_min) / (s_max − s_min) + w · (share of its US class + share of its Locarno class)

where ``s`` is the fused score (cosine for one channel, the RRF sum for several), the minimum and
maximum taken over the list's first ``RETRIEVAL_FUSION_DEPTH`` figures so that the weight
``w = RETRIEVAL_CLASS_FOCUS_WEIGHT`` means the same for every kind of score: w 0.5 lifts a
figure of the one voted class of both schemes by half the score range in each. Within a class,
and among figures of the same boost, the fused order stands.

A patent without a label in a scheme (a US design patent before the Locarno class was printed on
it in 2015, a foreign document without a US class) is taken at its best estimate, the mix of
that scheme's labels among the list's classified patents (its first ``RETRIEVAL_FUSION_DEPTH``
figures, each patent once): among those that share its label of the other scheme where it has
one and any of them is classified (an unclassed D14 patent is likely of the Locarno classes the
list's D14 patents have), else among all of them. Such a voter splits its vote over that mix,
and such a figure takes the share its mix would have on average: it is neither lifted as if it
were of the voted class nor buried as if it were of none. So one classified patent among
unclassed voters does not decide the vote alone, and a classified figure of the voted class
ranks above an unclassed one of the same fused score, which is only probably of that class.

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

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from retrieval.models import Figure

#: The classification schemes that vote, as (key, label in the interface).
SCHEMES = (("us_class_main", "US class"), ("locarno_class", "Locarno class"))
#: The least share of its scheme's votes for which a page names a class and marks its figures
#: (the API reports every share).
SHOWN_SHARE = 0.1
#: Each scheme's other scheme (the evidence for a missing label).
_OTHER = {"us_class_main": "locarno_class", "locarno_class": "us_class_main"}


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

    def shown(self) -> list[FocusClass]:
        """The classes a page names: those holding at least ``SHOWN_SHARE`` of their scheme's
        votes (an unclassed voter's estimate spreads small shares over many classes)."""
        return [item for item in self.classes if item.share >= SHOWN_SHARE]

    def hidden(self) -> int:
        """How many voted classes hold less than ``SHOWN_SHARE`` (the page says "and N more")."""
        return len(self.classes) - len(self.shown())

    def summary(self) -> str:
        """Every voted class with its share, in one line of text ("D14 55%, 14-02 40%"): what the
        command line prints and the case's search-log export holds."""
        return ", ".join(f"{item.label} {item.share:.0%}" for item in self.classes)

    def voted(self) -> dict[str, set[str]]:
        """The labels of each scheme that a page marks as voted for ("class ↑"): the shown ones."""
        labels: dict[str, set[str]] = {scheme: set() for scheme, _ in SCHEMES}
        for item in self.shown():
            labels[item.scheme].add(item.label)
        return labels


@dataclass(frozen=True)
class FigureClasses:
    patent_id: str
    us_class_main: str
    locarno_class: str


FusedItem = tuple[int, float, dict[str, int]]


class _LabelEstimate:
    """Each scheme's label of a patent: its own, else the mix of the list's classified patents
    (those sharing its other scheme's label first), as the module docstring says."""

    def __init__(self, window: Iterable[FigureClasses | None]) -> None:
        patents: dict[str, FigureClasses] = {}
        for info in window:
            if info is not None:
                patents.setdefault(info.patent_id, info)
        self._all: dict[str, Counter[str]] = {scheme: Counter() for scheme, _ in SCHEMES}
        self._by_other: dict[str, dict[str, Counter[str]]] = {scheme: {} for scheme, _ in SCHEMES}
        self._mixes: dict[tuple[str, str], dict[str, float]] = {}
        for info in patents.values():
            for scheme, other in _OTHER.items():
                label = getattr(info, scheme)
                if label:
                    self._all[scheme][label] += 1
                    if getattr(info, other):
                        self._by_other[scheme].setdefault(getattr(info, other), Counter())[label] += 1

    def mix(self, info: FigureClasses | None, scheme: str) -> dict[str, float]:
        """Label -> probability (empty where nothing in the list is classified in the scheme)."""
        if info is not None and getattr(info, scheme):
            return {getattr(info, scheme): 1.0}
        other = getattr(info, _OTHER[scheme]) if info is not None else ""
        key = (scheme, other)
        if key not in self._mixes:
            counts = self._by_other[scheme].get(other) or self._all[scheme]
            total = sum(counts.values())
            self._mixes[key] = {label: n / total for label, n in counts.items()}
        return self._mixes[key]


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
    depth = max(int(settings.RETRIEVAL_FUSION_DEPTH), 1)
    estimate = _LabelEstimate(labels.get(f) for f, _, _ in fused[:depth])
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
            for label, p in estimate.mix(info, scheme).items():
                votes[label] = votes.get(label, 0.0) + p / place
        total = sum(votes.values())
        if total > 0:
            shares[scheme] = {label: v / total for label, v in votes.items()}
    if not shares:
        return unchanged, None
    window = [s for _, s, _ in fused[:depth]]
    low, high = min(window), max(window)
    spread = high - low if high > low else 1.0
    rescored = []
    for figure_id, score, ranks in fused:
        info = labels.get(figure_id)
        boost = 0.0
        for scheme, by_label in shares.items():
            boost += w * sum(p * by_label.get(label, 0.0) for label, p in estimate.mix(info, scheme).items())
        rescored.append(((score - low) / spread + boost, figure_id, score, ranks, boost))
    # Stable: equal scores keep the fused order, whose ties are already broken by rank, then id.
    rescored.sort(key=lambda item: -item[0])
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
