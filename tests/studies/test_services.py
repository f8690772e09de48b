"""Study definition and the participant's loop, against real PostgreSQL/pgvector and two models."""

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.http import Http404

from retrieval import index
from retrieval.models import Figure, RetrievalModel
from studies.exceptions import StudyDefinitionError, StudyInputError
from studies.models import Assignment, Event, ShownHit, Study
from studies.services import participation
from studies.services.definition import TaskSpec, study_create, study_vectors_missing
from tests.studies.conftest import MODEL_A, MODEL_B, make_study

pytestmark = pytest.mark.django_db


def test_create_study_picks_tasks_assigns_arms_by_latin_square_and_encodes(study_corpus, participants):
    made = make_study("s1", study_corpus)
    study = Study.objects.get(pk=made.study_id)
    assert made.stdout.strip() == str(study.pk)
    assert [a.name for a in study.arms.all()] == [MODEL_A, MODEL_B]
    tasks = list(study.tasks.all())
    assert len(tasks) == 3
    for task in tasks:
        figures = list(task.query_figures.all())
        assert len(figures) == 2 and len({f.patent_id for f in figures}) == 1
        assert task.known_relevant == [figures[0].patent.patent_id]  # its third view is in the gallery
    arms = {(a.participant.user.username, a.position): a.arm.name for a in Assignment.objects.filter(task__study=study)}
    assert [arms[("pia", t)] for t in range(3)] == [MODEL_A, MODEL_B, MODEL_A]
    assert [arms[("paul", t)] for t in range(3)] == [MODEL_B, MODEL_A, MODEL_B]
    assert all(not ids for ids in study_vectors_missing(study=study).values())


def test_a_bad_definition_lists_every_problem_and_writes_nothing(study_corpus, participants):
    with pytest.raises(StudyDefinitionError) as error:
        study_create(name="bad", arms=[MODEL_A, "no-such-model"], participants=["pia", "nobody"],
                     tasks=[TaskSpec(query_figure_ids=[999999])], design="interleave")
    where = [p["where"] for p in error.value.extra["problems"]]
    assert where == ["participants", "task 1"]
    figure = Figure.objects.first().pk
    with pytest.raises(StudyDefinitionError, match="no-such-model"):  # checked when it is registered
        study_create(name="bad", arms=[MODEL_A, "no-such-model"], participants=["pia"],
                     tasks=[TaskSpec(query_figure_ids=[figure])])
    with pytest.raises(StudyDefinitionError, match="at least two arms"):
        study_create(name="bad", arms=[MODEL_A], participants=["pia"], tasks=[TaskSpec(query_figure_ids=[figure])])
    assert not Study.objects.exists()
    assert not RetrievalModel.objects.filter(name="no-such-model").exists()
    with pytest.raises(CommandError, match="no corpus named"):
        call_command("create_study", "x", "--arms", f"{MODEL_A},{MODEL_B}", "--tasks-from", "nope",
                     "--tasks", "2", "--participants", "pia")


def test_results_are_the_arm_models_nearest_figures_without_the_query_and_stored_once(study_corpus, participants):
    Study.objects.get(pk=make_study("s2", study_corpus).study_id)
    pia = participants[0]
    assignment = participation.assignment_next(user=pia)
    task = assignment.task
    query_ids = sorted(task.query_figures.values_list("id", flat=True))
    hits = list(assignment.hits.order_by("rank"))
    assert len(hits) == 10 and all(h.arm == assignment.arm for h in hits)
    assert not set(query_ids) & {h.figure_id for h in hits}
    # exact check: the mean of the query vectors under the arm's model, against every gallery vector
    model = assignment.arm.model
    vectors = index.embeddings_for(model, query_ids)
    query = np.mean([vectors[i] for i in query_ids], axis=0)
    query /= np.linalg.norm(query)
    gallery = index.embeddings_for(model, list(task.gallery.figures.exclude(pk__in=query_ids).values_list("pk", flat=True)))
    expected = sorted(gallery, key=lambda fid: -float(gallery[fid] @ query))[:10]
    assert [h.figure_id for h in hits] == expected
    # resume: the same task and list, no second start
    again = participation.assignment_next(user=pia)
    assert again.pk == assignment.pk
    assert list(again.hits.order_by("rank").values_list("figure_id", flat=True)) == expected
    kinds = list(Event.objects.filter(assignment=assignment).values_list("kind", flat=True))
    assert kinds.count("task_start") == 1 and kinds.count("task_resume") == 1 and kinds.count("result_shown") == 10
    assert ShownHit.objects.filter(assignment=assignment).count() == 10


