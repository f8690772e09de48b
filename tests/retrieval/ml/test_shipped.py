from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.ml import shipped
from retrieval.ml.encoders.classical import ClassicalEncoder
from retrieval.ml.encoders.factory import load_encoder, load_model
from retrieval.ml.errors import ModelLoadError
from retrieval.ml.shipped import SHIPPED_DIR, SHIPPED_NAMES, resolve_model_spec, shipped_model_dir

pytestmark = pytest.mark.ml


def test_shipped_names_resolve_to_their_folders() -> None:
    assert SHIPPED_NAMES == ("default", "baseline", "classical")
    assert resolve_model_spec("classical") == SHIPPED_DIR / "classical"
    assert (SHIPPED_DIR / "classical" / "model.json").is_file()


def test_other_specs_pass_through_unchanged(tmp_path: Path) -> None:
    for spec in ("ps-tiny", "ViT-B-32/laion2b_s34b_b79k", "var/models/x"):
        assert resolve_model_spec(spec) == spec
    assert resolve_model_spec(Path("classical")) == Path("classical")


def test_an_existing_path_wins_over_a_shipped_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "classical").mkdir()

    assert resolve_model_spec("classical") == "classical"


def test_a_shipped_model_not_built_yet_says_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shipped, "SHIPPED_DIR", tmp_path)

    with pytest.raises(
        ModelLoadError, match=r"shipped model 'default' is not built yet: run `make models`"
    ):
        resolve_model_spec("default")
    with pytest.raises(ModelLoadError, match="not built yet"):
        load_encoder("default")
    with pytest.raises(ValueError, match="not a shipped model"):
        shipped_model_dir("nope")


def test_a_name_works_wherever_a_model_is_loaded() -> None:
    encoder = load_encoder("classical")

    assert isinstance(encoder, ClassicalEncoder)
    assert encoder.version == load_encoder(SHIPPED_DIR / "classical").version
    with pytest.raises(ModelLoadError, match="classical hog-pca model"):
        load_model("classical")
