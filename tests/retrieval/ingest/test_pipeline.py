import io
import json
import zipfile
from pathlib import Path

import pytest

from retrieval.exceptions import CorpusValidationError, InvalidArchiveError
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.models import Corpus, Figure, FigureText, Patent
from tests.drawings import drawing, png_bytes, small_corpus, write_corpus

pytestmark = pytest.mark.django_db


def _table_counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Corpus, Patent, Figure, FigureText))


def test_ingest_creates_patents_figures_and_texts(tmp_path, active_model, django_capture_on_commit_callbacks):
    root = small_corpus(tmp_path / "mini", patents=3, views=2)
    with django_capture_on_commit_callbacks() as callbacks:
        result = corpus_ingest(path=root)
    assert (result.corpus_name, result.figures_added, result.patents_added) == ("mini", 6, 3)
    patent = Patent.objects.get(patent_id="USD800001")
    assert (patent.us_class_main, patent.locarno_class, str(patent.grant_date)) == ("D14", "14-04", "2011-01-05")
    figure = patent.figures.get(figure_label="2")
    assert figure.caption.startswith("FIG. 2 is a front view")
    assert figure.image.storage.exists(figure.image.name)
    assert len(callbacks) == 3, "encoding, the text-channel rows and describing are enqueued once each, on commit"


def test_ingest_describes_only_figures_that_came_without_descriptions(
    tmp_path, active_model, django_capture_on_commit_callbacks, monkeypatch
):
    import retrieval.ingest.write as ingest_write

    queued: list[list[int]] = []
    monkeypatch.setattr(ingest_write, "figures_describe_enqueue", lambda figure_ids: queued.append(figure_ids))
    root = small_corpus(tmp_path / "mini", patents=2, views=2)
    first = sorted(p.relative_to(root).as_posix() for p in (root / "images").rglob("*.png"))[0]
    (root / "descriptions.jsonl").write_text(json.dumps({"image_file": first, "descriptions": ["a mug"]}) + "\n")
    result = corpus_ingest(path=root)
    described = Figure.objects.get(source_file=first).id
    assert queued == [[i for i in result.figure_ids if i != described]]


def test_same_corpus_twice_adds_nothing(tmp_path, active_model):
    root = small_corpus(tmp_path / "mini")
    corpus_ingest(path=root)
    before = _table_counts()
    result = corpus_ingest(path=root)
    assert (result.figures_added, result.figures_skipped) == (0, 12)
    assert _table_counts() == before


def test_descriptions_and_generated_captions_become_figure_texts(tmp_path, active_model):
    rows = [{"image_file": "a.png", "patent_id": "USD1", "generated_caption": "A drawing of a cup."}]
    descriptions = [{"image_file": "a.png", "descriptions": ["Coffee mug, cup", "Drinking vessel"]}]
    root = write_corpus(tmp_path / "c", rows, images={"a.png": png_bytes(drawing(1))}, descriptions=descriptions)
    corpus_ingest(path=root)
    texts = sorted(FigureText.objects.values_list("kind", "text"))
    assert texts == [
        ("description", "Coffee mug, cup"), ("description", "Drinking vessel"),
        ("generated_caption", "A drawing of a cup."),
    ]


def test_unknown_columns_are_kept_as_metadata(tmp_path, active_model):
    rows = [{"image_file": "a.png", "patent_id": "USD1", "examiner_note": "see also D2"}]
    corpus_ingest(path=write_corpus(tmp_path / "c", rows, images={"a.png": png_bytes(drawing(1))}))
    assert Figure.objects.get().metadata == {"examiner_note": "see also D2"}


def test_multi_page_tiff_becomes_one_figure_per_page(tmp_path, active_model):
    buffer = io.BytesIO()
    drawing(1).save(buffer, format="TIFF", save_all=True, append_images=[drawing(2), drawing(3)])
    rows = [{"image_file": "sheet.tif", "patent_id": "USD1"}]
    corpus_ingest(path=write_corpus(tmp_path / "c", rows, images={"sheet.tif": buffer.getvalue()}))
    assert list(Figure.objects.order_by("page").values_list("page", flat=True)) == [0, 1, 2]


def test_zip_of_a_corpus_folder_is_ingested(tmp_path, active_model):
    root = small_corpus(tmp_path / "zipped", patents=2, views=2)
    archive = tmp_path / "zipped.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in root.rglob("*"):
            zf.write(path, Path("zipped") / path.relative_to(root))
    result = corpus_ingest(path=archive)
    assert (result.corpus_name, result.figures_added) == ("zipped", 4)


BAD_ROWS = [
    ({"image_file": "missing.png", "patent_id": "USD1"}, "missing.png (metadata.csv line 3): file not found"),
    ({"image_file": "text.png", "patent_id": "USD1"}, "not an image"),
    ({"image_file": "cut.png", "patent_id": "USD1"}, "corrupt or truncated"),
    ({"image_file": "huge.png", "patent_id": "USD1"}, "image too large"),
    ({"image_file": "ok2.png", "patent_id": ""}, "metadata.csv line 3: patent_id is empty"),
    ({"image_file": "../etc/passwd", "patent_id": "USD1"}, "unsafe path"),
    ({"image_file": "/etc/passwd", "patent_id": "USD1"}, "unsafe path"),
    ({"image_file": "ok2.png", "patent_id": "USD1", "grant_date": "2021-13-45"}, "grant_date '2021-13-45' is not a date"),
    ({"image_file": "ok.png", "patent_id": "USD2"}, "ok.png is listed twice (also line 2)"),
]


