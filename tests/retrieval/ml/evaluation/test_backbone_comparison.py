"""The frozen-feature backbone comparison script: rows of `evaluate`'s metrics per backbone and
side, joined feature sets, and the timing of each backbone's inference path."""

import json
from pathlib import Path

from retrieval.ml.evaluation import backbones as comparison
from tests.drawings import articles_corpus


def test_the_comparison_reports_every_run_and_join(tmp_path: Path) -> None:
    corpus = articles_corpus(tmp_path / "c", [("Chair", "D6/1"), ("Bottle", "D7/2"), ("Stool", "D6/1")], views=2)
    out = tmp_path / "report.json"
    code = comparison.main([
        "--corpus", str(corpus), "--split", "all", "--cache", str(tmp_path / "cache"),
        "--runs", "mobilenetv2-imagenet@64,efficientnet-lite2-imagenet@64",
        "--joins", "mobilenetv2-imagenet@64+efficientnet-lite2-imagenet@64", "--json", str(out),
    ])
    assert code == 0
    report = json.loads(out.read_text())
    assert report["images"] == 6
    rows = report["rows"]
    assert set(rows) == {"mobilenetv2-imagenet@64", "efficientnet-lite2-imagenet@64",
                         "mobilenetv2-imagenet@64+efficientnet-lite2-imagenet@64"}
    for row in rows.values():
        assert 0.0 < row["patent_mAP"] <= 1.0 and 0.0 <= row["us_class_mAP"] <= 1.0
        assert row["queries"] == 6
    assert rows["mobilenetv2-imagenet@64+efficientnet-lite2-imagenet@64"]["dim"] == 2560
    assert rows["efficientnet-lite2-imagenet@64"]["ms_per_image_b16"] > 0
    assert list((tmp_path / "cache").glob("img-efficientnet-lite2-imagenet-64-*.npy"))  # cached
