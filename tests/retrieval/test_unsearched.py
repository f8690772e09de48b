"""A search made while figures are still being encoded says how many it could not compare
(SearchResult.unsearched): through the selector, the API, the search page and the CLI."""

import io
import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from retrieval import index
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.models import Figure
from retrieval.selectors import search as search_selector
from retrieval.selectors.search import figure_search
from retrieval.services.encoding import figure_encode_batch
from retrieval.services.search_text import figure_search_text_batch
from tests.drawings import drawing, png_bytes, small_corpus

pytestmark = pytest.mark.django_db


@pytest.fixture
def half_encoded(tmp_path, active_model):
    """3 patents × 2 views (USD800000-USD800002, granted 2010-2012) with text rows; only the first
    patent's two figures have a vector yet, as in the first seconds of an ingest's encoding."""
    result = corpus_ingest(path=small_corpus(tmp_path / "mini", patents=3, views=2))
    figure_search_text_batch(figure_ids=result.figure_ids)  # queued on commit by ingest
    first = list(Figure.objects.filter(patent__patent_id="USD800000").values_list("pk", flat=True))
    figure_encode_batch(figure_ids=first, model_id=active_model.pk)
    search_selector._catalogue_gap.clear()  # what another test of this process counted
    return result


def _query() -> Image.Image:
    return Image.open(io.BytesIO(png_bytes(drawing(0))))


def test_a_search_counts_the_figures_it_could_not_compare(half_encoded, active_model):
    result = figure_search(image=_query(), k=10)
    assert len(result.hits) == 2 and result.unsearched == 4
    # Within the filters only: granted 2012 and later leaves USD800002's two figures.
    later = index.FigureFilters(grant_date_from=date(2012, 1, 1))
    assert figure_search(image=_query(), k=10, filters=later).unsearched == 2
    # A text alone reads the text rows, not the vectors: every figure has one here.
    assert figure_search(text="widget", k=10).unsearched == 0
    # Once the worker is done, the next search is complete (a catalogue with a gap is counted at each search).
    figure_encode_batch(figure_ids=half_encoded.figure_ids, model_id=active_model.pk)
    assert figure_search(image=_query(), k=10).unsearched == 0


def test_a_settled_catalogue_is_counted_once_then_again_when_a_figure_is_added(half_encoded, active_model, tmp_path):
    figure_encode_batch(figure_ids=half_encoded.figure_ids, model_id=active_model.pk)
    calls = []
    counted = index.figures_not_indexed

    def counting(**kwargs):
        calls.append(kwargs)
        return counted(**kwargs)

    search_selector.index.figures_not_indexed = counting
    try:
        for _ in range(3):
            assert figure_search(image=_query(), k=4).unsearched == 0
        assert len(calls) == 1  # the catalogue's gap, once: none, so no count within the filters
        more = corpus_ingest(path=small_corpus(tmp_path / "more", patents=4, views=1, seed=7))
        assert figure_search(image=_query(), k=4).unsearched == 4  # new figures: counted again, and within
        assert len(calls) == 3
        figure_search_text_batch(figure_ids=more.figure_ids)
        figure_encode_batch(figure_ids=more.figure_ids, model_id=active_model.pk)
        assert figure_search(image=_query(), k=4).unsearched == 0
    finally:
        search_selector.index.figures_not_indexed = counted


def test_the_api_the_page_and_the_cli_say_it(half_encoded, examiner, client, capsys):
    from tests.conftest import api_client

    answer = api_client(examiner).post("/api/v1/search/", {"image": SimpleUploadedFile("q.png", png_bytes(drawing(0)), "image/png"),
                                                           "k": 5}, format="multipart").json()
    assert answer["unsearched"] == 4 and answer["count"] == 2
    client.force_login(examiner)
    html = client.post(reverse("retrieval:search"),
                       {"image": SimpleUploadedFile("q.png", png_bytes(drawing(0)), "image/png"), "k": 5}).content.decode()
    assert ("Not a complete search: 4 figures within the filters were not compared, because they have no vector "
            "under test-tiny yet.") in html
    path = Figure.objects.order_by("pk").first().image.path
    call_command("search_figures", path, "--json")
    assert json.loads(capsys.readouterr().out)["unsearched"] == 4
    call_command("search_figures", path)
    assert "Not a complete search: 4 figures were not compared" in capsys.readouterr().err


