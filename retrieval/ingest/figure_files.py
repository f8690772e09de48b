"""Figure image files under MEDIA_ROOT, addressed by content (figures/ab/<sha256>.<ext>)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.conf import settings

from retrieval.images import PageImage


def figure_file_name(page: PageImage) -> str:
    digest = page.sha256
    return f"figures/{digest[:2]}/{digest}.{page.extension}"


def figure_file_store(page: PageImage) -> tuple[str, bool]:
    """Write the page if it is not stored yet. Returns (name, created)."""
    name = figure_file_name(page)
    path = Path(settings.MEDIA_ROOT) / name
    if path.exists() and path.stat().st_size == len(page.data):
        return name, False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    with os.fdopen(fd, "wb") as f:
        f.write(page.data)
    os.replace(tmp, path)
    return name, True


def figure_files_remove(names: list[str]) -> None:
    """Undo figure_file_store for files this attempt created (a failed ingest keeps nothing)."""
    for name in names:
        (Path(settings.MEDIA_ROOT) / name).unlink(missing_ok=True)
