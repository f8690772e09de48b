"""The generated sample corpus goes through the app like any real corpus."""

import pytest
from django.core.management import call_command

from retrieval.models import Figure, Patent
from retrieval.services.encoding import figure_encode_batch
from retrieval.services.ingest import corpus_ingest

pytestmark = pytest.mark.django_db


def test_sample_corpus_round_trips_through_ingest(tmp_path, active_model, capsys):
    call_command("make_sample_corpus", str(tmp_path / "sample"), "--patents", "5", "--seed", "3")
    assert "5 patents, 35 figures" in capsys.readouterr().out
    result = corpus_ingest(path=tmp_path / "sample")
    assert (result.patents_added, result.figures_added) == (5, 35)
    patent = Patent.objects.order_by("patent_id").first()
    assert patent.us_class_main.startswith("D") and patent.locarno_class and patent.grant_date
    captions = list(patent.figures.order_by("figure_id").values_list("caption", flat=True))
    assert captions[0].startswith("FIG. 1 is a front perspective view of")
    assert any("left side elevational view thereof" in c for c in captions)


def test_each_sample_figure_finds_itself_first(tmp_path, active_model):
    from PIL import Image

    from retrieval.selectors.search import figure_search

    call_command("make_sample_corpus", str(tmp_path / "sample"), "--patents", "3", "--seed", "1")
    result = corpus_ingest(path=tmp_path / "sample")
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    for figure in Figure.objects.all():
        hits = figure_search(image=Image.open(figure.image.path), k=1).hits
        assert hits[0].figure.pk == figure.pk


def test_bad_arguments_are_reported(tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("make_sample_corpus", str(tmp_path / "x"), "--patents", "0")
