"""Test settings: the real embedded servers, in their own folder so tests never touch dev data."""

import os
import tempfile
import uuid
from pathlib import Path

os.environ.setdefault("DJANGO_DEBUG", "true")
# Tests search far faster than a person; the limit itself is tested with a low rate.
os.environ.setdefault("PATENTSEARCH_SEARCH_RATE", "10000/min")
os.environ.setdefault(
    "PATENTSEARCH_VAR_DIR", str(Path(__file__).resolve().parents[2] / "var" / "test")
)
# Figure files of a test run go to a folder of its own (made by embedded.prepare in the test
# session); worker processes inherit it from the environment.
os.environ.setdefault(
    "DJANGO_MEDIA_ROOT", str(Path(tempfile.gettempdir()) / f"patentsearch-test-media-{uuid.uuid4().hex}")
)

from patentsearch.settings.base import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
