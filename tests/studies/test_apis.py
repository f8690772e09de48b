"""The participant API as a script would use it, its blindness, and the admin's exports."""

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts.models import User
from studies.models import Arm, Event, Study
from tests.studies.conftest import MODEL_A, MODEL_B, make_study

pytestmark = pytest.mark.django_db


class BlindClient:
    """An API client for a participant that checks every response for a trace of the arm."""

    def __init__(self, user: User, study: Study) -> None:
        self.api = APIClient()
        self.api.force_authenticate(user)
        arms = list(Arm.objects.filter(study=study).select_related("model"))
        self.secrets = {a.name for a in arms} | {a.model.name for a in arms} | {a.model.checkpoint for a in arms}

    def _check(self, response):  # noqa: ANN001, ANN202
        body = response.content.decode()
        for secret in self.secrets:
            assert secret not in body, f"{secret!r} revealed in {body[:200]}"
        if body and response["Content-Type"].startswith("application/json"):
            _assert_no_arm_keys(json.loads(body))
        return response

    def get(self, path):  # noqa: ANN001, ANN202
        return self._check(self.api.get(path))

    def post(self, path, data):  # noqa: ANN001, ANN202
        return self._check(self.api.post(path, data, format="json"))


def _assert_no_arm_keys(data: object) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            assert key != "score" and not any(word in key.lower() for word in ("arm", "model")), key
            _assert_no_arm_keys(value)
    elif isinstance(data, list):
        for item in data:
            _assert_no_arm_keys(item)


def _run_all_tasks(client: BlindClient, grade_first: int = 3) -> int:
    done = 0
    while True:
        response = client.get("/api/v1/study/tasks/next/")
        if response.status_code == 204:
            return done
        assert response.status_code == 200, response.content
        task = response.json()
        assert set(task) >= {"task", "query_images", "hits"}
        assert len(task["query_images"]) == 2 and all("/figures/" in url for url in task["query_images"])
        assert [h["rank"] for h in task["hits"]] == list(range(1, 11))
        assert all(set(h) >= {"figure_id", "image_url", "rank"} for h in task["hits"])
        for i, hit in enumerate(task["hits"][:4]):
            grade = grade_first if i == 0 else i % 3
            assert client.post(f"/api/v1/study/tasks/{task['task']}/grades/",
                               {"figure_id": hit["figure_id"], "grade": grade}).status_code == 200
        assert client.post(f"/api/v1/study/tasks/{task['task']}/opened/",
                           {"figure_id": task["hits"][0]["figure_id"]}).status_code == 204
        finish = client.post(f"/api/v1/study/tasks/{task['task']}/finish/",
                             {"confidence": 4, "usefulness": 3, "comment": "=cmd|' /C calc'!A0"})
        assert finish.status_code == 200, finish.content
        done += 1
        assert finish.json() == client.get("/api/v1/study/status/").json()  # the finish answers with the status
        assert finish.json()["tasks_done"] == done