@pytest.mark.parametrize(("bad_row", "reason"), BAD_ROWS)
def test_a_bad_row_refuses_the_whole_corpus_and_writes_nothing(tmp_path, active_model, settings, bad_row, reason):
    settings.RETRIEVAL_MAX_IMAGE_PIXELS = 200_000
    images = {
        "ok.png": png_bytes(drawing(1)), "ok2.png": png_bytes(drawing(2)),
        "text.png": b"patent_id,title\n", "cut.png": png_bytes(drawing(3))[:500],
        "huge.png": png_bytes(drawing(4, size=(1000, 1000))),
    }
    rows = [{"image_file": "ok.png", "patent_id": "USD1", "grant_date": ""}, {"grant_date": "", **bad_row}]
    root = write_corpus(tmp_path / "bad", rows, images=images)
    before = _table_counts()
    media_before = sorted(Path(settings.MEDIA_ROOT).rglob("*")) if Path(settings.MEDIA_ROOT).exists() else []
    with pytest.raises(CorpusValidationError) as refused:
        corpus_ingest(path=root)
    assert any(reason in str(p) for p in refused.value.problems), refused.value.problems
    assert _table_counts() == before
    assert sorted(Path(settings.MEDIA_ROOT).rglob("*")) == media_before, "no stray files are left"


def test_a_row_refused_for_its_metadata_has_its_image_checked_too(tmp_path, active_model):
    """One upload names every fault of a row: the empty patent_id and the missing file; a row
    listed twice is not read twice."""
    rows = [
        {"image_file": "gone.png", "patent_id": ""},
        {"image_file": "ok.png", "patent_id": "USD1", "grant_date": "someday"},
        {"image_file": "ok.png", "patent_id": "USD2"},
    ]
    with pytest.raises(CorpusValidationError) as refused:
        corpus_ingest(path=write_corpus(tmp_path / "c", rows, images={"ok.png": png_bytes(drawing(1))}))
    assert [str(p) for p in refused.value.problems] == [
        "metadata.csv line 2: patent_id is empty",
        "metadata.csv line 3: grant_date 'someday' is not a date (YYYY-MM-DD, YYYYMMDD or YYYY)",
        "metadata.csv line 4: ok.png is listed twice (also line 3)",
        "gone.png (metadata.csv line 2): file not found",
    ]


def test_every_problem_is_listed_not_just_the_first(tmp_path, active_model):
    rows = [{"image_file": f"missing{i}.png", "patent_id": "USD1"} for i in range(3)]
    with pytest.raises(CorpusValidationError) as refused:
        corpus_ingest(path=write_corpus(tmp_path / "c", rows))
    assert len(refused.value.problems) == 3
    assert "3 problems" in refused.value.message


@pytest.mark.parametrize(
    ("csv_text", "reason"),
    [
        ("title\nx\n", "missing required column(s): image_file, patent_id"),
        ("image_file,patent_id\n", "no rows"),
        ("image_file,patent_id\na.png,USD1,extra\n", "more fields than the header"),
        ("image_file,patent_id,title\na.png\n", "fewer fields than the header"),
        (b"image_file,patent_id\n\xff\xfe.png,USD1\n", "not UTF-8"),
    ],
)
def test_malformed_metadata_is_refused(tmp_path, active_model, csv_text, reason):
    root = tmp_path / "c"
    root.mkdir()
    data = csv_text if isinstance(csv_text, bytes) else csv_text.encode()
    (root / "metadata.csv").write_bytes(data)
    (root / "a.png").write_bytes(png_bytes(drawing(1)))
    with pytest.raises(CorpusValidationError) as refused:
        corpus_ingest(path=root)
    assert reason in str(refused.value.problems[0])


def test_malformed_descriptions_are_refused(tmp_path, active_model):
    rows = [{"image_file": "a.png", "patent_id": "USD1"}]
    root = write_corpus(tmp_path / "c", rows, images={"a.png": png_bytes(drawing(1))})
    (root / "descriptions.jsonl").write_text('{"image_file": "a.png", "descriptions": "one"}\nnot json\n')
    with pytest.raises(CorpusValidationError) as refused:
        corpus_ingest(path=root)
    reasons = [str(p) for p in refused.value.problems]
    assert reasons == [
        'descriptions.jsonl line 1: "descriptions" must be a list of strings',
        "descriptions.jsonl line 2: not valid JSON (Expecting value)",
    ]


def test_no_metadata_file(tmp_path, active_model):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusValidationError, match="1 problem"):
        corpus_ingest(path=tmp_path / "empty")


def test_broken_zip_is_refused(tmp_path, active_model):
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(InvalidArchiveError, match="not a readable zip archive"):
        corpus_ingest(path=archive)


def test_zip_with_a_path_escaping_the_corpus_is_refused(tmp_path, active_model):
    archive = tmp_path / "slip.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("metadata.csv", "image_file,patent_id\na.png,USD1\n")
        zf.writestr("../../evil.png", png_bytes(drawing(1)))
    with pytest.raises(InvalidArchiveError, match="unsafe path"):
        corpus_ingest(path=archive)
    assert _table_counts() == (0, 0, 0, 0)


def test_other_files_are_refused(tmp_path, active_model):
    path = tmp_path / "corpus.csv"
    path.write_text("image_file,patent_id\n")
    with pytest.raises(InvalidArchiveError, match="must be a folder or a .zip"):
        corpus_ingest(path=path)
