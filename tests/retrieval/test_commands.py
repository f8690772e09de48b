import io
import json
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from retrieval.models import Figure
from retrieval.services.encoding import figure_encode_batch
from retrieval.services.search_text import figure_search_text_batch
from tests.drawings import articles_corpus, small_corpus, write_corpus

pytestmark = pytest.mark.django_db


def test_ingest_corpus_reports_what_it_added(tmp_path, active_model, capsys):
    call_command("ingest_corpus", str(small_corpus(tmp_path / "mini", patents=2, views=2)), "--name", "Mini")
    out = capsys.readouterr().out
    assert "Corpus 'Mini': 4 figures added, 0 already present, 2 new patents" in out
    call_command("ingest_corpus", str(tmp_path / "mini"), "--name", "Mini again")  # the same, under a new name
    out = capsys.readouterr().out  # says where they are, or the new corpus's emptiness is a puzzle
    assert "Corpus 'Mini again': 0 figures added, 4 already present (in corpus 'Mini'), 0 new patents" in out
    call_command("ingest_corpus", str(tmp_path / "mini"), "--name", "Mini")
    assert "Corpus 'Mini': 0 figures added, 4 already present, 0 new patents" in capsys.readouterr().out


def test_ingest_corpus_lists_each_bad_row(tmp_path, active_model):
    rows = [{"image_file": "a.png", "patent_id": "USD1"}, {"image_file": "b.png", "patent_id": ""}]
    root = write_corpus(tmp_path / "bad", rows, images={"a.png": b"not a png"})
    with pytest.raises(CommandError) as refused:
        call_command("ingest_corpus", str(root))
    message = str(refused.value)
    assert "Corpus refused, nothing was imported: 3 problems" in message
    assert "metadata.csv line 3: patent_id is empty" in message
    assert "a.png (metadata.csv line 2): not an image" in message
    assert "b.png (metadata.csv line 3): file not found" in message  # the refused row's file too
    assert Figure.objects.count() == 0


def test_search_figures_prints_json_with_the_query_first(tmp_path, active_model, capsys):
    root = _encoded_corpus(tmp_path, active_model, capsys, patents=2)
    call_command("search_figures", str(root / "images/USD800001-2.png"), "--k", "3", "--json")
    body = json.loads(capsys.readouterr().out)
    assert body["hits"][0]["source_file"] == "images/USD800001-2.png"
    assert len(body["hits"]) == 3


def test_search_figures_says_which_classes_it_focused_on_and_can_do_without(tmp_path, active_model, capsys):
    root = _encoded_corpus(tmp_path, active_model, capsys, patents=4)
    call_command("search_figures", str(root / "images/USD800001-2.png"), "--k", "4", "--json")
    body = json.loads(capsys.readouterr().out)
    focus = body["class_focus"]
    first = Figure.objects.get(pk=body["hits"][0]["figure_id"]).patent
    assert focus["patents"][0] == first.patent_id
    assert {(c["scheme"], c["label"]) for c in focus["classes"]} >= {
        ("us_class_main", first.us_class_main), ("locarno_class", first.locarno_class)}
    assert any(h["class_boost"] > 0 for h in body["hits"])
    call_command("search_figures", str(root / "images/USD800001-2.png"), "--k", "4", "--json", "--no-class-focus")
    plain = json.loads(capsys.readouterr().out)
    assert plain["class_focus"] is None and all(h["class_boost"] == 0 for h in plain["hits"])
    scores = [h["score"] for h in plain["hits"]]
    assert scores == sorted(scores, reverse=True)  # without the focus, the fused (cosine) order
    call_command("search_figures", str(root / "images/USD800001-2.png"), "--k", "2")
    table = capsys.readouterr().out
    assert "class focus (from " in table
    lines = table.splitlines()  # the query's own drawing is marked and said
    assert lines[2].startswith("   1=") and "images/USD800001-2.png" in lines[2] and not lines[3].startswith("   2=")
    assert lines[-1] == "= the query's own drawing (the same pixels): ranked first for that"
    body = json.loads(_json_search(root))
    assert [h["identical"] for h in body["hits"]] == [True, False]


