import json
from pathlib import Path

import pytest

from retrieval.ml.data import (
    Record,
    data_digest,
    label,
    normalise_object_name,
    read_corpus,
    select_split,
    split_by_patent,
)

pytestmark = pytest.mark.ml

HEADER = (
    "image_file,patent_id,object_name,locarno_class,us_class,us_class_main,is_front_page,extra\n"
)


def _corpus(
    root: Path, rows: list[str], descriptions: list[dict[str, object]] | None = None
) -> Path:
    for row in rows:
        image = root / row.split(",")[0]
        image.parent.mkdir(parents=True, exist_ok=True)
        image.write_bytes(b"not decoded by read_corpus")
    (root / "metadata.csv").write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    if descriptions is not None:
        lines = [json.dumps(d) for d in descriptions]
        (root / "descriptions.jsonl").write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    return root


def _records(n_patents: int, per_patent: int = 3) -> list[Record]:
    return [
        Record(
            image_path=Path(f"/x/{p}-{i}.png"),
            image_file=f"{p}-{i}.png",
            patent_id=f"USD{p:05d}",
            us_class_main=f"D{p % 5}",
        )
        for p in range(n_patents)
        for i in range(per_patent)
    ]


def test_read_corpus_reads_labels_descriptions_and_flags(tmp_path: Path) -> None:
    root = _corpus(
        tmp_path,
        [
            "img/a.png,USD1, Shaving  blade cartridge. ,28-03,D28/47,,1,x",
            "img/b.png,USD1,chair,06-01,d 6 / 1,,0,",
            "img/c.png,USD2,,,,D21,yes,",
        ],
        [
            {"image_file": "img/a.png", "descriptions": ["one", "two"]},
            {"image_file": "img/a.png", "descriptions": ["three"]},
        ],
    )
    a, b, c = read_corpus(root)
    assert a.image_path == root / "img/a.png" and a.patent_id == "USD1"
    assert a.us_class_main == "D28" and b.us_class_main == "D6" and c.us_class_main == "D21"
    assert (a.is_front_page, b.is_front_page, c.is_front_page) == (True, False, True)
    assert a.descriptions == ("one", "two", "three") and b.descriptions == ()
    assert label(a, "object") == "shaving blade cartridge"
    assert (
        label(a, "locarno") == "28-03"
        and label(a, "us_class") == "D28"
        and label(a, "patent") == "USD1"
    )
    assert label(c, "object") == "" and label(c, "locarno") == ""


def test_read_corpus_rejects_incomplete_rows(tmp_path: Path) -> None:
    _corpus(tmp_path, ["img/a.png,,chair,,,,0,"])
    with pytest.raises(ValueError, match="line 2"):
        read_corpus(tmp_path)
    (tmp_path / "metadata.csv").write_text(
        HEADER + "img/missing.png,USD1,,,,,0,\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="not found"):
        read_corpus(tmp_path)


def test_read_corpus_rejects_broken_descriptions(tmp_path: Path) -> None:
    _corpus(tmp_path, ["img/a.png,USD1,,,,,0,"])
    (tmp_path / "descriptions.jsonl").write_text("{not json\n", encoding="utf-8")
    with pytest.raises(ValueError, match="descriptions.jsonl line 1"):
        read_corpus(tmp_path)


def test_read_corpus_names_a_description_line_without_descriptions(tmp_path: Path) -> None:
    _corpus(tmp_path, ["img/a.png,USD1,,,,,0,"], [{"image_file": "img/a.png"}])
    with pytest.raises(ValueError, match="descriptions.jsonl line 1: expected an object"):
        read_corpus(tmp_path)
    assert read_corpus(tmp_path, descriptions=False)[0].descriptions == ()


def test_label_rejects_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="unknown relevance"):
        label(_records(1)[0], "colour")
    assert normalise_object_name("  Table  LAMP;") == "table lamp"


def test_split_is_deterministic_and_patents_never_straddle() -> None:
    records = _records(200)
    first = split_by_patent(records, test_fraction=0.3, seed=0)
    again = split_by_patent(list(reversed(records)), test_fraction=0.3, seed=0)
    assert {r.image_file for r in first.test} == {r.image_file for r in again.test}
    train_patents, test_patents = (
        {r.patent_id for r in first.train},
        {r.patent_id for r in first.test},
    )
    assert not train_patents & test_patents
    assert len(first.train) + len(first.test) == len(records)
    assert 0.2 < len(test_patents) / 200 < 0.4


def test_split_depends_on_seed_and_is_stable_under_other_patents() -> None:
    records = _records(200)
    test0 = {r.patent_id for r in split_by_patent(records, seed=0).test}
    test1 = {r.patent_id for r in split_by_patent(records, seed=1).test}
    assert test0 != test1
    fewer = {r.patent_id for r in split_by_patent(records[: 3 * 50], seed=0).test}
    assert fewer == {p for p in test0 if int(p[3:]) < 50}


def test_select_split_sides_and_edges() -> None:
    records = _records(40)
    assert select_split(records, "all") == records
    train, test = select_split(records, "train", seed=3), select_split(records, "test", seed=3)
    assert sorted(r.image_file for r in train + test) == sorted(r.image_file for r in records)
    assert select_split(records, "train", test_fraction=0.0) == records
    assert select_split(records, "test", test_fraction=1.0) == records
    with pytest.raises(ValueError):
        select_split(records, "validation")
    with pytest.raises(ValueError):
        split_by_patent(records, test_fraction=1.5)


def test_data_digest_depends_on_the_set_not_its_order() -> None:
    records = _records(5)
    assert data_digest(records) == data_digest(list(reversed(records)))
    assert data_digest(records) != data_digest(records[:-1])
    assert len(data_digest(records)) == 16


def test_a_validation_split_comes_out_of_train_and_leaves_test_alone() -> None:
    records = [Record(image_path=Path(f"{i}.png"), image_file=f"{i}.png", patent_id=f"P{i}")
               for i in range(400)]
    test = select_split(records, "test", seed=0)
    val = select_split(records, "val", seed=0, val_fraction=0.15)
    train = select_split(records, "train", seed=0, val_fraction=0.15)
    assert select_split(records, "test", seed=0, val_fraction=0.15) == test
    assert {r.patent_id for r in val}.isdisjoint({r.patent_id for r in train} | {r.patent_id for r in test})
    assert len(test) + len(val) + len(train) == 400 and 30 < len(val) < 90
    assert set(select_split(records, "train", seed=0)) == set(train) | set(val)
