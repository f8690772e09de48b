"""The only module that talks pgvector: per-model HNSW indexes, upserts and nearest neighbours.

One table holds the vectors of every model; each model gets a partial HNSW index on the
vector cast to its dimension (`(embedding::vector(D)) vector_ip_ops WHERE model_id = M`), so
models of any dimension live side by side. Vectors are unit length: inner product = cosine.
Filtered queries use pgvector's iterative index scans so that selective filters still return
k hits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from numpy.typing import NDArray

from retrieval.models import RetrievalModel

TABLE = "retrieval_figureembedding"


@dataclass(frozen=True)
class FigureFilters:
    """Restrictions on which figures a search may return. Empty fields restrict nothing."""

    corpus_ids: Sequence[int] = ()
    us_class_main: Sequence[str] = ()
    locarno_class: Sequence[str] = ()
    grant_date_from: dt.date | None = None
    grant_date_to: dt.date | None = None
    exclude_figure_ids: Sequence[int] = ()
    exclude_front_page: bool = True

    def is_selective(self) -> bool:
        return bool(self.corpus_ids or self.us_class_main or self.locarno_class
                    or self.grant_date_from or self.grant_date_to)


@dataclass(frozen=True)
class Neighbor:
    figure_id: int
    score: float


@dataclass
class _Sql:
    where: list[str] = field(default_factory=list)
    params: list[object] = field(default_factory=list)

    def add(self, clause: str, *params: object) -> None:
        self.where.append(clause)
        self.params.extend(params)


def index_name(model: RetrievalModel) -> str:
    return f"figemb_hnsw_ip_model_{int(model.id)}"


def _vector_expr(model: RetrievalModel) -> str:
    return f"(e.embedding::vector({int(model.dim)}))"


def ensure_model_index(model: RetrievalModel) -> None:
    """Create the model's partial HNSW index if it does not exist (cheap when it does)."""
    with connection.cursor() as cursor:
        # Deferred foreign-key checks of earlier writes in this transaction would block the DDL.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {index_name(model)} ON {TABLE} USING hnsw "
            f"((embedding::vector({int(model.dim)})) vector_ip_ops) "
            f"WITH (m = 16, ef_construction = 64) WHERE model_id = {int(model.id)}"
        )


def drop_model_index(model: RetrievalModel) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {index_name(model)}")


def upsert_embeddings(
    model: RetrievalModel, figure_ids: Sequence[int], vectors: NDArray[np.float32]
) -> int:
    """Insert or replace the vectors of these figures under this model (idempotent)."""
    if len(figure_ids) != len(vectors):
        raise ValueError("one vector per figure id expected")
    if len(vectors) and vectors.shape[1] != model.dim:
        raise ValueError(f"vectors have dimension {vectors.shape[1]}, model {model.name} has {model.dim}")
    rows = [(int(fid), model.id, _literal(vec)) for fid, vec in zip(figure_ids, vectors, strict=True)]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {TABLE} (figure_id, model_id, embedding, created_at) "
            "VALUES (%s, %s, %s::vector, now()) "
            "ON CONFLICT (figure_id, model_id) DO UPDATE SET embedding = EXCLUDED.embedding, "
            "created_at = EXCLUDED.created_at",
            rows,
        )
    return len(rows)


def nearest_figures(
    *, model: RetrievalModel, query: NDArray[np.float32], k: int,
    filters: FigureFilters | None = None, ef_search: int | None = None,
) -> list[Neighbor]:
    """The k figures nearest to the query vector under the model, best first."""
    filters = filters or FigureFilters()
    sql = _filter_sql(model, filters)
    vector = f"%s::vector({int(model.dim)})"
    query_sql = (
        f"SELECT e.figure_id, -({_vector_expr(model)} <#> {vector}) AS score "
        f"FROM {TABLE} e JOIN retrieval_figure f ON f.id = e.figure_id "
        f"JOIN retrieval_patent p ON p.id = f.patent_id "
        f"WHERE {' AND '.join(sql.where)} "
        f"ORDER BY {_vector_expr(model)} <#> {vector} LIMIT %s"
    )
    literal = _literal(query)
    params = [literal, *sql.params, literal, int(k)]
    ef = max(int(ef_search or settings.RETRIEVAL_HNSW_EF_SEARCH), int(k))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL hnsw.ef_search = {ef}")
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        cursor.execute(f"SET LOCAL hnsw.max_scan_tuples = {int(settings.RETRIEVAL_HNSW_MAX_SCAN_TUPLES)}")
        cursor.execute(query_sql, params)
        rows = cursor.fetchall()
    # relaxed_order may return hits slightly out of order; the scores are exact.
    hits = [Neighbor(figure_id=row[0], score=float(row[1])) for row in rows]
    return sorted(hits, key=lambda hit: (-hit.score, hit.figure_id))


def _filter_sql(model: RetrievalModel, filters: FigureFilters) -> _Sql:
    sql = _Sql()
    sql.add(f"e.model_id = {int(model.id)}")
    sql.add("f.status = 'ready'")
    if filters.exclude_front_page:
        sql.add("NOT f.is_front_page")
    if filters.corpus_ids:
        sql.add("f.corpus_id = ANY(%s)", [int(c) for c in filters.corpus_ids])
    if filters.us_class_main:
        sql.add("p.us_class_main = ANY(%s)", [c.upper() for c in filters.us_class_main])
    if filters.locarno_class:
        sql.add("p.locarno_class = ANY(%s)", list(filters.locarno_class))
    if filters.grant_date_from:
        sql.add("p.grant_date >= %s", filters.grant_date_from)
    if filters.grant_date_to:
        sql.add("p.grant_date <= %s", filters.grant_date_to)
    if filters.exclude_figure_ids:
        sql.add("NOT (e.figure_id = ANY(%s))", [int(i) for i in filters.exclude_figure_ids])
    return sql


def embeddings_for(model: RetrievalModel, figure_ids: Sequence[int]) -> dict[int, NDArray[np.float32]]:
    """Stored vectors of these figures (for exact-search checks and similar-figure queries)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT figure_id, embedding::text FROM {TABLE} WHERE model_id = %s AND figure_id = ANY(%s)",
            [model.id, [int(i) for i in figure_ids]],
        )
        return {fid: _parse(text) for fid, text in cursor.fetchall()}


def _literal(vector: NDArray[np.float32]) -> str:
    return "[" + ",".join(f"{float(x):.7g}" for x in np.asarray(vector).ravel()) + "]"


def _parse(text: str) -> NDArray[np.float32]:
    return np.array([float(x) for x in text.strip("[]").split(",")], dtype=np.float32)
