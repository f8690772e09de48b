"""The write half of ingest: rows for checked and stored pages, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import connection

from retrieval.ingest.corpus_metadata import FigureRow
from retrieval.ingest.types import IngestResult, StoredPage
from retrieval.models import Corpus, Figure, FigureText, Patent
from retrieval.selectors.encoding import figures_lost
from retrieval.services.describe import figures_describe_enqueue
from retrieval.services.encoding import figures_encode_enqueue
from retrieval.services.models import model_ensure_active
from retrieval.services.search_text import figures_search_text_enqueue

INGEST_LOCK_KEY = 7_301_001  # one ingest writes at a time; others wait for it to commit


def corpus_write(
    *, name: str, source: str, user_id: int | None,
    pages: Sequence[StoredPage], descriptions: dict[str, list[str]],
) -> IngestResult:
    _lock_ingest()
    model = model_ensure_active()
    corpus, _ = Corpus.objects.get_or_create(name=name, defaults={"created_by_id": user_id})
    corpus.source = source
    corpus.save(update_fields=["source"])
    patents, patents_added = _patents_for([p.row for p in pages], corpus)
    figures, present_ids = _new_figures(pages, patents, corpus)
    Figure.objects.bulk_create(figures)
    texts = _texts_for(figures, {p.row.image_file: p.row for p in pages}, descriptions)
    created_texts = FigureText.objects.bulk_create(texts, ignore_conflicts=True)
    figure_ids = [f.id for f in figures]
    # figures stored by an earlier ingest whose encoding was lost (e.g. the broker was down)
    requeued = list(figures_lost(model=model, figure_ids=present_ids).values_list("id", flat=True))
    figures_encode_enqueue(figure_ids=figure_ids + requeued, model=model)
    figures_search_text_enqueue(figure_ids=figure_ids + requeued)
    if settings.RETRIEVAL_DESCRIBE_ON_INGEST:
        described = {t.figure_id for t in texts if t.kind == FigureText.Kind.DESCRIPTION}
        figures_describe_enqueue(figure_ids=[i for i in figure_ids if i not in described])
    return IngestResult(
        corpus_id=corpus.id, corpus_name=corpus.name, figures_added=len(figures),
        figures_skipped=len(pages) - len(figures), patents_added=patents_added,
        texts_added=len(created_texts), figure_ids=figure_ids, figures_requeued=len(requeued),
        queued_ids=figure_ids + requeued,
        present_in=sorted(set(Figure.objects.filter(pk__in=present_ids).exclude(corpus=corpus)
                              .values_list("corpus__name", flat=True))),
    )


def _lock_ingest() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [INGEST_LOCK_KEY])


def _patents_for(rows: Sequence[FigureRow], corpus: Corpus) -> tuple[dict[str, Patent], int]:
    """Existing patents by number, plus new ones (fields from the first row that has each)."""
    ids = {row.patent_id for row in rows}
    patents = {p.patent_id: p for p in Patent.objects.filter(patent_id__in=ids)}
    new: dict[str, Patent] = {}
    for row in rows:
        if row.patent_id in patents:
            continue
        fields = row.patent
        patent = new.setdefault(row.patent_id, Patent(patent_id=row.patent_id, corpus=corpus))
        for attr in ("title", "object_name", "locarno_class", "us_class", "us_class_main"):
            if not getattr(patent, attr):
                setattr(patent, attr, getattr(fields, attr))
        if patent.grant_date is None and fields.grant_date is not None:
            patent.grant_date = fields.grant_date
            patent.grant_date_is_year_only = fields.grant_date_is_year_only
    Patent.objects.bulk_create(new.values())
    patents.update(new)
    return patents, len(new)


def _new_figures(
    pages: Sequence[StoredPage], patents: dict[str, Patent], corpus: Corpus
) -> tuple[list[Figure], list[int]]:
    """Figures not stored yet (a figure is its patent plus its image content), and the ids of
    the pages' figures that are stored already."""
    patent_ids = [patents[p.row.patent_id].id for p in pages]
    existing = {
        (patent_pk, sha256): pk
        for patent_pk, sha256, pk in Figure.objects.filter(patent_id__in=set(patent_ids)).values_list(
            "patent_id", "sha256", "id"
        )
    }
    figures, present = [], []
    for page, patent_pk in zip(pages, patent_ids, strict=True):
        key = (patent_pk, page.sha256)
        if key in existing:
            if existing[key] is not None:
                present.append(existing[key])
            continue
        existing[key] = None
        figures.append(_figure(page, patents[page.row.patent_id], corpus))
    return figures, present


def _figure(page: StoredPage, patent: Patent, corpus: Corpus) -> Figure:
    row = page.row
    return Figure(
        patent=patent, corpus=corpus, figure_label=row.figure_label, source_file=row.image_file,
        page=page.page, image=page.file_name, sha256=page.sha256, width=page.width,
        height=page.height, viewpoint=row.viewpoint, caption=row.caption,
        is_front_page=row.is_front_page, metadata=row.extra,
    )


def _texts_for(
    figures: Sequence[Figure], rows: dict[str, FigureRow], descriptions: dict[str, list[str]]
) -> list[FigureText]:
    texts = []
    for figure in figures:
        for text in descriptions.get(figure.source_file, []):
            texts.append(FigureText(figure=figure, kind=FigureText.Kind.DESCRIPTION, text=text, source="import"))
        generated = rows[figure.source_file].generated_caption
        if generated:
            kind = FigureText.Kind.GENERATED_CAPTION
            texts.append(FigureText(figure=figure, kind=kind, text=generated, source="import"))
    return texts
