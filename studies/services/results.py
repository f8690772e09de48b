"""The hits of a task under its arm(s): computed once, when the task is first served, and stored.

A task's query is the stored vector of its query figure(s) under the arm's model (the mean of
their unit vectors, made unit again, for several views): the same vectors search uses, so no
drawing is encoded again. Arms in drawing + text mode add the task's text through the one search
service. The query figures themselves are never hits. A task's gallery is its corpus (or every corpus)
as it was when the study was made (``Study.gallery_upto``), so every participant's candidates are
the same whatever is ingested later; a list is made only once every gallery figure has its vector
under the arm's model (StudyNotReadyError until then). Interleaving merges the two arms' lists by
team drafting with a coin seeded by the study and the assignment, so the list is reproducible.
"""

from __future__ import annotations

import random

import numpy as np
from numpy.typing import NDArray

from retrieval import index
from retrieval.index import FigureFilters
from retrieval.selectors.search import figure_search, unsearched_text_figures
from studies.designs import team_draft_interleave
from studies.exceptions import StudyNotReadyError
from studies.models import Arm, Assignment, ShownHit, Study, Task


def _not_ready() -> StudyNotReadyError:
    """A vector the task needs is not there yet (its query figures', or a gallery figure's under
    the arm's model): the participant is asked to come back."""
    return StudyNotReadyError("This task's results are still being prepared; try again in a minute.")


def _query_vector(arm: Arm, query_ids: list[int]) -> NDArray[np.float32]:
    vectors = index.embeddings_for(arm.model, query_ids)
    if len(vectors) < len(query_ids):
        raise _not_ready()
    mean = np.mean([vectors[i] for i in query_ids], axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm > 0 else mean).astype(np.float32)


def arm_ranking(arm: Arm, task: Task, k: int) -> list[tuple[int, float]]:
    """(figure id, score) of the arm's k best hits for the task, best first.

    Without the search's class focus (retrieval.selectors.class_focus): a study compares the
    arms' models and modes, and a re-ranking by the corpus's classes, the same for every arm,
    would narrow the difference it measures."""
    query_ids = sorted(task.query_figures.values_list("id", flat=True))
    text = task.text if arm.mode == Arm.Mode.DRAWING_TEXT else ""
    filters = FigureFilters(
        corpus_ids=[task.gallery_id] if task.gallery_id else (), exclude_figure_ids=query_ids,
        max_figure_id=task.study.gallery_upto,
    )
    result = figure_search(model=arm.model, query_vector=_query_vector(arm, query_ids), text=text, k=k,
                           filters=filters, class_focus=False)
    if result.unsearched or (text and unsearched_text_figures(filters=filters)):
        # Gallery figures without their vector under this arm's model yet, or (with a text) without
        # their text row: a list made now would be stored for good and compare the arms on
        # different galleries.
        raise _not_ready()
    return [(hit.figure.pk, hit.score) for hit in result.hits]


def assignment_hits_store(assignment: Assignment) -> list[ShownHit]:
    """Compute and store the list this assignment shows (call inside its transaction)."""
    study = assignment.task.study
    if study.design == Study.Design.WITHIN:
        arm = assignment.arm
        rows = [
            ShownHit(assignment=assignment, rank=r, figure_id=fid, arm=arm, arm_rank=r, score=score)
            for r, (fid, score) in enumerate(arm_ranking(arm, assignment.task, study.k), start=1)
        ]
    else:
        arm_a, arm_b = list(study.arms.order_by("position"))
        # Twice k from each arm, so that overlap between the lists never leaves the merge short.
        lists = [arm_ranking(arm, assignment.task, 2 * study.k) for arm in (arm_a, arm_b)]
        rng = random.Random(f"{study.seed}:{assignment.pk}")
        merged = team_draft_interleave(
            [fid for fid, _ in lists[0]], [fid for fid, _ in lists[1]], study.k, lambda: rng.randint(0, 1)
        )
        positions = [{fid: (r, score) for r, (fid, score) in enumerate(lst, start=1)} for lst in lists]
        rows = [
            ShownHit(assignment=assignment, rank=r, figure_id=fid, arm=(arm_a, arm_b)[team],
                     arm_rank=positions[team][fid][0], score=positions[team][fid][1])
            for r, (fid, team) in enumerate(zip(merged.items, merged.teams, strict=True), start=1)
        ]
    return ShownHit.objects.bulk_create(rows)