def test_grades_end_questionnaire_and_sus(study_corpus, participants):
    make_study("s3", study_corpus, tasks=2)
    pia, paul = participants
    first = participation.assignment_next(user=pia)
    hit = first.hits.order_by("rank").first()
    participation.hit_grade(user=pia, task_id=first.task_id, figure_id=hit.figure_id, grade=1)
    participation.hit_grade(user=pia, task_id=first.task_id, figure_id=hit.figure_id, grade=3)
    grades = Event.objects.filter(assignment=first, kind="grade").order_by("id")
    assert [e.value for e in grades] == [{"grade": 1, "previous": None}, {"grade": 3, "previous": 1}]
    with pytest.raises(StudyInputError):
        participation.hit_grade(user=pia, task_id=first.task_id, figure_id=hit.figure_id, grade=7)
    with pytest.raises(StudyInputError, match="not one of this task's results"):
        participation.hit_grade(user=pia, task_id=first.task_id, figure_id=first.task.query_figures.first().pk, grade=2)
    with pytest.raises(Http404):  # another participant's task is not found
        participation.hit_grade(user=paul, task_id=first.task_id + 999, figure_id=hit.figure_id, grade=2)
    with pytest.raises(StudyInputError, match="Finish every task"):
        participation.sus_submit(user=pia, answers=[3] * 10)
    participation.assignment_finish(user=pia, task_id=first.task_id, confidence=4, usefulness=5, comment="ok",
                                    found_citable=True)
    with pytest.raises(StudyInputError, match="is finished"):
        participation.hit_grade(user=pia, task_id=first.task_id, figure_id=hit.figure_id, grade=0)
    second = participation.assignment_next(user=pia)
    assert second.task_id != first.task_id
    participation.assignment_finish(user=pia, task_id=second.task_id, confidence=2, usefulness=2)
    assert participation.assignment_next(user=pia) is None
    participant = participation.sus_submit(user=pia, answers=[5, 1, 5, 1, 5, 1, 5, 1, 5, 1])
    assert participant.sus_score == 100.0
    assert participation.sus_score([3] * 10) == 50.0
    assert participation.sus_score([4, 2, 4, 2, 4, 2, 4, 2, 4, 2]) == 75.0
    with pytest.raises(StudyInputError, match="no usability questionnaire"):
        participation.sus_submit(user=pia, answers=[3] * 10)


def test_events_are_append_only(study_corpus, participants):
    make_study("s4", study_corpus, tasks=1)
    participation.assignment_next(user=participants[0])
    event = Event.objects.first()
    event.kind = "grade"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        Event.objects.all().update(kind="grade")
    with pytest.raises(TypeError):
        Event.objects.all().delete()


def test_interleaving_merges_both_arms_and_credits_grades(study_corpus, participants):
    study = Study.objects.get(pk=make_study("s5", study_corpus, design="interleave", tasks=2).study_id)
    pia = participants[0]
    assignment = participation.assignment_next(user=pia)
    hits = list(assignment.hits.order_by("rank").select_related("arm"))
    assert len(hits) == 10 and {h.arm.name for h in hits} == {MODEL_A, MODEL_B}
    # team drafting keeps the teams within one pick of each other at every prefix
    for n in range(1, 11):
        counts = [sum(1 for h in hits[:n] if h.arm.name == name) for name in (MODEL_A, MODEL_B)]
        assert abs(counts[0] - counts[1]) <= 1
    for name in (MODEL_A, MODEL_B):  # each arm's picks come in its own rank order
        ranks = [h.arm_rank for h in hits if h.arm.name == name]
        assert ranks == sorted(ranks)
    team_a = [h for h in hits if h.arm.name == MODEL_A]
    for h in team_a[:2]:
        participation.hit_grade(user=pia, task_id=assignment.task_id, figure_id=h.figure_id, grade=2)
    from studies.selectors.studies import study_preferences
    assert study_preferences(study=study)["grades"] == [MODEL_A]
    assert study_preferences(study=study)["clicks"] == [None]