def test_two_participants_run_a_study_through_the_api_blind_and_the_admin_exports_it(
    study_corpus, participants, tmp_path
):
    study = Study.objects.get(pk=make_study("api-study", study_corpus).study_id)
    for user in participants:
        client = BlindClient(user, study)
        assert client.get("/api/v1/study/status/").json() == {"tasks_total": 3, "tasks_done": 0, "sus_pending": False,
                                                              "task_in_progress": False, "next_task_number": 1,
                                                              "next_task_of": 3}
        assert _run_all_tasks(client) == 3
        assert client.get("/api/v1/study/status/").json() == {"tasks_total": 3, "tasks_done": 3, "sus_pending": True,
                                                              "task_in_progress": False, "next_task_number": None,
                                                              "next_task_of": None}
        assert client.get("/api/v1/study/tasks/next/").status_code == 204
        assert client.post("/api/v1/study/sus/", {"answers": [4, 2, 4, 2, 4, 2, 4, 2, 4, 2]}).json() == {"sus_score": 75.0}

    admin = APIClient()
    admin.force_authenticate(User.objects.create_user("root", password="x", role=User.Role.ADMIN))
    events = _csv(admin.get(f"/api/v1/studies/{study.pk}/events.csv"))
    kinds = [row["kind"] for row in events]
    assert kinds.count("task_start") == 6 and kinds.count("result_shown") == 60
    assert kinds.count("grade") == 24 and kinds.count("hit_opened") == 6 and kinds.count("questionnaire") == 6
    assert kinds.count("task_end") == 6 and kinds.count("sus") == 2
    assert {row["arm"] for row in events if row["kind"] == "result_shown"} == {MODEL_A, MODEL_B}

    outcomes = _csv(admin.get(f"/api/v1/studies/{study.pk}/outcomes.csv"))
    assert len(outcomes) == 6
    assert list(outcomes[0])[:10] == ["study", "participant", "task", "task_position", "arm", "design",
                                      "time_to_first_relevant_s", "precision@5", "precision@10", "judged"]
    for row in outcomes:
        # grades 3, 1, 2, 0 on ranks 1-4: two relevant in the top 5
        assert row["judged"] == "4" and float(row["precision@5"]) == 0.4 and float(row["precision@10"]) == 0.2
        assert float(row["time_to_first_relevant_s"]) >= 0
    assert sorted(row["arm"] for row in outcomes) == sorted([MODEL_A] * 3 + [MODEL_B] * 3)
    assert all(0 <= int(row["known_relevant_shown"]) <= 1 for row in outcomes)  # the third view of its patent

    questionnaires = _csv(admin.get(f"/api/v1/studies/{study.pk}/questionnaires.csv"))
    assert [row["kind"] for row in questionnaires].count("task") == 6
    sus = [row for row in questionnaires if row["kind"] == "sus"]
    assert [row["sus_score"] for row in sus] == ["75.0", "75.0"]
    assert all(row["comment"] == "'=cmd|' /C calc'!A0" for row in questionnaires if row["kind"] == "task")

    out = tmp_path / "summary.json"
    text = io.StringIO()
    call_command("analyze_study", "api-study", "--json", str(out), stdout=text)
    summary = json.loads(out.read_text())
    assert set(summary["arms"]) == {MODEL_A, MODEL_B}
    for arm in summary["arms"].values():
        assert set(arm) >= {"precision@5", "precision@10", "time_to_first_relevant_s", "sus", "n"}
        assert arm["n"] == 3 and arm["precision@5"] == pytest.approx(0.4) and arm["sus"] == 75.0
    assert summary["tests"]["precision@5"][f"{MODEL_A} vs {MODEL_B}"]["n_pairs"] == 2
    assert f"{MODEL_A}:" in text.getvalue() and "precision@5" in text.getvalue()
    detail = admin.get(f"/api/v1/studies/{study.pk}/").json()
    assert detail["summary"]["arms"][MODEL_A]["n"] == 3


def _csv(response) -> list[dict[str, str]]:  # noqa: ANN001
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))


def test_bad_input_is_a_4xx_that_changes_nothing(study_corpus, participants):
    study = Study.objects.get(pk=make_study("bad-input", study_corpus, tasks=2).study_id)
    pia, paul = participants
    client = BlindClient(pia, study)
    task = client.get("/api/v1/study/tasks/next/").json()
    hit = task["hits"][0]["figure_id"]
    url = f"/api/v1/study/tasks/{task['task']}"
    for body in ({"figure_id": hit, "grade": 7}, {"figure_id": hit, "grade": -1}, {"figure_id": hit},
                 {"figure_id": "x", "grade": 2}, {"figure_id": 99999999, "grade": 2}):
        response = client.post(f"{url}/grades/", body)
        assert response.status_code == 400 and set(response.json()) == {"message", "extra"}, body
    for body in ({"confidence": 6, "usefulness": 3}, {"confidence": 0, "usefulness": 3}, {"usefulness": 3}):
        assert client.post(f"{url}/finish/", body).status_code == 400
    for answers in ([3] * 9, [3] * 11, [0] + [3] * 9, [6] + [3] * 9, "nope"):
        assert client.post("/api/v1/study/sus/", {"answers": answers}).status_code == 400
    # another participant's task: not found
    other = BlindClient(paul, study)
    assert other.post(f"{url}/grades/", {"figure_id": hit, "grade": 2}).status_code in (400, 404)
    assert other.post("/api/v1/study/tasks/99999999/grades/", {"figure_id": hit, "grade": 2}).status_code == 404
    from studies.models import Event, StudyGrade
    assert not StudyGrade.objects.exists()
    assert not Event.objects.filter(kind__in=["grade", "questionnaire", "sus"]).exists()


