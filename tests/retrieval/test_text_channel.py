"""The text channels of search (full-text, trigram, sentence vectors) and their fusion with the
drawing index, through the API and the evaluate_search command."""

import io
import json
import math
import threading

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from retrieval import index
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.models import Figure, FigureSearchText, FigureText, SearchName
from retrieval.selectors.search import channel_weights, fuse
from retrieval.selectors.search_text import search_texts_missing, text_row_version
from retrieval.services.encoding import figure_encode_batch
from retrieval.services.search_text import figure_search_text_batch, search_texts_sweep
from tests.drawings import drawing, png_bytes, write_corpus

pytestmark = pytest.mark.django_db
URL = "/api/v1/search/"
PRODUCTS = [
    ("USD900001", "Pregnancy pillow", "pillow", "D6", ["A U-shaped body cushion for side sleeping."]),
    ("USD900002", "Water bottle", "bottle", "D7", ["A drinking flask with a screw cap."]),
    ("USD900003", "Toothbrush", "toothbrush", "D4", ["An oral care brush with bristles."]),
    ("USD900004", "Mobile phone case", "phone case", "D14", ["A protective cover for a smartphone."]),
]


def products_corpus(root):
    rows, images, descriptions = [], {}, []
    for p, (patent_id, title, obj, us_class, texts) in enumerate(PRODUCTS):
        for v in range(2):
            name = f"images/{patent_id}-{v + 1}.png"
            images[name] = png_bytes(drawing(5_000 + p * 100 + v))
            rows.append({
                "image_file": name, "patent_id": patent_id, "figure_id": str(v + 1), "title": title,
                "object_name": obj, "viewpoint": "front", "caption": f"FIG. {v + 1} is a front view;",
                "us_class": f"{us_class}/100", "grant_date": "20210105",
            })
            descriptions.append({"image_file": name, "descriptions": texts})
    return write_corpus(root, rows, images=images, descriptions=descriptions)


@pytest.fixture
def products(tmp_path, active_model):
    result = corpus_ingest(path=products_corpus(tmp_path / "products"))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    # Ingest queues this on commit; the test transaction never commits, so run it here.
    assert figure_search_text_batch(figure_ids=result.figure_ids) == len(result.figure_ids)
    return result


def _search(client, **data):
    response = client.post(URL, {"k": 4, **data}, format="multipart")
    assert response.status_code == 200, response.json()
    return response.json()["hits"]


def test_text_rows_hold_the_words_and_a_sentence_vector(products):
    row = FigureSearchText.objects.get(figure_id=products.figure_ids[0])
    assert row.names == "Pregnancy pillow pillow"
    assert "U-shaped body cushion" in row.document and "FIG. 1 is a front view" in row.document
    assert row.sentence is not None and len(row.sentence) == 384
    assert row.sentence_version.startswith("all-minilm-l6-v2@53aa51172d14")
    assert search_texts_missing() == []
    # Rebuilding is idempotent: same rows, nothing missing.
    figure_search_text_batch(figure_ids=products.figure_ids)
    assert FigureSearchText.objects.count() == len(products.figure_ids)


@pytest.mark.parametrize(
    ("query", "patent_id", "channel"),
    [
        ("pillow", "USD900001", "fulltext"),       # a word of the title
        ("pilow", "USD900001", "trigram"),         # misspelt
        ("bott", "USD900002", "fulltext"),         # a prefix
        ("tooth brush", "USD900003", "trigram"),   # a compound written apart
        ("smartphone cover", "USD900004", "sentence"),  # words the title does not use
        ("cushion for sleeping", "USD900001", "sentence"),
    ],
)
def test_a_text_query_finds_the_article_and_says_which_channel(examiner_api, products, query, patent_id, channel):
    hits = _search(examiner_api, text=query)
    assert hits[0]["patent_id"] == patent_id
    assert channel in hits[0]["channels"] and hits[0]["channels"][channel] <= 2