def _json_search(root) -> str:
    out = io.StringIO()
    call_command("search_figures", str(root / "images/USD800001-2.png"), "--k", "2", "--json", stdout=out)
    return out.getvalue()


def _encoded_corpus(tmp_path, active_model, capsys, *, patents):
    """A small corpus of ``patents`` × 2 views, ingested and encoded; its folder."""
    root = small_corpus(tmp_path / "mini", patents=patents, views=2)
    call_command("ingest_corpus", str(root), verbosity=0)
    figure_encode_batch(figure_ids=list(Figure.objects.values_list("pk", flat=True)), model_id=active_model.pk)
    capsys.readouterr()
    return root


def test_search_figures_searches_by_text_alone(tmp_path, active_model, capsys):
    root = articles_corpus(tmp_path / "articles", [("Pregnancy pillow", "D6/601"), ("Water bottle", "D7/608"),
                                                   ("Office chair", "D6/334")], views=2, descriptions=True)
    call_command("ingest_corpus", str(root), verbosity=0)
    ids = list(Figure.objects.values_list("pk", flat=True))
    figure_encode_batch(figure_ids=ids, model_id=active_model.pk)
    figure_search_text_batch(figure_ids=ids)  # queued on commit by ingest; the test transaction never commits
    capsys.readouterr()
    call_command("search_figures", "--text", "bottle", "--k", "2", "--json")
    body = json.loads(capsys.readouterr().out)
    assert [h["title"] for h in body["hits"]] == ["Water bottle", "Water bottle"]
    assert {"fulltext", "trigram", "sentence"} <= set(body["hits"][0]["channels"])
    call_command("search_figures", "--text", "pillow", "--k", "1")
    table = capsys.readouterr().out
    assert "Pregnancy pillow" in table and "USD700000" in table
    with pytest.raises(CommandError, match="give a drawing, a --text, or both"):
        call_command("search_figures")


def test_search_figures_refuses_a_non_image(tmp_path, active_model):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(CommandError, match="notes.txt: not an image"):
        call_command("search_figures", str(path))


def test_progress_in_a_log_is_a_line_a_tenth_not_a_redrawn_bar(tmp_path, active_model, capsys):
    """Under pytest stderr is not a terminal, as in a log or a piped `make demo`."""
    call_command("make_sample_corpus", str(tmp_path / "sample"), "--patents", "20", "--seed", "1")
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.splitlines()
    assert lines[0] == "Drawing: 1/20 patents (5 %)" and lines[-1] == "Drawing: 20/20 patents (100 %)"
    assert len(lines) == 11  # the first, each tenth passed, the end said once
    call_command("ingest_corpus", str(tmp_path / "sample"), "--name", "Logged")
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("Checking images")]
    assert lines[-1] == "Checking images: 140/140 img (100 %)" and len(lines) == 11 and "\r" not in err


def test_encoding_progress_reports_the_count_or_times_out(tmp_path, active_model, capsys):
    call_command("ingest_corpus", str(small_corpus(tmp_path / "mini", patents=2, views=2)), "--name", "Mini", verbosity=0)
    capsys.readouterr()
    call_command("encoding_progress", "Mini", "--timeout", "0.01", verbosity=0)
    out, err = capsys.readouterr()
    assert "Encoded 0 of 4 figures, 0 failed." in out
    assert "is a Celery worker for queue 'gpu' running?" in err
    figure_encode_batch(figure_ids=list(Figure.objects.values_list("pk", flat=True)), model_id=active_model.pk)
    call_command("encoding_progress", "Mini", verbosity=0)
    assert "Encoded 4 of 4 figures, 0 failed." in capsys.readouterr().out