def test_roles(study_corpus, participants, tmp_path):
    study = Study.objects.get(pk=make_study("roles", study_corpus, tasks=1).study_id)
    call_command("analyze_study", "roles", "--json", str(tmp_path / "empty.json"), stdout=io.StringIO())
    empty = json.loads((tmp_path / "empty.json").read_text())  # before anyone took part
    assert {arm["n"] for arm in empty["arms"].values()} == {0}
    assert empty["tests"]["precision@5"][f"{MODEL_A} vs {MODEL_B}"]["note"] == "no pairs"
    with pytest.raises(CommandError, match="no study named"):
        call_command("analyze_study", "nope")
    participant = APIClient()
    participant.force_authenticate(participants[0])
    for path in ("/api/v1/studies/", f"/api/v1/studies/{study.pk}/", f"/api/v1/studies/{study.pk}/events.csv",
                 f"/api/v1/studies/{study.pk}/outcomes.csv", f"/api/v1/studies/{study.pk}/questionnaires.csv"):
        assert participant.get(path).status_code == 403
    admin = APIClient()
    admin.force_authenticate(User.objects.create_user("root", password="x", role=User.Role.ADMIN))
    assert admin.get("/api/v1/study/tasks/next/").status_code == 403
    assert APIClient().get("/api/v1/study/tasks/next/").status_code in (401, 403)
    examiner = APIClient()
    examiner.force_authenticate(User.objects.create_user("exa", password="x", role=User.Role.EXAMINER))
    assert examiner.get("/api/v1/study/tasks/next/").status_code == 204  # not in any study


@pytest.mark.parametrize("header", [{"HTTP_SEC_PURPOSE": "prefetch"}, {"HTTP_SEC_PURPOSE": "prefetch;prerender"},
                                    {"HTTP_PURPOSE": "prefetch"}, {"HTTP_X_MOZ": "prefetch"}])
def test_a_browser_prefetch_of_the_next_task_starts_no_clock(study_corpus, participants, header):
    """GET .../tasks/next/ starts the task's clock (issue 13's contract), so a prefetch is refused
    before anything starts, and the real request that follows gets the first task, uncached."""
    study = Study.objects.get(pk=make_study("prefetch", study_corpus).study_id)
    client = APIClient()
    client.force_authenticate(participants[0])
    refused = client.get("/api/v1/study/tasks/next/", **header)
    assert refused.status_code == 503 and "prefetch" in refused.json()["message"]
    assert refused.json()["extra"] == {"prefetch": True}  # the API's one error shape
    assert refused["Cache-Control"] == "no-store" and refused["Retry-After"] == "0"
    assert not Event.objects.filter(study=study).exists()  # no task_start, nothing shown
    task = client.get("/api/v1/study/tasks/next/")
    assert task.status_code == 200 and task.json()["number"] == 1 and task["Cache-Control"] == "no-store"
    assert Event.objects.filter(study=study, kind="task_start").count() == 1


def test_admin_creates_a_study_through_the_api(study_corpus, participants):
    from retrieval.models import Figure

    admin = APIClient()
    admin.force_authenticate(User.objects.create_user("root", password="x", role=User.Role.ADMIN))
    figures = list(Figure.objects.order_by("pk").values_list("pk", flat=True)[:2])
    response = admin.post("/api/v1/studies/", {
        "name": "explicit", "arms": [MODEL_A, f"{MODEL_B}+text"], "participants": ["pia"], "design": "interleave",
        "k": 5, "tasks": [{"query_figures": figures, "text": "widget"}],
    }, format="json")
    assert response.status_code == 201, response.content
    assert [a["mode"] for a in response.json()["arms"]] == ["drawing", "drawing_text"]
    bad = admin.post("/api/v1/studies/", {"name": "explicit", "arms": [MODEL_A], "participants": ["x"],
                                          "tasks_from": study_corpus, "n_tasks": 2}, format="json")
    assert bad.status_code == 400 and bad.json()["message"]
    dup = admin.post("/api/v1/studies/", {"name": "explicit", "arms": [MODEL_A, MODEL_B], "participants": ["pia"],
                                          "tasks_from": study_corpus, "n_tasks": 2}, format="json")
    assert dup.status_code == 400 and "already exists" in dup.json()["message"]
    assert Study.objects.count() == 1

    # the list is paged as the API's other lists are (limit / offset), newest first
    second = admin.post("/api/v1/studies/", {"name": "second", "arms": [MODEL_A, MODEL_B], "participants": ["pia"],
                                             "tasks": [{"query_figures": figures, "text": ""}]}, format="json")
    assert second.status_code == 201, second.content
    first_page = admin.get("/api/v1/studies/?limit=1").json()
    assert first_page["count"] == 2 and [st["name"] for st in first_page["results"]] == ["second"]
    assert first_page["results"][0]["participants"] == ["pia"] and "offset=1" in first_page["next"]
    rest = admin.get(first_page["next"]).json()
    assert [st["name"] for st in rest["results"]] == ["explicit"] and rest["next"] is None