def test_a_text_no_figure_contains_is_said_to_match_in_meaning_only(examiner_api, products, examiner):
    """The sentence channel always answers; when no figure's words (or near spellings) match, the
    API and the page say the hits are neighbours in meaning only."""
    from django.test import Client

    def matched(text: str) -> object:
        response = examiner_api.post(URL, {"text": text, "k": 4}, format="multipart")
        return response.json()["words_matched"]

    assert matched("pillow") is True and matched("pilow") is True  # a word; a near spelling
    assert matched("zzzqqq") is False
    assert examiner_api.post(URL, {"image": _upload(png_bytes(drawing(5_000))), "k": 4},
                             format="multipart").json()["words_matched"] is None  # no text
    page = Client()
    page.force_login(examiner)
    assert 'id="no-word-match"' in page.post("/", {"text": "zzzqqq", "k": "4"}).content.decode()
    assert 'id="no-word-match"' not in page.post("/", {"text": "pillow", "k": "4"}).content.decode()


def test_drawing_plus_text_uses_every_channel(examiner_api, products):
    query = drawing(5_000 + 1 * 100 + 0)  # USD900002 FIG. 1
    hits = _search(examiner_api, image=_upload(png_bytes(query)), text="water bottle")
    assert hits[0]["patent_id"] == "USD900002"
    assert {"drawing", "fulltext", "sentence"} <= set(hits[0]["channels"])
    assert hits[0]["channels"]["drawing"] == 1
    drawing_only = _search(examiner_api, image=_upload(png_bytes(query)))
    assert set(drawing_only[0]["channels"]) == {"drawing"}
    assert drawing_only[0]["score"] == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize(
    ("typed", "wanted", "excluded"),
    [
        ("pillow -cushion", "pillow", ("cushion",)),
        ('chair -"office chair" -desk', "chair", ('"office chair"', "desk")),
        ("chair --office", "chair", ("office",)),
        ("Chair - swivel", "Chair swivel", ()),         # a minus standing alone is a separator (a pasted title)
        ("office-chair", "office-chair", ()),           # a hyphen inside a word leaves nothing out
        ('"chair -office"', '"chair -office"', ()),     # a minus inside a phrase is part of it
        ("-cushion", "", ("cushion",)),
        ("chair -", "chair", ()),
        ("a -b -b", "a", ("b",)),
    ],
)
def test_a_query_is_split_into_what_to_find_and_what_to_leave_out(typed, wanted, excluded):
    assert index.split_exclusions(typed) == (wanted, excluded)
    assert index.split_exclusions(wanted) == (wanted, ())  # splitting again changes nothing


def test_a_minus_word_leaves_out_every_figure_holding_it_whichever_channel_found_it(examiner_api, products, examiner):
    """"pillow -cushion": the pregnancy pillow's description says "body cushion", so none of its
    figures may come back, although the sentence, trigram and drawing channels all rank it first
    for "pillow" or its drawing. Before, only the full-text channel read the minus: the sentence
    model was asked "pillow -cushion" (nearer cushions) and the fused list still showed it."""
    pillow = png_bytes(drawing(5_000))  # USD900001 FIG. 1

    def patents(**data):
        response = examiner_api.post(URL, {"k": 8, **data}, format="multipart")
        assert response.status_code == 200, response.json()
        return response.json()["excluded"], [hit["patent_id"] for hit in response.json()["hits"]]

    assert patents(text="pillow")[1][0] == "USD900001"
    excluded, found = patents(text="pillow -cushion")
    assert excluded == ["cushion"] and "USD900001" not in found and len(found) == 6  # k is still filled
    assert "USD900001" not in patents(image=_upload(pillow), text="-cushion")[1]  # the drawing's own figure too
    assert patents(image=_upload(pillow), text="-flask")[1][0] == "USD900001"
    assert "USD900004" not in patents(text='case -"protective cover"')[1]  # a phrase
    assert "USD900004" in patents(text='case -"protective sleeve"')[1]
    alone = examiner_api.post(URL, {"text": "-cushion", "k": 4}, format="multipart")
    assert alone.status_code == 400 and "only says what to leave out (-cushion)" in alone.json()["message"]
    dash = examiner_api.post(URL, {"text": " - ", "k": 4}, format="multipart")
    assert dash.status_code == 400 and "no word to search for" in dash.json()["message"]
    from django.test import Client

    page = Client()
    page.force_login(examiner)
    body = page.post("/", {"text": "pillow -cushion", "k": "4"}).content.decode()
    assert 'id="excluded-terms"' in body and "<q>cushion</q>" in body and "USD900001" not in body


@pytest.mark.parametrize("text", ["pillow -!!!", 'pillow -"', "pillow -the", "pillow -a:* -b&c -'x' -\\", "pillow " + " ".join(
    f"-w{i}" for i in range(40))])
