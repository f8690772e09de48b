"""The query's own drawing comes first (retrieval.selectors.search.put_identical_first): a corpus
drawing uploaded again, with a title as the case composer sends it, is the first hit whatever the
text and the class focus; a search of several views checks each view; the rule can be turned off."""

import csv
import shutil

import pytest
from django.test import Client
from PIL import Image

from retrieval import index
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.models import Figure
from retrieval.selectors.search import figure_search, put_identical_first
from retrieval.services.encoding import figure_encode_batch
from retrieval.services.search_text import figure_search_text_batch

pytestmark = pytest.mark.django_db
URL = "/api/v1/search/"


def _upload(data: bytes, name: str = "query.png"):  # noqa: ANN202
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/png")


def _search(client, **data):  # noqa: ANN001, ANN202
    response = client.post(URL, {"k": 10, **data}, format="multipart")
    assert response.status_code == 200, response.json()
    return response.json()["hits"]


def test_identical_figures_go_first_closest_copy_first_the_rest_in_order():
    focused = [(10, 0.9, {"joint": 1}, 0.2), (11, 0.8, {"joint": 2}, 0.2), (12, 0.7, {"joint": 3}, 0.0)]
    rankings = {"drawing": [index.Neighbor(13, 0.99), index.Neighbor(12, 0.99)], "joint": []}
    assert put_identical_first(focused, {}, rankings) == focused
    ordered = put_identical_first(focused, {12: 0.9999, 11: 0.9999, 13: 0.99999}, rankings)
    # the closest copy first; equal cosines keep the focused order; one no channel ranked comes in
    # with its cosine as its score and its drawing rank
    assert [item[0] for item in ordered] == [13, 11, 12, 10]
    assert ordered[0] == (13, 0.99999, {"drawing": 1}, 0.0)


def test_each_view_of_a_multi_view_search_finds_its_copy_and_the_rule_can_be_off(
    examiner_api, examiner, encoded_corpus, tmp_path, settings
):
    """Several views (as a case searches with them) are fused into one vector close to none of
    them, so each view looks for its copy on its own."""
    root = tmp_path / "mini"  # encoded_corpus's folder: 4 patents x 3 views
    views = [Image.open(root / "images/USD800001-1.png"), Image.open(root / "images/USD800002-3.png")]
    hits = figure_search(images=views, text="a design", text_weight=0.3, k=10).hits
    first = {(h.figure.patent.patent_id, h.figure.figure_label) for h in hits[:2]}
    assert first == {("USD800001", "1"), ("USD800002", "3")} and all(h.identical for h in hits[:2])
    assert not any(h.identical for h in hits[2:])
    one = (root / "images/USD800003-2.png").read_bytes()  # through the API, which says it
    api_hits = _search(examiner_api, image=_upload(one), text="a design")
    assert (api_hits[0]["patent_id"], api_hits[0]["figure_label"], api_hits[0]["identical"]) == ("USD800003", "2", True)
    browser = Client()
    browser.force_login(examiner)
    page = browser.post("/", {"image": _upload(one), "text": "a design", "k": "10"}).content.decode()
    assert page.count("same drawing</span>") == 1  # the plain search page marks it too
    settings.RETRIEVAL_IDENTICAL_MIN_COSINE = 1.5  # off
    assert not any(h.identical for h in figure_search(images=views, text="a design", k=10).hits)
    assert not any(h["identical"] for h in _search(examiner_api, image=_upload(one), text="a design"))


@pytest.mark.shared_data
@pytest.mark.slow
def test_a_real_drawing_uploaded_with_its_title_finds_itself_first(shared_data, tmp_path, examiner_api):
    """Real USPTO drawings under the shipped `default` model, the title at the case composer's
    weight (0.3) and the class focus on: before the rule, the drawing's own patent was the first
    patent for 74 % of the dev corpus's multi-view drawings (docs/evaluation.md); now each figure
    is the first hit. Five multi-view patents and the one-drawing patents of their US classes."""
    from retrieval.services.models import model_register

    model = model_register(spec="default", activate=True)
    with open(shared_data / "metadata.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["is_front_page"] != "1"]
    several = sorted({r["patent_id"] for r in rows if r["image_file"].startswith("images/impact/")})[:5]
    classes = {r["us_class_main"] for r in rows if r["patent_id"] in several}
    single = sorted({r["patent_id"] for r in rows if r["image_file"].startswith("images/dp2007/")
                     and r["us_class_main"] in classes})[:40]
    keep = [r for r in rows if r["patent_id"] in set(several) | set(single)]
    root = tmp_path / "real"
    for r in keep:
        (root / r["image_file"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared_data / r["image_file"], root / r["image_file"])
    with open(root / "metadata.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(keep[0]))
        writer.writeheader()
        writer.writerows(keep)
    result = corpus_ingest(path=root)
    figure_encode_batch(figure_ids=result.figure_ids, model_id=model.pk)
    figure_search_text_batch(figure_ids=result.figure_ids)
    queries = Figure.objects.filter(pk__in=result.figure_ids, patent__patent_id__in=several).select_related("patent")
    assert queries.count() >= 20
    missed = []
    for figure in queries:
        data = (root / figure.source_file).read_bytes()
        hits = _search(examiner_api, image=_upload(data, figure.source_file.rsplit("/", 1)[-1]),
                       text=figure.patent.title, text_weight=0.3)
        if not (hits[0]["figure_id"] == figure.pk and hits[0]["identical"]):
            missed.append((figure.source_file, [h["figure_id"] for h in hits[:3]]))
    assert missed == []