def test_admin_adds_participants_who_continue_the_latin_square(study_corpus, participants):
    study = Study.objects.get(pk=make_study("grow", study_corpus, tasks=2).study_id)
    User.objects.create_user("ines", password="x", role=User.Role.EXAMINER)
    User.objects.create_user("otto", password="x", role=User.Role.PARTICIPANT)
    admin = APIClient()
    admin.force_authenticate(User.objects.create_user("root", password="x", role=User.Role.ADMIN))
    url = f"/api/v1/studies/{study.pk}/participants/"
    response = admin.post(url, {"participants": ["ines", "otto"]}, format="json")
    assert response.status_code == 201 and response.json()["participants"] == ["pia", "paul", "ines", "otto"]
    orders = {p.user.username: [a.arm.name for a in p.assignments.order_by("position")]
              for p in study.participants.select_related("user")}
    assert orders["ines"] == orders["pia"] == [MODEL_A, MODEL_B]
    assert orders["otto"] == orders["paul"] == [MODEL_B, MODEL_A]
    again = admin.post(url, {"participants": ["pia", "root"]}, format="json")
    assert again.status_code == 400 and len(again.json()["extra"]["problems"]) == 2
    assert study.participants.count() == 4


def test_a_task_waits_until_every_gallery_figure_has_its_vector_under_its_arm(study_corpus, participants,
                                                                             monkeypatch):
    """A list is stored for good once served: made while a worker still encodes the gallery under
    one arm's model, it would compare the arms on different galleries. So the participant is told
    to try again, nothing starts, the missing vectors are queued for the workers (once in 5 minutes:
    the workers encode new figures under the active model only), and the task is served once the
    vectors are there."""
    from django.core.cache import caches

    from retrieval.models import Figure, FigureEmbedding, RetrievalModel
    from retrieval.selectors import search as search_selector
    from retrieval.services.encoding import figure_encode_batch
    from studies.services import definition

    study = Study.objects.get(pk=make_study("waits", study_corpus, tasks=1).study_id)
    task = study.tasks.get()
    assert task.gallery_id is not None
    lost = Figure.objects.filter(corpus_id=task.gallery_id).exclude(pk__in=task.query_figures.all()).order_by("-pk").first()
    models = list(RetrievalModel.objects.filter(name__in=[MODEL_A, MODEL_B]))
    assert FigureEmbedding.objects.filter(figure=lost, model__in=models).delete()[0] == 2  # whichever arm pia gets
    search_selector._catalogue_gap.clear()
    queued = []
    monkeypatch.setattr(definition, "figures_encode_enqueue",
                        lambda *, figure_ids, model: queued.append((model.name, list(figure_ids))) or 1)
    caches["default"].delete(f"study-vectors-queued:{study.pk}")
    client = APIClient()
    client.force_authenticate(participants[0])
    refused = client.get("/api/v1/study/tasks/next/")
    assert refused.status_code == 503 and "being prepared" in refused.json()["message"]
    assert refused["Retry-After"] == "30" and refused["Cache-Control"] == "no-store"  # the API's one 503 mapping
    assert not Event.objects.filter(study=study, kind="task_start").exists()
    assert sorted(queued) == sorted([(MODEL_A, [lost.pk]), (MODEL_B, [lost.pk])])
    assert client.get("/api/v1/study/tasks/next/").status_code == 503 and len(queued) == 2  # not again at once
    for model in models:
        figure_encode_batch(figure_ids=[lost.pk], model_id=model.pk)
    served = client.get("/api/v1/study/tasks/next/")
    assert served.status_code == 200 and len(served.json()["hits"]) == study.k


def test_a_study_gallery_is_the_corpus_as_it_was_when_the_study_was_made(study_corpus, participants, tmp_path):
    """Figures ingested into a gallery's corpus while a study runs are not candidates: every
    participant's lists come from the same gallery, and nobody waits for the new figures' vectors
    under the other arm's model."""
    from retrieval.ingest.pipeline import corpus_ingest
    from retrieval.models import Figure
    from tests.drawings import small_corpus

    study = Study.objects.get(pk=make_study("frozen", study_corpus, tasks=2).study_id)
    assert study.gallery_upto == Figure.objects.order_by("-pk").values_list("pk", flat=True).first()
    later = corpus_ingest(path=small_corpus(tmp_path / "later", patents=3, views=2, seed=3), name=study_corpus)
    assert len(later.figure_ids) == 6 and min(later.figure_ids) > study.gallery_upto  # no vectors under either arm
    for user in participants:
        client = APIClient()
        client.force_authenticate(user)
        for _ in range(2):
            task = client.get("/api/v1/study/tasks/next/")
            assert task.status_code == 200, task.content
            shown = {hit["figure_id"] for hit in task.json()["hits"]}
            assert shown and not shown & set(later.figure_ids)
            assert client.post(f"/api/v1/study/tasks/{task.json()['task']}/finish/",
                               {"confidence": 3, "usefulness": 3}, format="json").status_code == 200