def test_odd_exclusions_are_searched_not_refused(examiner_api, products, text):
    """Stop words, punctuation, tsquery operators and more terms than are kept: an answer, never a 500."""
    response = examiner_api.post(URL, {"text": text, "k": 4}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["hits"][0]["patent_id"] == "USD900001"
    assert len(response.json()["excluded"]) <= index.MAX_EXCLUDED_TERMS


def test_text_channels_obey_the_filters(examiner_api, products):
    hits = _search(examiner_api, text="pillow", us_class_main="D7")
    assert hits and {h["patent_id"] for h in hits} == {"USD900002"}


def test_a_drawing_only_model_answers_text_through_the_text_channels(examiner_api, tmp_path, db):
    from retrieval.services.models import model_register

    model = model_register(spec="classical", activate=True)
    result = corpus_ingest(path=products_corpus(tmp_path / "products"))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=model.pk)
    figure_search_text_batch(figure_ids=result.figure_ids)
    hits = _search(examiner_api, text="phone case")
    assert hits[0]["patent_id"] == "USD900004"
    assert "text_tower" not in hits[0]["channels"]


def test_reciprocal_rank_fusion_weights_ranks_not_scores():
    n = index.Neighbor
    rankings = {"drawing": [n(1, 0.9), n(2, 0.8), n(3, 0.1)], "fulltext": [n(3, 5.0)]}
    fused = fuse(rankings, {"drawing": 1.0, "fulltext": 1.0}, k=3, rrf_k=60)
    assert [f for f, _, _ in fused] == [3, 1, 2]  # found by both channels: first
    assert fused[0][1] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[0][2] == {"drawing": 3, "fulltext": 1}
    faint = fuse(rankings, {"drawing": 1.0, "fulltext": 0.01}, k=3, rrf_k=60)
    assert [f for f, _, _ in faint] == [1, 2, 3]
    # A channel of weight 0 does not rank: the other keeps its own order and scores.
    alone = fuse(rankings, {"drawing": 0.0, "fulltext": 1.0}, k=3, rrf_k=60)
    assert [(f, s) for f, s, _ in alone] == [(3, 5.0)]
    # text_weight moves weight between the drawing and the text channels.
    assert channel_weights(rankings, text_weight=0.25, base={}) == {"drawing": 1.5, "fulltext": 0.5}
    assert channel_weights({"fulltext": []}, text_weight=0.25, base={}) == {"fulltext": 1.0}
    # Without a drawing, the text-only weights of the settings apply; with one, the drawing weights.
    with override_settings(RETRIEVAL_FUSION_WEIGHTS={"drawing": 0.25, "trigram": 0.5},
                           RETRIEVAL_FUSION_WEIGHTS_TEXT_ONLY={"trigram": 1.0}):
        assert channel_weights({"trigram": []}, text_weight=0.5) == {"trigram": 1.0}
        assert channel_weights({"drawing": [], "trigram": []}, text_weight=0.5) == {"drawing": 0.25, "trigram": 0.5}


def test_evaluate_search_reports_the_keys_of_the_ml_evaluation(products, tmp_path):
    out = io.StringIO()
    report_path = tmp_path / "r.json"
    call_command("evaluate_search", "products", "--relevance", "patent", "--json", str(report_path), stdout=out)
    report = json.loads(report_path.read_text())
    for key in ("mAP", "recall@10", "recall_fraction@10", "mrr@10", "queries", "skipped", "bands"):
        assert key in report
    assert report["queries"] == 8 and 0.0 <= report["mAP"] <= 1.0
    assert "relevance patent" in out.getvalue()
    call_command("evaluate_search", "products", "--relevance", "us_class", "--exclude-same-patent",
                 "--patent-level", "--query-text", "title", "--no-drawing", "--json", str(report_path), stdout=out)
    title_only = json.loads(report_path.read_text())
    # Every US class here has one patent: no query has a relevant other patent.
    assert title_only["queries"] == 0 and title_only["skipped"] == 4  # one text query per patent
    call_command("evaluate_search", "products", "--relevance", "patent", "--random", "0",
                 "--json", str(report_path), stdout=out)
    assert json.loads(report_path.read_text())["queries"] == 8


