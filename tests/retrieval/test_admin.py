import pytest
from django.urls import reverse

from accounts.models import User
from retrieval import index, inference
from retrieval.index import FigureFilters
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.models import Patent, RetrievalModel
from retrieval.services.encoding import figure_encode_batch
from tests.drawings import drawing, small_corpus

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = User.objects.create_user("root", password="pw-for-tests-only", role=User.Role.ADMIN,
                                     is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_admin_pages_list_every_model(admin_client, tmp_path, active_model):
    result = corpus_ingest(path=small_corpus(tmp_path / "mini", patents=1, views=2))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    for name in ("corpus", "patent", "figure", "figuretext", "retrievalmodel", "figureembedding"):
        assert admin_client.get(reverse(f"admin:retrieval_{name}_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:accounts_user_changelist")).status_code == 200


def test_editing_a_patents_class_in_the_admin_reaches_search_filters(admin_client, tmp_path, active_model):
    result = corpus_ingest(path=small_corpus(tmp_path / "mini", patents=1, views=2))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    patent = Patent.objects.get()
    url = reverse("admin:retrieval_patent_change", args=[patent.pk])
    form = {"patent_id": patent.patent_id, "corpus": patent.corpus_id, "title": patent.title, "us_class_main": "D42",
            "figures-TOTAL_FORMS": "2", "figures-INITIAL_FORMS": "2", "figures-MIN_NUM_FORMS": "0",
            "figures-MAX_NUM_FORMS": "1000"}
    for i, figure in enumerate(patent.figures.all()):
        form[f"figures-{i}-id"] = str(figure.pk)
        form[f"figures-{i}-patent"] = str(patent.pk)
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    query = inference.embed_images(active_model.checkpoint, [drawing(0)])[0]
    hits = index.nearest_figures(model=active_model, query=query, k=5, filters=FigureFilters(us_class_main=["D42"]))
    assert len(hits) == 2


def test_the_active_model_cannot_be_deleted_and_others_take_their_index_along(admin_client, active_model, random_checkpoint):
    admin_client.post(reverse("admin:retrieval_retrievalmodel_delete", args=[active_model.pk]), {"post": "yes"})
    assert RetrievalModel.objects.filter(pk=active_model.pk).exists()
    other = RetrievalModel.objects.create(name="old", architecture="x", dim=8, checkpoint="x", version="x")
    index.ensure_model_index(other)
    admin_client.post(reverse("admin:retrieval_retrievalmodel_delete", args=[other.pk]), {"post": "yes"})
    assert not RetrievalModel.objects.filter(pk=other.pk).exists()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = %s", [index.index_name(other)])
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db
def test_a_figure_is_named_by_its_patent_number_and_label():
    from tests.retrieval.factories import FigureFactory

    figure = FigureFactory(figure_label="3", patent__patent_id="USD900001")
    assert str(figure) == "USD900001 FIG. 3"


def test_an_admin_edit_of_a_title_or_a_description_reaches_the_text_search(
    admin_client, tmp_path, active_model, monkeypatch, django_capture_on_commit_callbacks
):
    """The text channels read each figure's text row, so an edit in the admin queues its rebuild
    (run here as a worker would); a deleted description leaves no newer text for the sweep to see."""
    from retrieval import tasks
    from retrieval.models import FigureText
    from retrieval.selectors.search import figure_search
    from retrieval.services.search_text import figure_search_text_batch

    monkeypatch.setattr(tasks.figure_search_text_batch_task, "delay",
                        lambda batch: figure_search_text_batch(figure_ids=batch))
    result = corpus_ingest(path=small_corpus(tmp_path / "mini", patents=1, views=2))
    figure_search_text_batch(figure_ids=result.figure_ids)
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    patent = Patent.objects.get()

    def words_found(word: str) -> set[int]:
        return {n.figure_id for n in index.fulltext_figures(text=word, k=10)}

    assert words_found("hovercraft") == set()
    form = {"patent_id": patent.patent_id, "corpus": patent.corpus_id, "title": "Hovercraft seat",
            "us_class_main": patent.us_class_main, "figures-TOTAL_FORMS": "2", "figures-INITIAL_FORMS": "2",
            "figures-MIN_NUM_FORMS": "0", "figures-MAX_NUM_FORMS": "1000"}
    for i, figure in enumerate(patent.figures.all()):
        form[f"figures-{i}-id"] = str(figure.pk)
        form[f"figures-{i}-patent"] = str(patent.pk)
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(reverse("admin:retrieval_patent_change", args=[patent.pk]), form).status_code == 302
    assert words_found("hovercraft") == set(result.figure_ids)
    assert {h.figure.pk for h in figure_search(text="hovercraft", k=5).hits} >= set(result.figure_ids)

    text = FigureText.objects.create(figure_id=result.figure_ids[0], text="A zeppelin-shaped cushion.", source="import")
    figure_search_text_batch(figure_ids=[text.figure_id])
    assert words_found("zeppelin") == {text.figure_id}
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:retrieval_figuretext_delete", args=[text.pk]), {"post": "yes"})
    assert not FigureText.objects.filter(pk=text.pk).exists()
    assert words_found("zeppelin") == set()


def _change_form(admin_client, url: str) -> dict[str, str]:
    """The change page's form as the browser would post it unchanged (fields and inline rows)."""
    context = admin_client.get(url).context
    data: dict[str, str] = {}
    for form in [context["adminform"].form] + [f for inline in context["inline_admin_formsets"]
                                               for f in [inline.formset.management_form, *inline.formset.forms]]:
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            if value is None or name == "image":
                continue
            if isinstance(value, bool):
                if value:
                    data[form.add_prefix(name)] = "on"
                continue
            data[form.add_prefix(name)] = str(value.pk if hasattr(value, "pk") else
                                              (field.prepare_value(value) if hasattr(field, "prepare_value") else value))
    return data


def test_an_admin_edit_queues_a_text_rebuild_only_where_words_changed(
    admin_client, tmp_path, active_model, monkeypatch, django_capture_on_commit_callbacks
):
    """A patent's class or a figure's front-page flag are not words: saving them leaves the text rows
    as they are; a caption, and a description edited in the figure's own page, are (both in one
    save: one rebuild)."""
    from retrieval import tasks
    from retrieval.models import Figure, FigureText
    from retrieval.services.search_text import figure_search_text_batch

    queued: list[list[int]] = []

    def rebuild(batch: list[int]) -> None:
        queued.append(batch)
        figure_search_text_batch(figure_ids=batch)

    monkeypatch.setattr(tasks.figure_search_text_batch_task, "delay", rebuild)
    result = corpus_ingest(path=small_corpus(tmp_path / "mini", patents=1, views=2))
    figure_search_text_batch(figure_ids=result.figure_ids)
    patent = Patent.objects.get()
    first = Figure.objects.get(pk=result.figure_ids[0])

    patent_url = reverse("admin:retrieval_patent_change", args=[patent.pk])
    form = _change_form(admin_client, patent_url) | {"us_class_main": "D42"}
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(patent_url, form).status_code == 302
    assert Patent.objects.get().us_class_main == "D42"
    assert queued == []

    figure_url = reverse("admin:retrieval_figure_change", args=[first.pk])
    FigureText.objects.create(figure=first, text="A plain cushion.", source="import")
    form = _change_form(admin_client, figure_url)
    assert form["texts-0-text"] == "A plain cushion."
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(figure_url, form | {"is_front_page": "on"})
        assert response.status_code == 302, response.content.decode()[:3000]
    assert Figure.objects.get(pk=first.pk).is_front_page and queued == []

    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(figure_url, form | {"texts-0-text": "A zeppelin-shaped cushion."}).status_code == 302
    assert queued == [[first.pk]]
    assert {n.figure_id for n in index.fulltext_figures(text="zeppelin", k=10)} == {first.pk}

    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(figure_url, _change_form(admin_client, figure_url)
                                 | {"caption": "Hovercraft seat, top view"}).status_code == 302
    assert queued[-1] == [first.pk]
    assert {n.figure_id for n in index.fulltext_figures(text="hovercraft", k=10)} == {first.pk}

    before = len(queued)
    with django_capture_on_commit_callbacks(execute=True):  # a caption and a description in one save: one rebuild
        assert admin_client.post(figure_url, _change_form(admin_client, figure_url)
                                 | {"caption": "Airship seat", "texts-0-text": "A blimp cushion."}).status_code == 302
    assert queued[before:] == [[first.pk]]
    assert {n.figure_id for n in index.fulltext_figures(text="blimp airship", k=10)} == {first.pk}
