import json

import pytest

from retrieval.ml.describe import make_backend, parse_descriptions
from retrieval.ml.describe.offline import OfflineBackend

pytestmark = pytest.mark.ml

METADATA = {
    "object_name": "shaving blade cartridge",
    "title": "Shaving blade cartridge",
    "viewpoint": "front perspective",
    "caption": "FIG. 1 is a front perspective view of an ornamental design for a shaving blade "
    "cartridge according to the present invention;",
    "generated_caption": "The image is a black and white drawing. The shape is long and curved.",
    "locarno_class": "28-03",
    "us_class": "D28/47",
}


def test_same_seed_and_metadata_give_the_same_descriptions() -> None:
    first = OfflineBackend(seed=3).describe(METADATA, 5)
    assert OfflineBackend(seed=3).describe(dict(reversed(METADATA.items())), 5) == first
    assert make_backend("offline", seed=3).describe(METADATA, 5) == first
    assert OfflineBackend(seed=4).describe(METADATA, 5) != first


def test_descriptions_name_the_object_and_mostly_the_view() -> None:
    texts = OfflineBackend().describe(METADATA, 5)
    assert all("shaving blade cartridge" in t.lower() for t in texts)
    assert sum("front perspective view" in t for t in texts) >= 3
    assert any("razor cartridge" in t for t in texts), "aliases come from the synonym table"


def test_descriptions_pass_the_same_checks_as_model_answers() -> None:
    texts = OfflineBackend().describe(METADATA, 8)
    assert parse_descriptions(json.dumps({"descriptions": texts}), 8) == texts


def test_view_comes_from_the_caption_when_there_is_no_viewpoint() -> None:
    texts = OfflineBackend().describe(
        {"object_name": "shoe", "caption": "FIG. 3 is a bottom view thereof."}, 5
    )
    assert any("bottom view" in t for t in texts)
    assert any("bottom view of the shoe" in t for t in texts)


def test_a_title_alone_is_enough_for_five() -> None:
    texts = OfflineBackend().describe({"title": "Widget"}, 5)
    assert len(set(texts)) == 5 and all("widget" in t.lower() for t in texts)


def test_refuses_more_than_it_can_vary_and_empty_metadata() -> None:
    with pytest.raises(ValueError, match="can compose only"):
        OfflineBackend().describe({"title": "Widget"}, 40)
    with pytest.raises(ValueError, match="no metadata"):
        OfflineBackend().describe({"width": "10"}, 2)