def test_evaluate_search_text_only_by_object_name_asks_once_per_patent(products, tmp_path):
    report_path = tmp_path / "r.json"
    call_command("evaluate_search", "products", "--relevance", "patent", "--query-text", "object",
                 "--no-drawing", "--json", str(report_path), stdout=io.StringIO())
    report = json.loads(report_path.read_text())
    assert report["queries"] == 4  # one per patent
    assert report["recall@10"] == 1.0 and report["recall@1"] == 1.0  # each name finds its patent first


def test_evaluate_search_refuses_bad_options_clearly(products):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no corpus named"):
        call_command("evaluate_search", "nope", stdout=io.StringIO())
    with pytest.raises(CommandError, match="patent-level"):
        call_command("evaluate_search", "products", "--patent-level", stdout=io.StringIO())
    with pytest.raises(CommandError, match="unknown channel"):
        call_command("evaluate_search", "products", "--weights", "colour=1", stdout=io.StringIO())
    with pytest.raises(CommandError, match="CHANNEL=NUMBER"):
        call_command("evaluate_search", "products", "--weights", "drawing=x", stdout=io.StringIO())


def _upload(data: bytes) -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = "query.png"
    return file


# --- The joint channel: drawing and text as one query in the sentence space (models trained LiT-style)


@pytest.fixture
def shipped_default(db):
    from retrieval.services.models import model_register

    return model_register(spec="default", activate=True)


@pytest.fixture
def products_default(tmp_path, shipped_default):
    result = corpus_ingest(path=products_corpus(tmp_path / "products"))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=shipped_default.pk)
    figure_search_text_batch(figure_ids=result.figure_ids)
    return result


def test_joint_vector_adds_the_drawings_cosine_to_the_texts():
    import numpy as np

    from retrieval.selectors.search import joint_vector

    rng = np.random.default_rng(0)
    t, d, x = (v / np.linalg.norm(v) for v in rng.normal(size=(3, 384)).astype(np.float32))
    joint = joint_vector(t, d, alpha=0.5)
    assert np.linalg.norm(joint) == pytest.approx(1.0, abs=1e-5)
    # The inner product with a figure's vector is the text's cosine plus α × the drawing's, scaled.
    scale = np.linalg.norm(t + 0.5 * d)
    assert float(joint @ x) * scale == pytest.approx(float(t @ x) + 0.5 * float(d @ x), abs=1e-5)
    # The user's text weight still applies: all text, all drawing.
    assert np.allclose(joint_vector(t, d, alpha=0.5, text_weight=1.0), t, atol=1e-6)
    assert np.allclose(joint_vector(t, d, alpha=0.5, text_weight=0.0), d, atol=1e-6)


def test_a_drawing_cannot_push_an_unrelated_title_above_an_exact_title_match(examiner_api, products_default):
    bottle = png_bytes(drawing(5_000 + 1 * 100 + 0))  # USD900002 (water bottle) FIG. 1
    # The drawing alone finds its own figure first ...
    assert _search(examiner_api, image=_upload(bottle))[0]["patent_id"] == "USD900002"
    # ... but with the exact title of another patent the text's wide score gap wins over every
    # drawing except the very drawing searched with, which comes first and says why
    hits = _search(examiner_api, image=_upload(bottle), text="Pregnancy pillow", k=8)
    assert (hits[0]["patent_id"], hits[0]["figure_label"], hits[0]["identical"]) == ("USD900002", "1", True)
    assert not any(h["identical"] for h in hits[1:])
    pillow = [h for h in hits[1:3] if h["patent_id"] == "USD900001"]
    assert len(pillow) == 2  # then both views of the pregnancy pillow, the title's two figures
    assert {h["channels"]["joint"] for h in pillow} == {1, 2} and {h["channels"]["sentence"] for h in pillow} == {1, 2}
    # their joint scores tie (the same title): the drawing orders them, with the class focus on too
    assert pillow[0]["score"] == pillow[1]["score"]
    assert pillow[0]["channels"]["drawing"] < pillow[1]["channels"]["drawing"]
    # The drawing channel still reports its ranks: the query's own figure is its first.
    assert any(h["channels"].get("drawing") == 1 for h in hits if h["patent_id"] == "USD900002")


