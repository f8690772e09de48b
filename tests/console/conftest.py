"""Fixtures of the console tests: the admin's API client, corpus zips (good, broken, hostile).
admin_user, examiner and api_client are the suite's (tests/conftest.py)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.conftest import api_client
from tests.drawings import drawing, png_bytes, small_corpus, write_corpus

__all__ = ["api_client", "zip_folder"]  # the console tests import api_client from here too


@pytest.fixture
def admin_api(admin_user):
    return api_client(admin_user)


def zip_folder(folder: Path, target: Path, *, top: str | None = None) -> Path:
    """A .zip of a corpus folder (inside one top folder when `top` is given)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                name = path.relative_to(folder).as_posix()
                archive.write(path, f"{top}/{name}" if top else name)
    return target


@pytest.fixture
def good_zip(tmp_path) -> Path:
    """4 patents × 3 views (12 figures), inside a top folder as people zip them."""
    return zip_folder(small_corpus(tmp_path / "good", patents=4, views=3), tmp_path / "good.zip", top="good")


@pytest.fixture
def truncated_zip(tmp_path) -> Path:
    """Three rows: one good image, one truncated PNG (line 3), one missing file (line 4)."""
    rows = [
        {"image_file": "a.png", "patent_id": "USD900001"},
        {"image_file": "cut.png", "patent_id": "USD900002"},
        {"image_file": "gone.png", "patent_id": "USD900003"},
    ]
    images = {"a.png": png_bytes(drawing(1)), "cut.png": png_bytes(drawing(2))[:300]}
    folder = write_corpus(tmp_path / "broken", rows, images=images)
    return zip_folder(folder, tmp_path / "broken.zip")


@pytest.fixture
def bomb_zip(tmp_path) -> Path:
    """A valid metadata.csv and an 'image' of 64 MiB of zeros packed into ~64 KiB."""
    target = tmp_path / "bomb.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.csv", "image_file,patent_id\r\nbomb.png,USD900009\r\n")
        archive.writestr("bomb.png", bytes(64 * 1024 * 1024))
    return target


@pytest.fixture
def traversal_zip(tmp_path) -> Path:
    target = tmp_path / "evil.zip"
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("metadata.csv", "image_file,patent_id\r\n../../evil.png,USD900010\r\n")
        archive.writestr("../../evil.png", png_bytes(drawing(3)))
    return target
