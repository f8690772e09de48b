"""Fixtures of the cases tests: examiners, an admin, an encoded corpus, API clients."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from cases.services.cases import case_create
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.services.encoding import figure_encode_batch
from tests.drawings import small_corpus


@pytest.fixture
def examiner(db):
    return User.objects.create_user("ada", password="pw-for-tests-only", role=User.Role.EXAMINER)


@pytest.fixture
def other_examiner(db):
    return User.objects.create_user("bob", password="pw-for-tests-only", role=User.Role.EXAMINER)


@pytest.fixture
def admin_user(db):
    return User.objects.create_user("root", password="pw-for-tests-only", role=User.Role.ADMIN)


def api_client(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def client(examiner):
    return api_client(examiner)


@pytest.fixture
def encoded_corpus(tmp_path, active_model):
    """4 patents × 3 views, granted 2010-01-05, 2011-01-05, 2012-01-05, 2013-01-05."""
    result = corpus_ingest(path=small_corpus(tmp_path / "mini", patents=4, views=3))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    return result


@pytest.fixture
def case(examiner):
    return case_create(examiner=examiner, application_number="29/123,456", title="Widget",
                       cutoff_date=dt.date(2030, 1, 1), us_class="D14/486", locarno_class="14-04")


def upload(data: bytes, name: str = "view.png") -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file