def test_text_weight_zero_searches_by_the_drawing_alone(examiner_api, products_default):
    """The slider's end: with the text at weight 0 the drawing ranks as it does alone (its own
    figure first, at its cosine), whatever the text says."""
    bottle = png_bytes(drawing(5_000 + 1 * 100 + 0))
    alone = _search(examiner_api, image=_upload(bottle), k=8)
    for text in ("Pregnancy pillow", "lamp"):
        hits = _search(examiner_api, image=_upload(bottle), text=text, text_weight=0, k=8)
        assert [h["figure_id"] for h in hits] == [h["figure_id"] for h in alone], text
        assert hits[0]["score"] == pytest.approx(alone[0]["score"], abs=1e-4)


def test_the_joint_channel_needs_a_model_in_the_sentence_space(examiner_api, products):
    # The test model (random open_clip) has its own text space: no joint channel, the rest fuse.
    query = png_bytes(drawing(5_000 + 1 * 100 + 0))
    hits = _search(examiner_api, image=_upload(query), text="water bottle")
    assert hits[0]["patent_id"] == "USD900002"
    assert all("joint" not in h["channels"] for h in hits)


def test_a_drawing_query_keeps_its_channel_whatever_its_fusion_weight(examiner_api, products):
    query = png_bytes(drawing(5_000 + 2 * 100 + 1))
    with override_settings(RETRIEVAL_FUSION_WEIGHTS={"drawing": 0.0, "sentence": 1.0}):
        hits = _search(examiner_api, image=_upload(query))
    assert hits and hits[0]["patent_id"] == "USD900003" and hits[0]["score"] == pytest.approx(1.0, abs=1e-4)


def classes_corpus(root):
    """Four patents, two US classes of two patents each; titles share the class's word."""
    products = [
        ("USD910001", "Pregnancy pillow", "D6"), ("USD910002", "Travel neck pillow", "D6"),
        ("USD910003", "Water bottle", "D7"), ("USD910004", "Sports drinking bottle", "D7"),
    ]
    rows, images = [], {}
    for p, (patent_id, title, us_class) in enumerate(products):
        name = f"images/{patent_id}-1.png"
        images[name] = png_bytes(drawing(6_000 + p))
        rows.append({"image_file": name, "patent_id": patent_id, "figure_id": "1", "title": title,
                     "object_name": title.lower(), "us_class": f"{us_class}/100", "grant_date": "20210105"})
    return write_corpus(root, rows, images=images)


def test_evaluate_search_title_reference_ranks_by_titles_alone(tmp_path, active_model):
    result = corpus_ingest(path=classes_corpus(tmp_path / "classes"))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    figure_search_text_batch(figure_ids=result.figure_ids)
    report_path = tmp_path / "r.json"
    out = io.StringIO()
    call_command("evaluate_search", "classes", "--relevance", "us_class", "--patent-level", "--query-text",
                 "title", "--no-drawing", "--title-reference", "--json", str(report_path), stdout=out)
    report = json.loads(report_path.read_text())
    # Each title's nearest other title is the one of its class: every query finds it first.
    assert report["queries"] == 4 and report["mAP"] == 1.0
    assert report["options"]["title_reference"] is True
    # the reference is ranked as the reference is: without the class focus, unless asked
    assert report["class_focus"]["weight"] == 0.0 and "class focus: off" in out.getvalue()
    out = io.StringIO()
    call_command("evaluate_search", "classes", "--relevance", "us_class", "--patent-level", "--query-text",
                 "title", "--no-drawing", "--title-reference", "--class-focus", "0.5", "--json", str(report_path),
                 stdout=out)
    focused = json.loads(report_path.read_text())
    assert focused["class_focus"] == {"weight": 0.5, "patents": 3, "references": True}
    assert "class focus: weight 0.5, 3 voting patents" in out.getvalue()
    assert "mAP_patent_weighted" not in report  # asked once per patent already
    out = io.StringIO()
    call_command("evaluate_search", "classes", "--relevance", "us_class", "--patent-level", "--query-text",
                 "title", "--json", str(report_path), stdout=out)
    report = json.loads(report_path.read_text())
    # One drawing per patent: weighing each query patent once changes nothing.
    assert report["mAP_patent_weighted"] == pytest.approx(report["mAP"])
    assert "each query patent weighing once" in out.getvalue()
    assert report["class_focus"]["weight"] > 0 and "class focus: weight" in out.getvalue()  # a search: on
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="title-reference"):
        call_command("evaluate_search", "classes", "--title-reference", stdout=io.StringIO())


