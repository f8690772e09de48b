"""Services and selectors of cases: the log's immutability, fusion, crops, Rocchio, citations."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.db import connection
from PIL import Image

from cases.models import Case, CaseSearch, ImmutableLogError, Judgment, LoggedHit, QueryImage
from cases.query_images import crop_apply, crop_check
from cases.selectors.cases import case_citations, case_get, case_list
from cases.services.cases import CaseClosedError, case_create, case_update
from cases.services.judgments import judgment_set
from cases.services.searches import QueryDrawing, _rocchio, case_search_run
from patentsearch.exceptions import ApplicationError
from retrieval import index, inference
from retrieval.models import Figure
from retrieval.selectors.search import fuse_views
from tests.accounts.factories import UserFactory
from tests.drawings import drawing, png_bytes
from tests.races import at_once, slowed

pytestmark = pytest.mark.django_db


def run(case, user, *seeds: int, **kwargs) -> CaseSearch:
    drawings = [QueryDrawing(png_bytes(drawing(s)), f"{s}.png", drawing(s)) for s in seeds]
    return case_search_run(case=case, user=user, drawings=drawings, k=kwargs.pop("k", 6), **kwargs)


def test_a_logged_search_cannot_be_changed_or_deleted(case, examiner, encoded_corpus):
    search = run(case, examiner, 0)
    search.text = "changed"
    with pytest.raises(ImmutableLogError):
        search.save()
    with pytest.raises(ImmutableLogError):
        search.delete()
    for queryset in (CaseSearch.objects.filter(pk=search.pk), LoggedHit.objects.filter(search=search),
                     QueryImage.objects.filter(search=search)):
        with pytest.raises(ImmutableLogError):
            queryset.update(created_at=None)
        with pytest.raises(ImmutableLogError):
            queryset.delete()
    hit = LoggedHit.objects.filter(search=search).first()
    hit.score = 0.0
    with pytest.raises(ImmutableLogError):
        hit.save()
    fresh = CaseSearch.objects.get(pk=search.pk)
    assert fresh.text == "" and LoggedHit.objects.filter(search=search).count() == 6


def test_the_query_s_own_drawing_is_logged_first_and_the_page_says_so(case, examiner, encoded_corpus, client):
    """A corpus drawing uploaded again (USD800001 FIG. 2), with another patent's title at the
    composer's weight: its figure is the first hit, logged as identical, marked on the page and
    in the search API."""
    search = run(case, examiner, 101, text="Widget 2", text_weight=0.3)
    hits = list(search.hits.order_by("rank").select_related("figure__patent"))
    assert (hits[0].figure.patent.patent_id, hits[0].figure.figure_label, hits[0].identical) == ("USD800001", "2", True)
    assert not any(h.identical for h in hits[1:])
    client.force_login(examiner)
    page = client.get(f"/cases/{case.pk}/searches/{search.pk}/").content.decode()
    assert page.count("same drawing</span>") == 1
    body = client.get(f"/api/v1/cases/{case.pk}/searches/{search.pk}/").json()
    assert [h["identical"] for h in body["hits"]] == [True] + [False] * (len(body["hits"]) - 1)


def test_searches_are_numbered_per_case_and_record_model_and_filters(case, examiner, encoded_corpus, active_model):
    first = run(case, examiner, 0, filters={"us_class_main": ["D14"]})
    second = run(case, examiner, 1, 2)
    assert (first.number, second.number) == (1, 2)
    assert (first.model_name, first.model_version) == (active_model.name, active_model.version)
    assert {h.figure.patent.us_class_main for h in first.hits.select_related("figure__patent")} == {"D14"}
    assert [i.position for i in second.images.all()] == [0, 1]


def test_fused_views_rank_by_the_mean_cosine_similarity_to_every_view(encoded_corpus, active_model):
    views = [drawing(0), drawing(101), drawing(202)]
    vectors = inference.embed_images(active_model.checkpoint, views)
    fused = fuse_views(vectors)
    assert np.linalg.norm(fused) == pytest.approx(1.0, abs=1e-5)
    stored = index.embeddings_for(active_model, list(Figure.objects.values_list("pk", flat=True)))
    ids = sorted(stored)
    gallery = np.stack([stored[i] for i in ids])
    by_fused = [ids[i] for i in np.argsort(-(gallery @ fused), kind="stable")]
    by_mean_cosine = [ids[i] for i in np.argsort(-(gallery @ vectors.T).mean(axis=1), kind="stable")]
    assert by_fused == by_mean_cosine
    neighbors = index.nearest_figures(model=active_model, query=fused, k=5)
    assert [n.figure_id for n in neighbors] == by_fused[:5]


def test_crop_boxes_are_checked_and_cut_from_the_original_pixels():
    image = Image.new("L", (200, 100), 255)
    assert crop_apply(image, crop_check([0.25, 0.5, 0.75, 1.0])).size == (100, 50)
    assert crop_apply(image, crop_check([0.0, 0.0, 0.001, 0.001])).size == (1, 1)
    assert crop_check(None) is None
    for bad in ([0, 0, 1], [0, 0, 1.2, 1], [-0.1, 0, 1, 1], [0.5, 0, 0.5, 1], [0, 0.8, 1, 0.2], ["a", 0, 1, 1]):
        with pytest.raises(ApplicationError):
            crop_check(bad)


def test_rocchio_moves_the_query_toward_relevant_and_away_from_not_relevant(active_model, encoded_corpus):
    ids = list(Figure.objects.order_by("pk").values_list("pk", flat=True)[:3])
    stored = index.embeddings_for(active_model, ids)
    query = stored[ids[0]]
    feedback = {"beta": 0.75, "gamma": 0.15, "relevant": [ids[1]], "not_relevant": [ids[2]]}
    refined = _rocchio(query, feedback, active_model)
    expected = query + 0.75 * stored[ids[1]] - 0.15 * stored[ids[2]]
    np.testing.assert_allclose(refined, expected / np.linalg.norm(expected), atol=1e-5)


def test_refine_needs_judgments(case, examiner, encoded_corpus):
    base = run(case, examiner, 0)
    with pytest.raises(ApplicationError, match="Refine needs judgments"):
        case_search_run(case=case, user=examiner, k=5, refine=base.pk)
    assert CaseSearch.objects.count() == 1


def test_a_refine_or_re_run_of_more_like_this_leaves_the_seed_out_too(case, examiner, encoded_corpus):
    """The seed is in front of the examiner; "more like this" leaves it out, and so does a refine
    of that search (its query is the seed's vector moved by the grades) and a re-run of the refine."""
    from cases.services.searches import case_search_rerun

    seed = encoded_corpus.figure_ids[0]
    like = case_search_run(case=case, user=examiner, k=12, like_figure=seed)
    shown = list(like.hits.order_by("rank").values_list("figure_id", flat=True))
    assert seed not in shown and len(shown) == 11
    judgment_set(case=case, figure_id=shown[0], user=examiner, grade=3)
    refined = case_search_run(case=case, user=examiner, k=12, refine=like.pk)
    again = case_search_rerun(search=refined, user=examiner)
    twice = case_search_rerun(search=again, user=examiner)
    refined_again = case_search_run(case=case, user=examiner, k=12, refine=twice.pk)
    for search in (refined, again, twice, refined_again):
        assert seed not in search.hits.values_list("figure_id", flat=True)
        assert search.hits.count() == 11 and search.like_figure_id is None
    liked_again = case_search_rerun(search=like, user=examiner)
    assert liked_again.like_figure_id == seed and seed not in liked_again.hits.values_list("figure_id", flat=True)


def test_judgments_keep_their_history_and_a_no_change_writes_none(case, examiner, encoded_corpus):
    search = run(case, examiner, 0)
    figure_id = search.hits.first().figure_id
    judgment_set(case=case, figure_id=figure_id, user=examiner, grade=3)
    judgment_set(case=case, figure_id=figure_id, user=examiner, grade=3)
    judgment_set(case=case, figure_id=figure_id, user=examiner, category="Y", note="handle")
    judgment = Judgment.objects.get(case=case, figure_id=figure_id)
    assert judgment.search_id == search.pk  # the search that showed it
    changes = list(judgment.changes.order_by("id"))
    assert [c.old for c in changes] == [None, {"grade": 3, "category": "", "note": "", "search": search.pk}]
    assert changes[1].new == {"grade": 3, "category": "Y", "note": "handle", "search": search.pk}


def test_a_closed_case_refuses_writes_and_reopens(case, examiner, encoded_corpus):
    case_update(case=case, status="closed")
    with pytest.raises(CaseClosedError):
        run(case, examiner, 0)
    with pytest.raises(CaseClosedError):
        case_update(case=case, title="x")
    case = case_update(case=case, status="open", title="Reopened")
    assert case.title == "Reopened" and not case.is_closed
    assert run(case, examiner, 0).number == 1


def test_two_requests_adding_the_same_application_at_once_make_one_case(transactional_db, monkeypatch):
    """A double-click or two tabs: both requests pass the check before either has written, unless
    they take turns. A pause between the check and the write widens the window so that, without the
    lock on the examiner's row, both would make a case every time."""
    examiner = UserFactory(username="twin")
    slowed(monkeypatch, Case, "full_clean")
    outcomes = at_once(lambda: case_create(examiner=examiner, application_number="29/777", title="Lamp",
                                           cutoff_date=dt.date(2030, 1, 1)))
    assert outcomes[0].startswith("You already have a case for application 29/777 (Lamp, open)") and outcomes[1] == "done"
    assert Case.objects.filter(examiner=examiner, application_number="29/777").count() == 1


def test_case_list_counts_and_citations_group_by_patent(case, examiner, other_examiner, encoded_corpus):
    search = run(case, examiner, 0, k=12)
    figures = {(f.patent.patent_id, f.figure_label): f.pk for f in Figure.objects.select_related("patent")}
    judgment_set(case=case, figure_id=figures[("USD800000", "1")], user=examiner, grade=2, category="Y")
    judgment_set(case=case, figure_id=figures[("USD800000", "2")], user=examiner, grade=3, category="X")
    judgment_set(case=case, figure_id=figures[("USD800001", "1")], user=examiner, category="A")
    judgment_set(case=case, figure_id=figures[("USD800002", "1")], user=examiner, grade=0)
    listed = case_list(examiner).get(pk=case.pk)
    assert (listed.search_count, listed.judged_count, listed.citation_count) == (1, 4, 2)
    citations = case_citations(case)
    assert [(c.patent.patent_id, c.category, c.figures, c.best_grade) for c in citations] == [
        ("USD800000", "X", ["1", "2"], 3), ("USD800001", "A", ["1"], None)]
    assert [c.note for c in citations] == ["", ""]
    judgment_set(case=case, figure_id=figures[("USD800000", "2")], user=examiner, note="same handle")
    judgment_set(case=case, figure_id=figures[("USD800001", "1")], user=examiner, note="background only")
    assert [c.note for c in case_citations(case)] == ["same handle", "background only"]  # one note: as it is
    judgment_set(case=case, figure_id=figures[("USD800000", "1")], user=examiner, note="spout differs")
    assert case_citations(case)[0].note == "FIG. 1: spout differs | FIG. 2: same handle"  # several: whose is whose
    other = case_create(examiner=other_examiner, application_number="B", title="t", cutoff_date=dt.date(2030, 1, 1))
    with pytest.raises(Exception, match="No such case"):
        case_get(examiner, other.pk)
    assert search.number == 1


def test_the_admin_cannot_change_or_delete_a_logged_search(case, examiner, encoded_corpus, admin_user):
    from django.test import Client

    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    search = run(case, examiner, 0)
    client = Client()
    client.force_login(admin_user)
    assert client.get(f"/admin/cases/casesearch/{search.pk}/change/").status_code == 200  # view only
    assert client.post(f"/admin/cases/casesearch/{search.pk}/delete/", {"post": "yes"}).status_code == 403
    assert CaseSearch.objects.filter(pk=search.pk).exists()
    # nor the case: it changes through its services (a closed case stays read-only there)
    change = client.post(f"/admin/cases/case/{case.pk}/change/", {"title": "changed", "status": "open"})
    assert change.status_code == 403
    assert client.get(f"/admin/cases/case/{case.pk}/change/").status_code == 200  # view only
    case.refresh_from_db()
    assert case.title == "Widget"


def test_the_database_refuses_to_change_a_logged_search_even_by_raw_sql(case, examiner, encoded_corpus):
    from django.db import IntegrityError, transaction

    search = run(case, examiner, 0)
    for sql in ("UPDATE cases_casesearch SET text = 'x' WHERE id = %s",
                "DELETE FROM cases_loggedhit WHERE search_id = %s",
                "UPDATE cases_queryimage SET crop = NULL WHERE search_id = %s"):
        with pytest.raises(IntegrityError, match="cannot be changed"), transaction.atomic(), connection.cursor() as c:
            c.execute(sql, [search.pk])
    assert CaseSearch.objects.get(pk=search.pk).text == "" and search.hits.count() == 6
