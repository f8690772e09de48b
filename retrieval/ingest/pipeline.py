"""Ingest: a corpus folder or zip becomes Patent, Figure and FigureText rows, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings
from django.db import transaction

from retrieval.exceptions import CorpusProblem, CorpusValidationError, InvalidImageError
from retrieval.images import PageImage, read_pages
from retrieval.ingest import write
from retrieval.ingest.corpus_metadata import (
    FigureRow,
    MetadataTable,
    parse_descriptions,
    parse_metadata,
)
from retrieval.ingest.corpus_source import CorpusSource, UnsafePathError, open_corpus
from retrieval.ingest.figure_files import figure_file_store, figure_files_remove
from retrieval.ingest.types import IngestResult, StoredPage
from retrieval.ml.corpus_format import DESCRIPTIONS_FILE, METADATA_FILE
from retrieval.models import Figure

Progress = Callable[[int, int], None]


def corpus_ingest(
    *, path: Path, name: str | None = None, user_id: int | None = None, progress: Progress | None = None
) -> IngestResult:
    """Check the whole corpus, then write it in one transaction and enqueue encoding on commit.

    Raises CorpusValidationError listing every bad row or file; then nothing is written.
    """
    source = open_corpus(path, max_archive_bytes=settings.RETRIEVAL_MAX_ARCHIVE_BYTES)
    table, descriptions = _read_tables(source)
    problems = table.problems
    created: list[str] = []
    try:
        pages, image_problems = _store_images(source, table, created, progress, store=not problems)
        if problems or image_problems:
            raise CorpusValidationError(problems + image_problems)
        with transaction.atomic():
            result = write.corpus_write(
                name=name or source.name, source=str(path), user_id=user_id,
                pages=pages, descriptions=descriptions,
            )
    except BaseException:
        figure_files_remove(created)
        raise
    # encoding was queued on commit; a figure the broker did not take is still unmarked
    result.figures_not_queued = Figure.objects.filter(
        pk__in=result.queued_ids, encode_queued_at__isnull=True
    ).count()
    return result


def _read_tables(source: CorpusSource) -> tuple[MetadataTable, dict[str, list[str]]]:
    try:
        return _read_checked_tables(source)
    except UnsafePathError as exc:  # e.g. metadata.csv is a symbolic link out of the corpus
        return MetadataTable([], [CorpusProblem(source.name, str(exc))], []), {}


def _read_checked_tables(source: CorpusSource) -> tuple[MetadataTable, dict[str, list[str]]]:
    if not source.exists(METADATA_FILE):
        return MetadataTable([], [CorpusProblem(source.name, f"no {METADATA_FILE} in the corpus")], []), {}
    table = parse_metadata(source.read(METADATA_FILE))
    descriptions: dict[str, list[str]] = {}
    if source.exists(DESCRIPTIONS_FILE):
        known = {row.image_file for row in table.rows}
        descriptions, more = parse_descriptions(source.read(DESCRIPTIONS_FILE), known)
        table.problems.extend(more)
    return table, descriptions


def _store_images(
    source: CorpusSource, table: MetadataTable, created: list[str], progress: Progress | None, *, store: bool
) -> tuple[list[StoredPage], list[CorpusProblem]]:
    """Check every row's image, the refused rows' too; store pages only while nothing is wrong
    (and `store`)."""
    pages: list[StoredPage] = []
    problems: list[CorpusProblem] = []
    files = [(row.line, row.image_file, row) for row in table.rows]
    files += [(line, image_file, None) for line, image_file in table.refused_files]
    files.sort(key=lambda item: item[0])
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = pool.map(lambda item: _check_image(source, item[1]), files)
        for done, ((line, image_file, row), result) in enumerate(zip(files, results, strict=True), start=1):
            if isinstance(result, str):
                problems.append(CorpusProblem(f"{image_file} ({METADATA_FILE} line {line})", result))
            elif row is not None and store and not problems:
                pages += _store_row_pages(row, result, created)
            if progress:
                progress(done, len(files))
    return pages, problems


def _check_image(source: CorpusSource, image_file: str) -> list[PageImage] | str:
    """The file's decoded pages, or the reason they cannot be used."""
    try:
        if not source.exists(image_file):
            return "file not found"
        size = source.size(image_file)
        if size > settings.RETRIEVAL_MAX_IMAGE_BYTES:
            return f"file too large: {size:,} bytes, over the limit of {settings.RETRIEVAL_MAX_IMAGE_BYTES:,}"
        return read_pages(
            source.read(image_file),
            max_pixels=settings.RETRIEVAL_MAX_IMAGE_PIXELS,
            pdf_dpi=settings.RETRIEVAL_PDF_DPI,
        )
    except UnsafePathError as exc:  # a symbolic link that leads out of the corpus folder
        return str(exc)
    except OSError as exc:
        return f"file cannot be read: {exc.strerror or exc}"
    except InvalidImageError as exc:
        return exc.message


def _store_row_pages(row: FigureRow, pages: list[PageImage], created: list[str]) -> list[StoredPage]:
    stored = []
    for page in pages:
        file_name, is_new = figure_file_store(page)
        if is_new:
            created.append(file_name)
        stored.append(StoredPage(row, page.page, file_name, page.sha256, page.width, page.height))
    return stored