def test_evaluate_search_says_whose_descriptions_it_measured(tmp_path, active_model):
    result = corpus_ingest(path=classes_corpus(tmp_path / "classes"))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    FigureText.objects.bulk_create([
        FigureText(figure_id=f, text="A cushion, from the class of furnishing.", source="offline:templates-v1-seed0")
        for f in result.figure_ids
    ])
    figure_search_text_batch(figure_ids=result.figure_ids)
    report_path, out = tmp_path / "r.json", io.StringIO()
    call_command("evaluate_search", "classes", "--relevance", "us_class", "--patent-level", "--query-text",
                 "title", "--json", str(report_path), stdout=out)
    assert json.loads(report_path.read_text())["texts"] == {"description": {"offline:templates-v1-seed0": 4}}
    assert "descriptions 4 from offline:templates-v1-seed0" in out.getvalue()
    # Template descriptions name the class heading: a class-level report says so.
    assert "class heading" in out.getvalue()
    FigureText.objects.filter(figure_id__in=result.figure_ids).update(source="import")
    out = io.StringIO()
    call_command("evaluate_search", "classes", "--relevance", "us_class", "--patent-level", "--query-text",
                 "title", stdout=out)
    assert "descriptions 4 from import" in out.getvalue() and "class heading" not in out.getvalue()


def locarno_corpus(root):
    """Two Locarno classes of two patents each, and one patent without a class beside each, whose
    title is a labelled patent's own: for that patent's query it is the nearest candidate."""
    products = [
        ("USD920001", "Pregnancy pillow", "06-09"), ("USD920002", "Travel neck pillow", "06-09"),
        ("USD920003", "Pregnancy pillow", ""), ("USD920004", "Water bottle", "07-01"),
        ("USD920005", "Sports drinking bottle", "07-01"), ("USD920006", "Water bottle", ""),
    ]
    rows, images = [], {}
    for p, (patent_id, title, locarno) in enumerate(products):
        name = f"images/{patent_id}-1.png"
        images[name] = png_bytes(drawing(7_000 + p))
        rows.append({"image_file": name, "patent_id": patent_id, "figure_id": "1", "title": title,
                     "object_name": title.lower(), "locarno_class": locarno, "us_class": "D6/100",
                     "grant_date": "20210105"})
    return write_corpus(root, rows, images=images)


def test_evaluate_search_judged_only_leaves_unlabelled_candidates_out(tmp_path, active_model):
    result = corpus_ingest(path=locarno_corpus(tmp_path / "locarno"))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    figure_search_text_batch(figure_ids=result.figure_ids)
    report_path = tmp_path / "r.json"

    def run(*options, judged_only=False):
        out = io.StringIO()
        call_command("evaluate_search", "locarno", "--relevance", "locarno", "--exclude-same-patent",
                     "--query-text", "title", *options, *(["--judged-only"] if judged_only else []),
                     "--json", str(report_path), stdout=out)
        report = json.loads(report_path.read_text())
        assert report["options"]["judged_only"] is judged_only
        assert ("unlabelled candidates left out" in out.getvalue()) is judged_only
        # The two patents without a class never ask; the four others each have one relevant patent.
        assert report["queries"] == 4 and report["skipped"] == 2
        return report

    # Titles against titles: "Pregnancy pillow" finds the unlabelled "Pregnancy pillow" first (a
    # miss, AP 1/2) and its class's "Travel neck pillow" second; left out, the partner is first.
    title_reference = ("--patent-level", "--no-drawing", "--title-reference")
    assert run(*title_reference)["mAP"] == pytest.approx(0.75)
    assert run(*title_reference, judged_only=True)["mAP"] == 1.0
    # Image level: figures without a class are left out the same way.
    assert run("--no-drawing", "--title-reference", judged_only=True)["mAP"] == 1.0
    # The search path, title only through the sentence channel.
    sentence = ("--patent-level", "--no-drawing", "--weights", "text_tower=0,fulltext=0,trigram=0,sentence=1")
    primary = run(*sentence)["mAP"]
    assert primary <= 0.75 and run(*sentence, judged_only=True)["mAP"] == 1.0
    # Drawing + title with every grid setting, and the random ranking: the same rankings, condensed,
    # never score lower (removing a candidate that is never relevant only moves relevant ones up).
    primary_report = run("--patent-level", "--grid", "channels")
    judged_report = run("--patent-level", "--grid", "channels", judged_only=True)
    assert judged_report["mAP"] >= primary_report["mAP"]
    assert all(j["mAP"] >= p["mAP"] and j["weights"] == p["weights"]
               for p, j in zip(primary_report["grid"], judged_report["grid"], strict=True))
    assert run("--patent-level", "--no-drawing", "--random", "0", judged_only=True)["mAP"] >= run(
        "--patent-level", "--no-drawing", "--random", "0")["mAP"]


