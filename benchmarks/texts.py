"""Text rows for the catalogue, so text queries and their counts are timed against as many rows
as there are figures (before stop 27 the synthetic figures had none, and a text query at 100k
read only the ingested figures' rows).

The ingested figures' rows are built by the service the workers run (``figure_search_text_batch``:
the sentence model on the CPU), up to ``REAL_ROWS``, and timed; every other figure gets a copy of
one of those rows' words, cyclically, with a sentence vector drawn around the real ones
(benchmarks/vectors.py), loaded in bulk with the sentence index dropped and built once after.

A figure's name (title and object name, what the trigram channel scores once per distinct
name) is its patent's: a real row's name followed by the synthetic patent's number, so every
synthetic patent has a name of its own. That is more distinct names than a real catalogue has
(the dev corpus: 790 for 1,050 patents) and so the harder case for the trigram channel; the
number adds no trigram of the timed queries.
"""

from __future__ import annotations

import time

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from benchmarks.catalogue import CORPUS
from benchmarks.common import report
from benchmarks.vectors import extend
from retrieval import index
from retrieval.models import Figure
from retrieval.selectors.search_text import (
    search_texts_lost,
    search_texts_missing,
    text_row_version,
)
from retrieval.services.search_text import figure_search_text_batch

REAL_ROWS = 2_000
BATCH = 64


def build(results: dict[str, object]) -> None:
    ingested = set(Figure.objects.exclude(corpus__name=CORPUS).values_list("pk", flat=True))
    real = [i for i in search_texts_missing() if i in ingested][:REAL_ROWS]
    started = time.perf_counter()
    for start in range(0, len(real), BATCH):
        figure_search_text_batch(figure_ids=real[start : start + BATCH])
    rate = len(real) / max(time.perf_counter() - started, 1e-9)
    report(f"text rows of ingested figures, worker service (sentence model on CPU, {len(real)} figures)", rate,
           "rows/s")
    rest = search_texts_missing()
    source = [row for row in index.search_text_rows() if row.sentence is not None]
    if not source:
        raise SystemExit("no text row was built: the catalogue's text rows need real ones to copy")
    sentences = np.stack([row.sentence for row in source])
    drawn = extend(sentences, len(sentences) + len(rest), seed=3)[len(sentences):]
    version = text_row_version()
    patents = dict(Figure.objects.filter(pk__in=rest).values_list("pk", "patent__patent_id"))
    names = {patent: f"{source[i % len(source)].names} {patent}"
             for i, patent in enumerate(sorted(set(patents.values())))}
    started = time.perf_counter()
    with transaction.atomic():
        index.drop_sentence_index()
        for start in range(0, len(rest), 10_000):
            rows = [
                index.SearchTextRow(figure_id=figure_id, names=names[patents[figure_id]],
                                    document=source[(start + i) % len(source)].document, sentence=drawn[start + i],
                                    sentence_version=version)
                for i, figure_id in enumerate(rest[start : start + 10_000])
            ]
            index.upsert_search_texts(rows, texts_read_at=timezone.now())
    load_s = time.perf_counter() - started
    report(f"bulk load of {len(rest):,} text rows (full-text and trigram GIN indexes kept)",
           len(rest) / max(load_s, 1e-9), "rows/s")
    started = time.perf_counter()
    index.build_sentence_index()
    build_s = time.perf_counter() - started
    report("sentence HNSW index build (384-d vector, m=16, ef_construction=64)", build_s, "s")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {index.TEXT_TABLE}, {index.NAMES_TABLE}")
        cursor.execute(f"SELECT pg_total_relation_size('{index.TEXT_TABLE}'), "
                       f"pg_total_relation_size('{index.NAMES_TABLE}'), (SELECT count(*) FROM {index.NAMES_TABLE})")
        text_bytes, names_bytes, names = cursor.fetchone()
        size_mb = (text_bytes + names_bytes) / 1024**2
    report("text rows: table + indexes (with the trigram channel's names)", size_mb, "MB")
    report("distinct names (title and object name) the trigram channel scores", names, "names")
    passes = []
    for _ in range(3):
        started = time.perf_counter()
        search_texts_lost()
        passes.append(time.perf_counter() - started)
    sweep_ms = 1000 * sorted(passes)[1]
    report("the sweep's text pass (rows missing, outdated or lost: one pass over the figures, median of 3)",
           sweep_ms, "ms")
    results.update({
        "text_rows": len(real) + len(rest), "text_rows_worker_per_s": round(rate, 1),
        "text_rows_bulk_per_s": round(len(rest) / max(load_s, 1e-9), 1),
        "text_sentence_index_build_s": round(build_s, 2), "text_rows_mb": round(size_mb, 1),
        "text_sweep_pass_ms": round(sweep_ms, 1), "text_distinct_names": int(names),
    })
