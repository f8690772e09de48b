"""The synthetic corpus generator: files, metadata, determinism, distribution, CLI."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from retrieval.ml.samples import CorpusSummary, generate_corpus
from retrieval.ml.samples.categories import CATEGORIES
from retrieval.ml.samples.corpus import COLUMNS, plan_patent, sample_patent_id
from retrieval.ml.samples.render import VIEWS

REPO = Path(__file__).resolve().parents[4]
PATENTS = 3
SEED = 7


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def _rows(root: Path) -> list[dict[str, str]]:
    with (root / "metadata.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CorpusSummary]:
    out = tmp_path_factory.mktemp("corpus")
    return out, generate_corpus(out, patents=PATENTS, seed=SEED, image_size=256)


@pytest.mark.ml
def test_same_seed_gives_identical_bytes(corpus: tuple[Path, CorpusSummary],
                                         tmp_path: Path) -> None:
    first, _ = corpus
    generate_corpus(tmp_path, patents=PATENTS, seed=7, image_size=256)
    assert _files(tmp_path) == _files(first)


@pytest.mark.ml
def test_different_seed_gives_different_files(corpus: tuple[Path, CorpusSummary],
                                              tmp_path: Path) -> None:
    first, _ = corpus
    generate_corpus(tmp_path, patents=PATENTS, seed=8, image_size=256)
    old, new = _files(first), _files(tmp_path)
    assert old["metadata.csv"] != new["metadata.csv"]
    assert sum(old[name] != new.get(name) for name in old if name.endswith(".png")) > 0


@pytest.mark.ml
def test_a_patent_does_not_depend_on_corpus_size(corpus: tuple[Path, CorpusSummary],
                                                 tmp_path: Path) -> None:
    first, _ = corpus
    generate_corpus(tmp_path, patents=1, seed=7, image_size=256)
    small, large = _files(tmp_path), _files(first)
    pngs = [name for name in small if name.endswith(".png")]
    assert len(pngs) == len(VIEWS)
    assert all(small[name] == large[name] for name in pngs)


@pytest.mark.ml
def test_metadata_columns_and_counts(corpus: tuple[Path, CorpusSummary]) -> None:
    root, summary = corpus
    header = (root / "metadata.csv").read_text(encoding="utf-8").splitlines()[0]
    assert tuple(header.split(",")) == COLUMNS
    rows = _rows(root)
    assert len(rows) == summary.figures == PATENTS * len(VIEWS)
    assert summary.patents == PATENTS and summary.elapsed_seconds > 0
    assert sum(n for _, n in summary.category_counts) == PATENTS
    by_patent: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_patent.setdefault(row["patent_id"], []).append(row)
    assert sorted(by_patent) == [sample_patent_id(SEED, i) for i in range(PATENTS)]
    for figures in by_patent.values():
        assert [r["figure_id"] for r in figures] == [str(i) for i in range(1, len(VIEWS) + 1)]
        assert [r["viewpoint"] for r in figures] == list(VIEWS)
        assert len({(r["object_name"], r["grant_date"], r["us_class"]) for r in figures}) == 1


@pytest.mark.ml
def test_metadata_values_look_like_design_patents(corpus: tuple[Path, CorpusSummary]) -> None:
    root, _ = corpus
    for row in _rows(root):
        assert (root / row["image_file"]).is_file()
        assert row["image_file"] == (f"images/{row['patent_id']}/{row['patent_id']}"
                                     f"-D{int(row['figure_id']):05d}.png")
        assert re.fullmatch(r"\d\d-\d\d", row["locarno_class"])
        assert re.fullmatch(r"D\d+/\d+", row["us_class"])
        assert row["us_class"].startswith(row["us_class_main"] + "/")
        assert 2000 <= int(row["grant_date"][:4]) <= 2024 and len(row["grant_date"]) == 8
        assert row["is_front_page"] == "0"
        assert len(row["synonyms"].split(";")) >= 2
        assert row["caption"].startswith(f"FIG. {row['figure_id']} is a {row['viewpoint']} view")
        last = row["figure_id"] == str(len(VIEWS))
        assert row["caption"].endswith("." if last else ";")
        if row["figure_id"] == "1":
            assert row["title"].lower()[1:] in row["caption"].lower()
        else:
            assert "thereof" in row["caption"]
    assert "synthetic" in (root / "README.txt").read_text(encoding="utf-8").lower()


@pytest.mark.ml
def test_every_image_is_black_lines_on_white(corpus: tuple[Path, CorpusSummary]) -> None:
    root, _ = corpus
    for row in _rows(root):
        with Image.open(root / row["image_file"]) as image:
            assert image.format == "PNG" and image.mode in ("1", "L")
            pixels = np.asarray(image.convert("L"))
        assert min(pixels.shape) >= 128 and max(pixels.shape) <= 257
        assert (pixels >= 250).mean() > 0.8, row["image_file"]
        assert (pixels < 64).sum() > 50, row["image_file"]
        assert pixels[:4].min() > 250 and pixels[:, :4].min() > 250


@pytest.mark.ml
def test_categories_are_long_tailed() -> None:
    assert len(CATEGORIES) >= 24
    assert len({c.name for c in CATEGORIES}) == len(CATEGORIES)
    drawn = Counter(plan_patent(0, i)[0].category.name for i in range(400))
    counts = sorted((drawn[c.name] for c in CATEGORIES), reverse=True)
    assert counts[0] >= 5 * max(float(np.median(counts)), 1.0)
    assert sum(1 for n in counts if n <= 10) >= len(CATEGORIES) // 2


@pytest.mark.ml
@pytest.mark.parametrize("kwargs", [
    {"patents": 0}, {"seed": -1}, {"views": ["side"]}, {"views": []},
    {"views": ["top plan", "top plan"]}, {"image_size": 16},
])
def test_bad_arguments_raise_value_error(kwargs: dict[str, object], tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_corpus(tmp_path, **kwargs)  # type: ignore[arg-type]


@pytest.mark.ml
def test_cli_writes_a_corpus_and_prints_a_summary(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "retrieval.ml.samples", str(tmp_path / "out"), "--patents", "2",
         "--seed", "3", "--image-size", "200", "--views", "front perspective", "top plan"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "wrote 2 patents, 4 figures" in result.stdout
    assert "patents 2/2" in result.stderr
    rows = _rows(tmp_path / "out")
    assert [r["viewpoint"] for r in rows] == ["front perspective", "top plan"] * 2