@pytest.mark.parametrize("relevance", ["patent", "object"])
def test_evaluate_search_refuses_judged_only_where_every_candidate_is_judged(products, relevance):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--judged-only leaves out candidates without a class"):
        call_command("evaluate_search", "products", "--relevance", relevance, "--judged-only", stdout=io.StringIO())


def test_the_trigram_channel_probes_with_its_rarest_trigrams_and_finds_what_all_would(products, monkeypatch):
    """Probing the index with the rarest n - ceil(threshold * n) + 1 of the query's n trigrams
    loses no name: one that reaches the threshold shares at least one of them. Checked against
    probing with every trigram, for queries with typos, joined and split words, under any
    statistics."""
    import random

    queries = ["pilow", "tooth brush", "toothbrush", "travel mug", "mug", "wigdet", "a", "lamp shde", "x y z"]
    rng = random.Random(3)
    for _ in range(3):  # the probe follows the statistics; the answer may not
        shares = {gram: rng.random() for query in queries for gram in index.trigrams(query)}
        monkeypatch.setattr(index, "_trigram_shares", lambda shares=shares: shares)
        for query in queries:
            grams = index.trigrams(query)
            probe = index._probe_trigrams(grams)
            assert len(probe) == len(grams) - math.ceil(index.TRIGRAM_THRESHOLD * len(grams)) + 1
            assert probe == sorted(grams, key=lambda g: (shares[g], g))[: len(probe)]  # the rarest
            found = index.trigram_figures(text=query, k=100)
            with monkeypatch.context() as every:
                every.setattr(index, "_probe_trigrams", lambda grams: grams)
                assert index.trigram_figures(text=query, k=100) == found, query


# --- The trigram channel's names (retrieval.models.SearchName): one row per distinct title and
# object name, kept in step with the text rows, and pruned without losing a name being written.


def _found(text: str) -> set[int]:
    return {hit.figure_id for hit in index.trigram_figures(text=text, k=100)}


def test_figures_that_share_a_name_share_one_scored_row_and_are_each_found(products):
    names = set(FigureSearchText.objects.values_list("names", flat=True))
    assert len(names) == 4 < len(products.figure_ids)  # two figures per patent
    assert set(SearchName.objects.values_list("names", flat=True)) == names
    row = SearchName.objects.get(names="Pregnancy pillow pillow")
    assert row.trigrams == index.trigrams("Pregnancy pillow pillow")
    pillow = set(Figure.objects.filter(patent__patent_id="USD900001").values_list("pk", flat=True))
    assert _found("pregnancy pilow") == pillow


def test_a_renamed_patent_is_found_by_its_new_name_and_the_sweep_drops_the_old(products):
    figure = Figure.objects.select_related("patent").get(patent__patent_id="USD900002", figure_label="1")
    figure.patent.title, figure.patent.object_name = "Insulated flask", "flask"
    figure.patent.save()
    figure_search_text_batch(figure_ids=list(figure.patent.figures.values_list("pk", flat=True)))
    bottle = set(figure.patent.figures.values_list("pk", flat=True))
    assert _found("insulated flsk") == bottle
    assert not _found("water botle") & bottle
    assert SearchName.objects.filter(names="Water bottle bottle").exists()  # no row carries it: the sweep's
    search_texts_sweep()
    assert not SearchName.objects.filter(names="Water bottle bottle").exists()
    assert SearchName.objects.count() == FigureSearchText.objects.values("names").distinct().count() == 4


def test_a_name_longer_than_a_btree_entry_is_stored_once(products):
    """Titles and object names run to 800 characters, 3,200 bytes in a four-byte script: more
    than a B-tree entry holds, hence the unique index on md5(names)."""
    long_name = "𝔏" * 800
    row = index.SearchTextRow(figure_id=products.figure_ids[0], names=long_name, document="x", sentence=None,
                              sentence_version=text_row_version())
    for _ in range(2):
        index.upsert_search_texts([row], texts_read_at=timezone.now())
    assert SearchName.objects.filter(names=long_name).count() == 1


