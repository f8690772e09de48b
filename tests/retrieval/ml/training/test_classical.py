"""Fitting the classical model (retrieval.ml.training.classical) and its fit-classical command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from retrieval.ml.cli import main
from retrieval.ml.training.classical import fit_classical, fit_pca

pytestmark = pytest.mark.ml


def test_fitting_is_reproducible(tmp_path: Path) -> None:
    first = fit_classical(tmp_path / "first", patents=8, seed=5, dim=16)
    again = fit_classical(tmp_path / "again", patents=8, seed=5, dim=16)

    assert (again / "pca.npz").read_bytes() == (first / "pca.npz").read_bytes()


def test_fit_pca_refuses_a_dimension_the_data_cannot_give() -> None:
    with pytest.raises(ValueError, match="dim"):
        fit_pca(np.zeros((5, 10), dtype=np.float32), dim=8)


def test_fit_pca_whitens_to_unit_scale_axes_with_fixed_signs() -> None:
    rng = np.random.default_rng(0)
    raw = (rng.normal(size=(200, 6)) * np.array([5.0, 3.0, 1.0, 0.5, 0.2, 0.1])).astype(np.float32)

    pca = fit_pca(raw, dim=3)

    assert pca.components.shape == (3, 6) and pca.mean.shape == (6,) and pca.whiten.shape == (3,)
    assert np.allclose(pca.components @ pca.components.T, np.eye(3), atol=1e-5)
    largest = pca.components[np.arange(3), np.abs(pca.components).argmax(axis=1)]
    assert (largest > 0).all()
    projected = ((raw - pca.mean) @ pca.components.T) * pca.whiten
    assert (projected.std(axis=0) < 1.0).all()  # shrunk whitening: never blown above unit scale


def test_fit_classical_refuses_to_overwrite_a_model(tmp_path: Path) -> None:
    folder = fit_classical(tmp_path / "m", patents=4, seed=0, dim=8)

    with pytest.raises(FileExistsError, match="already holds a model"):
        fit_classical(folder, patents=4, seed=0, dim=8)


def test_fit_classical_cli_writes_a_loadable_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["fit-classical", "--out", str(tmp_path / "m"), "--patents", "4", "--dim", "8"])

    assert status == 0
    assert "version=hog-pca@" in capsys.readouterr().out
    config = json.loads((tmp_path / "m" / "model.json").read_text())
    assert config["training"]["fit_corpus"] == "generated seed 0, 4 patents"
