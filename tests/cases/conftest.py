"""Fixtures of the cases tests: a second examiner, a case, uploads (examiner, admin_user,
examiner_api and encoded_corpus are the suite's, in tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from cases.services.cases import case_create
from tests.accounts.factories import UserFactory


@pytest.fixture
def other_examiner(db):
    return UserFactory(username="bob")


@pytest.fixture
def case(examiner):
    return case_create(examiner=examiner, application_number="29/123,456", title="Widget",
                       cutoff_date=dt.date(2030, 1, 1), us_class="D14/486", locarno_class="14-04")


def upload(data: bytes, name: str = "view.png") -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file