@pytest.mark.django_db(transaction=True)
def test_pruning_never_deletes_a_name_that_a_writer_is_giving_a_figure(products):
    """A sweep that prunes while a worker writes a text row whose name is in the table, unused
    until then: the worker's insert of the name does nothing (it is there) and takes no lock on
    it, and the pruner, which cannot see the uncommitted row, would delete the name, leaving the
    figure's name where the trigram channel cannot find it. The pruner locks the names against
    writers first, so it waits for the worker and then sees the row."""
    figure_id = products.figure_ids[0]
    SearchName.objects.create(names="Nursing pillow", trigrams=index.trigrams("Nursing pillow"))
    row = index.SearchTextRow(figure_id=figure_id, names="Nursing pillow", document="A nursing pillow.",
                              sentence=None, sentence_version=text_row_version())
    written, release = threading.Event(), threading.Event()

    def write() -> None:
        try:
            with transaction.atomic():
                index.upsert_search_texts([row], texts_read_at=timezone.now())
                written.set()
                release.wait(60)
        finally:
            connection.close()

    def prune() -> None:
        try:
            index.prune_search_names()
        finally:
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    assert written.wait(60)
    pruner = threading.Thread(target=prune)
    pruner.start()
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as watcher:
        waiting = ("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                   "AND query ILIKE 'LOCK TABLE retrieval_searchname%%'")
        while pruner.is_alive() and not watcher.execute(waiting).fetchone()[0]:
            pruner.join(0.05)
    release.set()
    writer.join(60)
    pruner.join(60)
    assert SearchName.objects.filter(names="Nursing pillow").exists()
    assert figure_id in _found("nursing pilow")


# --- The full-text channel: what an exclusion means, and the short way to the k best.


def _pillows(root):
    rows, images, descriptions = [], {}, []
    for p, (patent_id, text) in enumerate([("USD910001", "A pillow with a quilted cushion cover."),
                                           ("USD910002", "A pillow of moulded foam.")]):
        name = f"images/{patent_id}-1.png"
        images[name] = png_bytes(drawing(6_000 + p))
        rows.append({"image_file": name, "patent_id": patent_id, "figure_id": "1", "title": "Pillow",
                     "object_name": "pillow", "viewpoint": "front", "caption": "FIG. 1 is a front view;",
                     "us_class": "D6/601", "grant_date": "20210105"})
        descriptions.append({"image_file": name, "descriptions": [text]})
    return write_corpus(root, rows, images=images, descriptions=descriptions)


def test_an_excluded_word_does_not_raise_the_figures_that_hold_it(tmp_path, active_model):
    """"pillow -cushion": the pillow without a cushion first. The whole query's cover density
    was computed on every row, and is not 0 where a row holds the excluded word: it raised the
    cushion pillow above the foam one."""
    result = corpus_ingest(path=_pillows(tmp_path / "pillows"))
    figure_search_text_batch(figure_ids=result.figure_ids)
    foam, cushion = (Figure.objects.get(patent__patent_id=p).pk for p in ("USD910002", "USD910001"))
    hits = index.fulltext_figures(text="pillow -cushion", k=10)
    assert [hit.figure_id for hit in hits] == [foam, cushion]
    assert hits[0].score > 2 * hits[1].score  # the match of the whole query, not a prefix's


def test_the_full_text_channel_keeps_k_that_pass_when_the_best_matches_do_not(products, monkeypatch):
    """Without a selective filter the channel ranks the text rows alone and keeps the best few
    times k that pass; when fewer than k of those pass (here the best matches are figures not
    ready), it ranks every match that passes: the same answer as that, for any k."""
    everything = index.fulltext_figures(text="front view", k=100)
    assert len(everything) == len(products.figure_ids)
    Figure.objects.filter(pk__in=[hit.figure_id for hit in everything[:3]]).update(status="failed")
    monkeypatch.setattr(index, "FULLTEXT_CANDIDATES", 1)
    for k in range(1, len(everything) + 1):
        found = index.fulltext_figures(text="front view", k=k)
        with monkeypatch.context() as every:
            every.setattr(index, "_selective", lambda filters: True)  # rank every match that passes
            assert found == index.fulltext_figures(text="front view", k=k)
        assert found == everything[3 : 3 + k]