def test_the_search_pages_say_before_a_search_how_many_figures_are_still_being_encoded(half_encoded, examiner,
                                                                                      client, active_model):
    from cases.services.cases import case_create

    client.force_login(examiner)
    case = case_create(examiner=examiner, application_number="29/000,001", title="Widget",
                       cutoff_date=date(2030, 1, 1))
    said = "4 figures have no vector under test-tiny yet: a drawing search leaves them out until they are encoded"
    for url in (reverse("retrieval:search"), reverse("cases:detail", args=[case.pk])):
        assert said in client.get(url).content.decode(), url
    figure_encode_batch(figure_ids=half_encoded.figure_ids, model_id=active_model.pk)
    search_selector._catalogue_gap.clear()  # another process would count again within 10 s
    for url in (reverse("retrieval:search"), reverse("cases:detail", args=[case.pk])):
        assert 'id="unencoded"' not in client.get(url).content.decode(), url


def test_a_text_search_counts_the_figures_whose_words_are_not_indexed_yet(tmp_path, active_model, examiner, client,
                                                                            capsys):
    """Text rows come from a worker after an ingest (a large corpus's words come in over a
    while): a text query says how many figures it could not find yet, on every channel."""
    from cases.services.cases import case_create
    from cases.services.searches import case_search_run
    from tests.conftest import api_client

    result = corpus_ingest(path=small_corpus(tmp_path / "mini", patents=3, views=2))
    first = list(Figure.objects.filter(patent__patent_id="USD800000").values_list("pk", flat=True))
    figure_search_text_batch(figure_ids=first)
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)  # every vector: not the gap
    search_selector._catalogue_gap.clear()
    found = figure_search(text="widget", k=10)
    assert found.unsearched == 4 and found.unsearched_by_text
    assert figure_search(image=_query(), k=10).unsearched == 0  # a drawing reads the vectors
    later = index.FigureFilters(grant_date_from=date(2012, 1, 1))
    assert figure_search(text="widget", k=10, filters=later).unsearched == 2
    answer = api_client(examiner).post("/api/v1/search/", {"text": "widget", "k": 5}, format="multipart").json()
    assert answer["unsearched"] == 4
    said = ("Not a complete search: 4 figures within the filters were not compared, because their words are still "
            "being indexed for text search.")
    client.force_login(examiner)
    assert said in client.post(reverse("retrieval:search"), {"text": "widget", "k": 5}).content.decode()
    call_command("search_figures", "--text", "widget")
    assert "4 figures were not compared (their words are still being indexed" in capsys.readouterr().err
    case = case_create(examiner=examiner, application_number="29/000,002", title="Widget",
                       cutoff_date=date(2030, 1, 1))
    logged = case_search_run(case=case, user=examiner, text="widget", k=5)
    assert logged.unsearched == 4
    assert said in client.get(reverse("cases:search", args=[case.pk, logged.pk])).content.decode()
    before = "4 figures’ words are still being indexed: a text search leaves them out until then"
    for url in (reverse("retrieval:search"), reverse("cases:detail", args=[case.pk])):
        assert before in client.get(url).content.decode(), url
    figure_search_text_batch(figure_ids=result.figure_ids)
    assert figure_search(text="widget", k=10).unsearched == 0  # a catalogue with a gap is counted at each search
    search_selector._catalogue_gap.clear()  # another process would count again within 10 s
    assert 'id="unindexed"' not in client.get(reverse("retrieval:search")).content.decode()
