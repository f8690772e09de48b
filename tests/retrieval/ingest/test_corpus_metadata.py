"""The strict reader (ingest) and the lenient one (the ML library) read a corpus the same way."""

from pathlib import Path

from retrieval.ingest.corpus_metadata import parse_metadata
from retrieval.ml.data import read_corpus
from tests.drawings import drawing, png_bytes, write_corpus

ROWS = [
    {"image_file": "a.png", "patent_id": "USD1", "us_class": "d 14/486", "us_class_main": "", "is_front_page": "0"},
    {"image_file": "b.png", "patent_id": "USD2", "us_class": "D14/486", "us_class_main": "d 21", "is_front_page": "Yes"},
    {"image_file": "c.png", "patent_id": "USD3", "us_class": "14/2", "us_class_main": "", "is_front_page": "T"},
]


def test_ingest_and_training_read_the_same_labels(tmp_path: Path) -> None:
    images = {row["image_file"]: png_bytes(drawing(i)) for i, row in enumerate(ROWS)}
    root = write_corpus(tmp_path / "c", ROWS, images=images)
    strict, problems, _ = parse_metadata((root / "metadata.csv").read_bytes())
    lenient = read_corpus(root)
    assert problems == []
    expected = [("D14", False), ("D21", True), ("", True)]
    assert [(r.patent.us_class_main, r.is_front_page) for r in strict] == expected
    assert [(r.us_class_main, r.is_front_page) for r in lenient] == expected


def test_an_over_long_value_is_named_by_its_metadata_column() -> None:
    data = f"image_file,patent_id,figure_id\na.png,USD1,{'7' * 65}\n".encode()
    rows, problems, _ = parse_metadata(data)
    assert rows == []
    assert [(p.where, p.reason) for p in problems] == [
        ("metadata.csv line 2", "figure_id is 65 characters long; at most 64 fit")
    ]
