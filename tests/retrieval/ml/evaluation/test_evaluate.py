from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from retrieval.ml.cli import main
from retrieval.ml.encoders.factory import init_checkpoint
from retrieval.ml.evaluation import EvaluationRequest, evaluate
from retrieval.ml.evaluation.metrics import KS
from retrieval.ml.samples import generate_corpus

pytestmark = pytest.mark.ml

METRIC_KEYS = ["mAP", *(f"{m}@{k}" for m in ("recall", "recall_fraction", "mrr") for k in KS)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 generated patents x 7 views, plus one front-page copy of the first figure."""
    folder = tmp_path_factory.mktemp("corpus")
    generate_corpus(folder, patents=6, seed=1)
    _add_front_page_copy(folder / "metadata.csv")
    return folder


def _add_front_page_copy(metadata: Path) -> None:
    with open(metadata, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    copy = {**rows[0], "figure_id": "", "is_front_page": "1"}
    with open(metadata, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([*rows, copy])


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return init_checkpoint("ps-tiny", tmp_path_factory.mktemp("ckpt") / "tiny", seed=0)


def test_evaluate_cli_prints_a_table_and_writes_the_json_report(
    corpus: Path, checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.json"

    status = main(
        [
            "evaluate",
            "--corpus",
            str(corpus),
            "--model",
            str(checkpoint),
            "--relevance",
            "patent,object",
            "--relevance",
            "us_class",
            "--exclude-same-patent",
            "--json",
            str(out),
            "--no-progress",
            "--threads",
            "1",
        ]
    )

    assert status == 0
    printed = capsys.readouterr().out
    assert "relevance patent" in printed and "recall@K (fraction)" in printed
    report = json.loads(out.read_text())
    for key in (*METRIC_KEYS, "queries", "skipped", "bands"):
        assert key in report, key
    assert report["relevance"] == "patent" and report["exclude_same_patent"] is False
    assert set(report["by_relevance"]) == {"patent", "object", "us_class"}
    assert report["by_relevance"]["us_class"]["exclude_same_patent"] is True
    assert set(report["bands"]) == {"head", "middle", "tail"}
    assert report["model"]["name"] == "ps-tiny-seed0"
    assert report["model"]["version"].startswith("ps-tiny@")
    assert report["corpus"] == str(corpus.resolve())
    assert report["split"] == {"name": "all", "seed": 0, "test_fraction": 0.3, "val_fraction": 0.0}
    assert report["images"] == 42 and report["front_pages_left_out"] == 1
    assert report["queries"] + report["skipped"] == 42
    for block in report["by_relevance"].values():
        assert all(0.0 <= block[key] <= 1.0 for key in METRIC_KEYS)


def test_the_classical_model_finds_other_views_of_the_same_patent(corpus: Path) -> None:
    report = evaluate(EvaluationRequest(corpus=corpus, model="classical", progress=False))

    # Chance level here (6 relevant images among 41) is an mAP of about 0.22.
    assert report["mAP"] > 0.4
    assert report["recall@1"] > 0.75
    assert report["model"]["version"].startswith("hog-pca@")


def test_cached_embeddings_are_reused(corpus: Path, tmp_path: Path) -> None:
    request = EvaluationRequest(
        corpus=corpus,
        model="classical",
        relevances=("patent", "locarno"),
        exclude_same_patent=True,
        cache_dir=tmp_path / "cache",
        progress=False,
    )

    first, second = evaluate(request), evaluate(request)

    assert first["embedding"]["cached"] is False and second["embedding"]["cached"] is True
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 1
    assert first["by_relevance"] == {
        kind: {**block, "seconds": first["by_relevance"][kind]["seconds"]}
        for kind, block in second["by_relevance"].items()
    }


def test_the_split_selects_whole_patents(corpus: Path) -> None:
    train = evaluate(
        EvaluationRequest(
            corpus=corpus, model="classical", split="train", test_fraction=0.5, progress=False
        )
    )
    test = evaluate(
        EvaluationRequest(
            corpus=corpus, model="classical", split="test", test_fraction=0.5, progress=False
        )
    )

    assert (
        train["images"]
        + test["images"]
        + train["front_pages_left_out"]
        + test["front_pages_left_out"]
        == 43
    )
    assert train["images"] % 7 == 0 and test["images"] % 7 == 0


def test_patent_relevance_ignores_the_same_patent_exclusion(corpus: Path) -> None:
    plain = evaluate(EvaluationRequest(corpus=corpus, model="classical", progress=False))
    excluded = evaluate(
        EvaluationRequest(
            corpus=corpus, model="classical", exclude_same_patent=True, progress=False
        )
    )

    assert excluded["exclude_same_patent"] is False
    assert np.isclose(plain["mAP"], excluded["mAP"])


def test_bad_options_fail_with_clear_errors(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--corpus", str(corpus), "--model", "classical", "--relevance", "colour"])
    assert exit_info.value.code == 2
    assert "unknown relevance colour" in capsys.readouterr().err

    status = main(["evaluate", "--corpus", str(tmp_path / "missing"), "--model", "classical"])
    assert status == 1
    assert "metadata.csv" in capsys.readouterr().err

