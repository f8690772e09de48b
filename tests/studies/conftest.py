"""A small encoded corpus, two registered models and participants, for study tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import User
from retrieval.models import RetrievalModel
from tests.accounts.factories import UserFactory
from tests.drawings import small_corpus

# Distinctive names, so that a scan of participant pages for them cannot match by chance.
MODEL_A = "zebrafinch-model"
MODEL_B = "quokka-model"


@pytest.fixture
def two_models(db: None, random_checkpoint: Path, second_checkpoint: Path) -> tuple[RetrievalModel, RetrievalModel]:
    from retrieval.services.models import model_register

    a = model_register(spec=str(random_checkpoint), name=MODEL_A, activate=True)
    b = model_register(spec=str(second_checkpoint), name=MODEL_B)
    return a, b


@pytest.fixture
def study_corpus(tmp_path: Path, two_models: tuple[RetrievalModel, RetrievalModel]) -> str:
    """A corpus of 6 patents × 3 views, ingested (encoding happens when a study is created)."""
    from retrieval.ingest.pipeline import corpus_ingest

    corpus_ingest(path=small_corpus(tmp_path / "studycorpus", patents=6, views=3), name="studycorpus")
    return "studycorpus"


@pytest.fixture
def participants(db: None) -> list[User]:
    return [UserFactory(username=name, role=User.Role.PARTICIPANT) for name in ("pia", "paul")]


@dataclass
class Made:
    study_id: int
    stdout: str


def make_study(name: str, corpus: str, *, design: str = "within", tasks: int = 3, k: int = 10,
               extra: tuple[str, ...] = ()) -> Made:
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command(
        "create_study", name, "--arms", f"{MODEL_A},{MODEL_B}", "--tasks-from", corpus, "--tasks", str(tasks),
        "--views", "2", "--seed", "7", "--participants", "pia,paul", "--design", design, "--k", str(k),
        *extra, stdout=out, stderr=err,
    )
    return Made(study_id=int(out.getvalue().strip()), stdout=out.getvalue())