def test_a_drawing_plus_text_arm_searches_with_the_task_text(study_corpus, participants):
    figures = list(Figure.objects.order_by("pk").values_list("pk", flat=True)[:1])
    study = study_create(name="text-arm", arms=[MODEL_A, f"{MODEL_A}+text"], participants=["pia", "paul"],
                         tasks=[TaskSpec(query_figure_ids=figures, text="Widget 3")], k=5, queue_vectors=False)
    from studies.services.definition import study_encode_missing

    study_encode_missing(study=study)
    lists = {}
    for user in participants:
        assignment = participation.assignment_next(user=user)
        lists[assignment.arm.mode] = list(assignment.hits.order_by("rank").values_list("figure_id", flat=True))
    assert set(lists) == {"drawing", "drawing_text"}
    assert len(lists["drawing"]) == len(lists["drawing_text"]) == 5
    assert lists["drawing"] != lists["drawing_text"]  # the text moved the ranking


def test_the_time_limit_closes_grading(study_corpus, participants):
    import datetime as dt

    make_study("timed", study_corpus, tasks=1, extra=("--time-limit", "60"))
    pia = participants[0]
    assignment = participation.assignment_next(user=pia)
    hit = assignment.hits.first()
    participation.hit_grade(user=pia, task_id=assignment.task_id, figure_id=hit.figure_id, grade=2)
    Assignment.objects.filter(pk=assignment.pk).update(started_at=assignment.started_at - dt.timedelta(seconds=61))
    with pytest.raises(StudyInputError, match="time for this task is over"):
        participation.hit_grade(user=pia, task_id=assignment.task_id, figure_id=hit.figure_id, grade=3)
    participation.assignment_finish(user=pia, task_id=assignment.task_id, confidence=3, usefulness=3)
    assert participation.assignment_next(user=pia) is None


def test_a_shipped_model_that_is_not_registered_yet_is_registered_for_its_arm(study_corpus, participants):
    from retrieval.inference import model_available

    if not model_available("baseline"):
        pytest.skip("the shipped baseline model is not built in this checkout")
    made = make_study_with_arms("shipped", study_corpus, f"{MODEL_A},baseline")
    study = Study.objects.get(pk=made)
    baseline = RetrievalModel.objects.get(name="baseline")
    assert not baseline.is_active
    assert [a.model for a in study.arms.all()] == [RetrievalModel.objects.get(name=MODEL_A), baseline]
    assert all(not ids for ids in study_vectors_missing(study=study).values())


def make_study_with_arms(name: str, corpus: str, arms: str) -> int:
    from io import StringIO

    out = StringIO()
    call_command("create_study", name, "--arms", arms, "--tasks-from", corpus, "--tasks", "2",
                 "--participants", "pia,paul", stdout=out, stderr=StringIO())
    return int(out.getvalue().strip())


def test_deleting_a_study_removes_its_log_with_it(study_corpus, participants):
    study = Study.objects.get(pk=make_study("gone", study_corpus, tasks=1).study_id)
    participation.assignment_next(user=participants[0])
    assert Event.objects.filter(study=study).exists()
    from django.db import connection

    with connection.cursor() as cursor:
        # model_register (in the fixtures) made this test's one transaction check foreign keys
        # immediately; a request deleting a study has Django's deferred checks again.
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    study.delete()
    assert not Event.objects.exists() and not Assignment.objects.exists()


def test_the_upcoming_task_is_numbered_within_its_own_study(study_corpus, participants):
    """The study page's Start heading says "Task 1 of 2" for the second study's first task, as
    that task will, not "Task 4 of 5" over all the participant's studies."""
    from django.utils import timezone

    from studies.selectors.studies import participant_progress

    first = make_study("first", study_corpus, tasks=3)
    make_study("second", study_corpus, tasks=2)
    user = participants[0]
    progress = participant_progress(user=user)
    assert (progress["total"], progress["next_number"], progress["next_of"]) == (5, 1, 3)
    Assignment.objects.filter(participant__user=user, task__study_id=first.study_id).update(finished_at=timezone.now())
    progress = participant_progress(user=user)
    assert (progress["done"], progress["next_number"], progress["next_of"]) == (3, 1, 2)


def test_a_task_taken_again_says_how_long_it_has_run(study_corpus, participants):
    """A page reloaded mid-task (no time limit) shows the time the task has taken, not 0:00."""
    import datetime as dt

    from studies.selectors.studies import participant_task

    make_study("untimed", study_corpus, tasks=1)
    pia = participants[0]
    first = participation.assignment_next(user=pia)
    assert participant_task(assignment=first).seconds_elapsed < 5
    Assignment.objects.filter(pk=first.pk).update(started_at=first.started_at - dt.timedelta(seconds=90))
    again = participant_task(assignment=participation.assignment_next(user=pia))
    assert again.seconds_left is None and 90 <= again.seconds_elapsed < 95