def test_evaluate_search_refuses_a_corpus_whose_figures_are_not_all_encoded(tmp_path, active_model, capsys):
    """A figure without its vector would count as a miss in every ranking: the report would look
    like a result and be the encoding's backlog. With no worker running, waiting gives up once
    nothing moves, and the refusal says how far the encoding got."""
    call_command("ingest_corpus", str(small_corpus(tmp_path / "mini", patents=2, views=2)), "--name", "Mini", verbosity=0)
    ids = list(Figure.objects.order_by("pk").values_list("pk", flat=True))
    figure_encode_batch(figure_ids=ids[:3], model_id=active_model.pk)
    capsys.readouterr()
    with pytest.raises(CommandError) as refused:
        call_command("evaluate_search", "Mini", "--no-wait")
    assert "has vectors for 3 of 4 figures (75.0 %) of corpus 'Mini'" in str(refused.value)
    assert "the missing figures would count as misses" in str(refused.value)
    with pytest.raises(CommandError):
        call_command("evaluate_search", "Mini", "--wait-stall", "0.5", verbosity=0)
    err = capsys.readouterr().err
    assert "Waiting for the workers to encode corpus 'Mini'" in err
    assert "No figure was done in 0.5 s; is a Celery worker for queue 'gpu' running?" in err
    # The reference rows rank without the index: they run.
    call_command("evaluate_search", "Mini", "--random", "0", "--no-wait")
    assert "mAP" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_evaluate_search_waits_for_the_last_figures_to_be_encoded(tmp_path, active_model, capsys):
    """Run right after an ingest, the evaluation waits for the encoding (here another thread, with
    its own database connection, encodes the last figure a second later) and then evaluates all."""
    call_command("ingest_corpus", str(small_corpus(tmp_path / "mini", patents=2, views=2)), "--name", "Mini", verbosity=0)
    ids = list(Figure.objects.order_by("pk").values_list("pk", flat=True))
    figure_encode_batch(figure_ids=ids[:3], model_id=active_model.pk)

    def encode_the_last() -> None:
        try:
            figure_encode_batch(figure_ids=ids[3:], model_id=active_model.pk)
        finally:
            connection.close()

    late = threading.Timer(1.0, encode_the_last)
    late.start()
    try:
        call_command("evaluate_search", "Mini", "--json", str(tmp_path / "report.json"), "--wait-stall", "60")
    finally:
        late.join()
    out, err = capsys.readouterr()
    assert "Waiting for the workers to encode corpus 'Mini'" in err and "Encoded 4 of 4 figures, 0 failed." in err
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["queries"] == 4
    # Ingest queued describing of the four figures (they came without descriptions) and no llm
    # worker runs here: the report says their texts were titles and captions only.
    assert report["undescribed"] == 4
    assert "note: 4 of the 4 figures had no description yet" in out


def test_register_model_refuses_an_unloadable_checkpoint(tmp_path, db):
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(CommandError, match="could not be loaded"):
        call_command("register_model", str(tmp_path))


def test_first_ingest_bootstraps_the_configured_shipped_model(tmp_path, db, settings):
    settings.RETRIEVAL_DEFAULT_MODEL = "classical"
    call_command("ingest_corpus", str(small_corpus(tmp_path / "mini", patents=1, views=1)), verbosity=0)
    from retrieval.models import RetrievalModel

    model = RetrievalModel.objects.get(is_active=True)
    assert model.checkpoint == "classical" and model.version.startswith("hog-pca@")
    assert model.name == "classical"  # a shipped model keeps its name, which every command takes


def test_a_shipped_model_registered_by_name_keeps_the_name(db):
    from retrieval.models import RetrievalModel

    call_command("register_model", "classical", verbosity=0)
    assert RetrievalModel.objects.get().name == "classical"  # not the checkpoint's "classical-hog-pca"


def test_first_ingest_falls_back_to_a_placeholder_when_the_default_is_not_built(
    tmp_path, db, settings, monkeypatch
):
    import retrieval.ml.shipped

    monkeypatch.setattr(retrieval.ml.shipped, "SHIPPED_DIR", tmp_path / "no-shipped-models")
    settings.RETRIEVAL_DEFAULT_MODEL = "default"
    settings.RETRIEVAL_MODELS_DIR = tmp_path / "models"
    call_command("ingest_corpus", str(small_corpus(tmp_path / "mini", patents=1, views=1)), verbosity=0)
    from retrieval.models import RetrievalModel

    model = RetrievalModel.objects.get(is_active=True)
    assert model.name == "placeholder-random-ps-tiny"
    assert (tmp_path / "models" / "placeholder-random-ps-tiny-seed0" / "model.json").exists()

