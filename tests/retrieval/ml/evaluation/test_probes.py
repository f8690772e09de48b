"""The probes of issue 8's open targets (retrieval.ml.evaluation.probes): the patent-level class
ranking they replicate, their galleries, and both probes end to end on a small corpus."""

import json
from itertools import count
from pathlib import Path

import numpy as np
import pytest

from retrieval.ml.data import patent_side
from retrieval.ml.evaluation import probes
from tests.drawings import drawing, png_bytes, write_corpus


def test_other_patents_are_ranked_by_their_best_figure_and_unlabelled_ones_are_misses():
    # Rows: query patent A (2 figures), B same class, C unlabelled, D same class.
    patent = np.asarray(["A", "A", "B", "C", "D"])
    labels = ["x", "x", "x", "", "x"]
    rows = np.arange(5)
    scores = {0: [0, 0, 0.5, 0.9, 0.1], 1: [0, 0, 0.2, 0.1, 0.3]}

    def scorer(i, g):
        if i in scores:
            return np.asarray(scores[i], np.float32)[g]
        return np.zeros(len(g), np.float32)

    value, queries = probes.patent_level_map(scorer, rows, labels, patent)
    # Query rows 0, 1 (A), 2 (B), 4 (D); C has no label and asks nothing.
    assert queries == 4
    # Row 0 ranks C (miss), B, D: AP (1/2 + 2/3) / 2; row 1 ranks D, B: AP 1.
    ap0, ap1 = (1 / 2 + 2 / 3) / 2, 1.0
    # Rows 2 and 4 score every candidate 0: ties fall in the patents' first-seen order.
    ap2 = (1 / 1 + 2 / 3) / 2  # B's list: A, C, D
    ap4 = (1 + 1) / 2  # D's list: A, B, C
    assert value == pytest.approx(np.mean([ap0, ap1, ap2, ap4]))
    # Asked once per patent, A asks only with its first row.
    value, queries = probes.patent_level_map(scorer, rows, labels, patent, once_per_patent=True)
    assert queries == 3 and value == pytest.approx(np.mean([ap0, ap2, ap4]))


def test_a_multiview_gallery_keeps_patents_with_two_or_more_drawings(tmp_path: Path):
    corpus = _corpus(tmp_path, {"train": 2, "val": 1, "test": 1})
    records = probes.drawing_records(corpus)
    side = probes.sides(records, val_fraction=0.15)
    everything = probes.gallery_rows(records, side, "train+val+test")
    multiview = probes.gallery_rows(records, side, "train+val+test:multiview")
    assert len(everything) == len(records)
    assert {records[i].patent_id for i in multiview} == {r.patent_id for r in records if r.figure_id != "only"}
    with pytest.raises(ValueError, match="unknown gallery option"):
        probes.gallery_rows(records, side, "val:big")


def test_both_probes_report_every_variant_on_a_small_corpus(tmp_path: Path):
    corpus = _corpus(tmp_path, {"train": 3, "val": 2, "test": 2})
    out = tmp_path / "drawing.json"
    assert probes.main(["drawing", "--corpus", str(corpus), "--image-size", "64",
                        "--cache", str(tmp_path / "cache"), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert {"frozen avg", "frozen gem3 standardised + mirrored", "default", "default + mirrored",
            "random vectors (reference)", "classical: HOG (training-free reference)"} <= set(report)
    for row in report.values():
        for split in ("val", "test"):
            assert row[split]["queries"] == 4  # two patents of two drawings on each side
            assert 0.0 < row[split]["mAP"] <= 1.0

    out = tmp_path / "classes.json"
    assert probes.main(["classes", "--corpus", str(corpus), "--galleries", "train+val+test,test:multiview",
                        "--cache", str(tmp_path / "cache"), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    whole = report["train+val+test"]
    assert whole["patents"] == 7 + 3  # the multi-view patents and one single-drawing patent per side
    # Titles name the article, so titles against titles find every same-class patent first.
    assert whole["titles against titles, per figure (reference)"]["us_class"]["mAP"] == pytest.approx(1.0)
    assert whole["titles against titles, once per patent (reference)"]["us_class"]["queries"] == 10
    assert whole["random ranking (reference)"]["us_class"]["mAP"] < 1.0
    for method in ("drawing + title, joint channel (shipped, before the class focus)", "joint + names + feedback"):
        assert 0.0 < whole[method]["locarno"]["mAP"] <= 1.0
    assert report["test:multiview"]["patents"] == 2


def _corpus(root: Path, per_side: dict[str, int]) -> Path:
    """Patents of two drawings on each side of the split (chairs in D6 / 06-01 and bottles in
    D9 / 09-01 alternating), plus one single-drawing patent per side."""
    ids = count(800000)
    rows, images, texts = [], {}, []
    articles = [("Chair", "D6/1", "06-01"), ("Bottle", "D9/2", "09-01")]
    for side, n in per_side.items():
        for p in range(n + 1):
            patent_id = next(f"USD{i}" for i in ids if patent_side(f"USD{i}", val_fraction=0.15) == side)
            title, us_class, locarno = articles[p % 2]
            for v in range(2 if p < n else 1):
                name = f"images/{patent_id}-{v}.png"
                images[name] = png_bytes(drawing(len(images)))
                rows.append({"image_file": name, "patent_id": patent_id, "title": title,
                             "object_name": title.lower(), "us_class": us_class, "locarno_class": locarno,
                             "figure_id": str(v) if p < n else "only"})
                texts.append({"image_file": name, "descriptions": [f"a {title.lower()}", f"{title} drawing"]})
    return write_corpus(root / "corpus", rows, images=images, descriptions=texts)
