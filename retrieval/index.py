"""The only module that talks pgvector and search SQL: per-model HNSW indexes, upserts and
nearest neighbours, and the text channels (full-text, trigram, sentence vectors; see below).

One table holds the vectors of every model; each model gets a partial HNSW index on the
vector cast to its dimension (`(embedding::halfvec(D)) halfvec_ip_ops WHERE model_id = M`), so
models of any dimension live side by side. Vectors are unit length: inner product = cosine.
They are stored in half precision (``STORAGE``): half the bytes of float32 in the table and in
the index (docs/scaling.md has the measurements).
The figure attributes that searches filter on are copied into the embedding rows, so every
search is one ordered index scan over one table; pgvector's iterative scans continue that scan
until k rows pass a selective filter.

How exact a search is (settings RETRIEVAL_HNSW_* and RETRIEVAL_EXACT_SEARCH_MAX_ROWS; measured
by ``python -m benchmarks``): the HNSW graph is built with m = 16, ef_construction = 64 and searched
with ef_search = 200 (or k, if larger), which finds 98.4 % of the true 10 nearest at 1M figures
on vectors with the structure of real ones (the target is 0.98; the ef_search/recall/latency
curves are in the benchmark JSON files and docs/scaling.md). A filter that few figures pass is
where an HNSW walk is weakest (it walks near the query, and the passing rows may lie anywhere:
at 1M figures it found 77 % of the true 10 nearest for a 0.9 % filter and 49 % for 0.1 %), so
when the filters (corpus, class, grant dates) leave at most RETRIEVAL_EXACT_SEARCH_MAX_ROWS
figures by the planner's estimate, the search is an exact scan of those figures (through the
attribute indexes; 25 ms for 9,000 figures at 1M). When an index scan returns fewer than k rows
(fewer figures pass the filters, or the iterative scan gave up at hnsw.max_scan_tuples), the
search is repeated as an exact scan of the rows that pass, so a filtered search returns exactly
min(k, matches) rows.

Bulk loads (a new model's vectors, re-indexing): drop the model's index, upsert by binary COPY,
build the index once (``bulk_load_embeddings``): at 1M figures 24,000 vectors/s went in without
the index and a 6-minute build followed, against about 1,000 vectors/s into a live index.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import time
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
    #: Only figures with an id up to this one: those that existed at a moment (a study's gallery as
    #: it was when the study was made; figure ids only grow).
    max_figure_id: int | None = None
    #: Words or phrases the figures' texts must not hold (the "-word" terms of a query,
    #: :func:`split_exclusions`), read as ``websearch_to_tsquery`` reads a word or a quoted phrase
    #: (English stems: "-cushion" leaves out "cushions" too). A figure without a text row yet
    #: cannot be checked, and is kept.
    exclude_words: Sequence[str] = ()


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
    return f"figemb_hnsw_ip_m{int(model.id)}_d{int(model.dim)}"


#: How the drawing vectors are stored and indexed: pgvector's ``halfvec`` (IEEE half precision,
#: 2 bytes a dimension instead of 4). A stored component is within 2**-11 of its float32 value
#: (relative), a score within about 1e-3 of the float32 inner product; recall@10 against float32
#: exact search was 0.99 at 100k figures (docs/scaling.md).
STORAGE = "halfvec"


def _vector_expr(model: RetrievalModel) -> str:
    return f"(e.embedding::{STORAGE}({int(model.dim)}))"


def ensure_model_index(model: RetrievalModel) -> None:
    """Create the model's partial HNSW index if it does not exist (cheap when it does)."""
    with connection.cursor() as cursor:
        # Deferred foreign-key checks of earlier writes in this transaction would block the DDL.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {index_name(model)} ON {TABLE} USING hnsw "
            f"((embedding::{STORAGE}({int(model.dim)})) {STORAGE}_ip_ops) "
            f"WITH (m = {int(settings.RETRIEVAL_HNSW_M)}, "
            f"ef_construction = {int(settings.RETRIEVAL_HNSW_EF_CONSTRUCTION)}) WHERE model_id = {int(model.id)}"
        )


def drop_model_index(model: RetrievalModel) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {index_name(model)}")


def upsert_embeddings(
    model: RetrievalModel, figure_ids: Sequence[int], vectors: NDArray[np.float32]
) -> int:
    """Insert or replace the vectors of these figures under this model (idempotent).

    The vectors travel by binary COPY (pgvector's psycopg dumper) into a temporary table, then
    one INSERT ... ON CONFLICT merges them with the figures' filter attributes.
    """
    if len(figure_ids) != len(vectors):
        raise ValueError("one vector per figure id expected")
    if len(vectors) and vectors.shape[1] != model.dim:
        raise ValueError(f"vectors have dimension {vectors.shape[1]}, model {model.name} has {model.dim}")
    if not len(figure_ids):
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        _copy_to_load_table(figure_ids, vectors)
        cursor.execute(
            f"INSERT INTO {TABLE} (figure_id, model_id, embedding, created_at, {ATTRIBUTES}) "
            f"SELECT f.id, %s, v.vec, now(), {ATTRIBUTE_SOURCES} FROM {_LOAD_TABLE} v "
            "JOIN retrieval_figure f ON f.id = v.figure_id JOIN retrieval_patent p ON p.id = f.patent_id "
            "ON CONFLICT (figure_id, model_id) DO UPDATE SET embedding = EXCLUDED.embedding, "
            f"created_at = EXCLUDED.created_at, {_set_from('EXCLUDED')}",
            [model.id],
        )
        return cursor.rowcount


def bulk_load_embeddings(
    model: RetrievalModel, figure_ids: Sequence[int], vectors: NDArray[np.float32]
) -> int:
    """Load many vectors of a model at once: drop its HNSW index, upsert, build the index again.

    Building an HNSW index over n rows is far cheaper than n incremental inserts into it, so
    re-indexing a catalogue goes this way. The model's searches fall back to exact scans while
    the index is rebuilt, so use it for models that are not serving searches, or in a quiet hour.
    """
    with transaction.atomic():
        drop_model_index(model)
        count = upsert_embeddings(model, figure_ids, vectors)
    build_model_index(model)
    return count


def build_model_index(model: RetrievalModel) -> None:
    """(Re)build the model's HNSW index with parallel workers and room to build it in memory,
    then refresh the table's statistics."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL maintenance_work_mem = '{settings.RETRIEVAL_HNSW_BUILD_MEMORY}'")
        cursor.execute(
            f"SET LOCAL max_parallel_maintenance_workers = {int(settings.RETRIEVAL_HNSW_BUILD_WORKERS)}"
        )
        ensure_model_index(model)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {TABLE}")  # fresh statistics: they choose exact scans (_few_pass)


_LOAD_TABLE = "_figemb_load"


def _copy_to_load_table(figure_ids: Sequence[int], vectors: NDArray[np.float32]) -> None:
    raw = _vector_aware(connection.connection)  # same transaction as Django's cursor
    with raw.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_LOAD_TABLE} (figure_id bigint, vec {STORAGE}) ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {_LOAD_TABLE}")
        with cursor.copy(f"COPY {_LOAD_TABLE} (figure_id, vec) FROM STDIN WITH (FORMAT BINARY)") as copy:
            for part in _binary_copy_rows(figure_ids, vectors):
                copy.write(part)


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8  # signature, flags, header extension length
_COPY_TRAILER = b"\xff\xff"


def _binary_copy_rows(figure_ids: Sequence[int], vectors: NDArray[np.float32]) -> list[bytes | memoryview]:
    """A whole binary COPY stream of (bigint, halfvec) rows, built by numpy in one pass.

    Each row is what psycopg's ``write_row((figure_id, HalfVector(vector)))`` sends with
    pgvector-python's binary dumper (tests/retrieval/test_index.py checks it byte for byte),
    without a Python call per row (the per-row conversion and framing were about a quarter of
    an upsert's time; COPY went from 44k to 70-80k rows/s on the loaded development box).
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    row = np.dtype([
        ("fields", ">i2"), ("id_len", ">i4"), ("id", ">i8"),
        ("vec_len", ">i4"), ("dim", ">u2"), ("unused", ">u2"), ("vec", ">f2", (dim,)),
    ])
    rows = np.empty(n, dtype=row)
    rows["fields"] = 2
    rows["id_len"] = 8
    rows["id"] = np.asarray(figure_ids, dtype=np.int64)
    rows["vec_len"] = 4 + 2 * dim
    rows["dim"] = dim
    rows["unused"] = 0
    rows["vec"] = vectors.astype(">f2")  # one contiguous conversion, then a strided copy
    return [_COPY_HEADER, memoryview(rows).cast("B"), _COPY_TRAILER]


def refresh_attributes(*, figure_ids: Sequence[int] = (), patent_ids: Sequence[int] = ()) -> int:
    """Copy changed figure or patent attributes into the embedding rows that filter on them."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} e SET {_set_from('src')} FROM ("
            f"SELECT f.id AS figure_id, {ATTRIBUTE_SOURCES} FROM retrieval_figure f "
            "JOIN retrieval_patent p ON p.id = f.patent_id "
            "WHERE f.id = ANY(%s) OR f.patent_id = ANY(%s)) AS src WHERE e.figure_id = src.figure_id",
            [[int(i) for i in figure_ids], [int(i) for i in patent_ids]],
        )
        return cursor.rowcount


def delete_embeddings(*, figure_ids: Sequence[int]) -> int:
    """Take figures out of search under every model (their image can no longer be used)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE figure_id = ANY(%s)", [[int(i) for i in figure_ids]])
        return cursor.rowcount


def delete_model_embeddings(model: RetrievalModel) -> list[int]:
    """Take every vector of one model out of search (its weights changed: they are of another
    version); the model's index stays, for the vectors encoded next. Returns the figures that
    had one."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE model_id = %s RETURNING figure_id", [model.pk])
        return sorted(row[0] for row in cursor.fetchall())


ATTRIBUTES = "corpus_id, us_class_main, locarno_class, grant_date, is_front_page"
ATTRIBUTE_SOURCES = "f.corpus_id, p.us_class_main, p.locarno_class, p.grant_date, f.is_front_page"


def _set_from(source: str) -> str:
    return ", ".join(f"{name} = {source}.{name}" for name in ATTRIBUTES.split(", "))


def nearest_figures(
    *, model: RetrievalModel, query: NDArray[np.float32], k: int,
    filters: FigureFilters | None = None, ef_search: int | None = None,
) -> list[Neighbor]:
    """The k figures nearest to the query vector under the model, best first."""
    filters = filters or FigureFilters()
    sql = _filter_sql(model, filters)
    where = " AND ".join(sql.where)
    # The index orders by half-precision inner products; the score is the stored vector against
    # the float32 query (within about 2**-11 of the float32 inner product, rather than twice that).
    # Ordering by the score itself is an exact scan of the rows that pass (no index has that
    # expression); ordering by the index's expression lets the planner walk the HNSW graph.
    float_score = f"(e.embedding::vector({int(model.dim)}) <#> %s::vector({int(model.dim)}))"
    select = f"SELECT e.figure_id, -{float_score} AS score FROM {TABLE} e WHERE {where} "
    approximate_sql = select + f"ORDER BY {_vector_expr(model)} <#> %s::{STORAGE}({int(model.dim)}) LIMIT %s"
    exact_sql = select + f"ORDER BY {float_score}, e.figure_id LIMIT %s"
    literal = _literal(query)
    params = [literal, *sql.params, literal, int(k)]
    ef = max(int(ef_search or settings.RETRIEVAL_HNSW_EF_SEARCH), int(k))
    with transaction.atomic(), connection.cursor() as cursor:
        if _few_pass(cursor, f"SELECT 1 FROM {TABLE} e WHERE {where}", sql.params, filters):
            cursor.execute(exact_sql, params)
            rows = cursor.fetchall()
        else:
            _set_scan_options(cursor, ef, max_scan_tuples=int(settings.RETRIEVAL_HNSW_MAX_SCAN_TUPLES))
            cursor.execute(approximate_sql, params)
            rows = cursor.fetchall()
            if len(rows) < k:
                # Fewer than k rows: either fewer figures pass the filters, or the iterative scan
                # gave up (hnsw.max_scan_tuples) before k passed a selective filter. An exact scan
                # of the rows that pass settles it: min(k, matches) rows, the true nearest.
                cursor.execute(exact_sql, params)
                rows = cursor.fetchall()
    # relaxed_order may return hits slightly out of order; the scores are exact.
    hits = [Neighbor(figure_id=row[0], score=float(row[1])) for row in rows]
    return sorted(hits, key=lambda hit: (-hit.score, hit.figure_id))


def _selective(filters: FigureFilters) -> bool:
    """Whether the filters may leave a small share of the catalogue (front pages and excluded
    figures never do)."""
    return bool(
        filters.corpus_ids or filters.us_class_main or filters.locarno_class
        or filters.grant_date_from or filters.grant_date_to
    )


def _few_pass(cursor, passing_sql: str, params: Sequence[object], filters: FigureFilters) -> bool:
    """Whether, by the planner's estimate, at most RETRIEVAL_EXACT_SEARCH_MAX_ROWS rows pass a
    selective filter, so that an exact scan of them (found through the attribute indexes) is both
    exact and cheap.

    An HNSW scan with a filter that few rows pass is where approximate search is worst: the graph
    is walked near the query, and the rows that pass may lie anywhere (at 1M figures, recall@10
    fell to 0.77 for a filter that 0.9 % pass, and 0.49 for 0.1 %, at ef_search 100). The estimate
    comes from the column statistics (``EXPLAIN``, no rows read): counting the rows instead reads
    each passing row from the heap, which cost more than the search itself (140 ms for 30,000
    rows at 1M figures). Index builds refresh the statistics (``build_model_index``); autovacuum
    keeps them current as encoding adds rows.
    """
    limit = int(settings.RETRIEVAL_EXACT_SEARCH_MAX_ROWS)
    if limit <= 0 or not _selective(filters):
        return False
    cursor.execute(f"EXPLAIN (FORMAT JSON) {passing_sql}", list(params))
    plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return float(plan[0]["Plan"]["Plan Rows"]) <= limit


def _set_scan_options(cursor, ef_search: int, *, max_scan_tuples: int | None = None) -> None:
    """The HNSW scan settings of this transaction, in one round trip to the server (a search
    pays each round trip, and more so on a busy machine)."""
    options = [f"SET LOCAL hnsw.ef_search = {int(ef_search)}", "SET LOCAL hnsw.iterative_scan = relaxed_order"]
    if max_scan_tuples is not None:
        options.append(f"SET LOCAL hnsw.max_scan_tuples = {int(max_scan_tuples)}")
    cursor.execute("; ".join(options))


@dataclass(frozen=True)
class _FilterColumns:
    """Where a search reads the attributes that FigureFilters restrict."""

    figure: str
    corpus: str
    us_class_main: str
    locarno_class: str
    grant_date: str
    is_front_page: str


# The drawing index filters on the attributes copied into the embedding rows (e); the text
# channels read them from the figure (f) and patent (p) rows.
_EMBEDDING_COLUMNS = _FilterColumns(
    "e.figure_id", "e.corpus_id", "e.us_class_main", "e.locarno_class", "e.grant_date", "e.is_front_page"
)
_FIGURE_COLUMNS = _FilterColumns(
    "f.id", "f.corpus_id", "p.us_class_main", "p.locarno_class", "p.grant_date", "f.is_front_page"
)


def _filter_sql(model: RetrievalModel, filters: FigureFilters) -> _Sql:
    sql = _Sql()
    sql.add(f"e.model_id = {int(model.id)}")
    return _add_filters(sql, filters, _EMBEDDING_COLUMNS)


def _add_filters(sql: _Sql, filters: FigureFilters, c: _FilterColumns) -> _Sql:
    """The WHERE clauses of FigureFilters, one implementation for every channel."""
    if filters.exclude_front_page:
        sql.add(f"NOT {c.is_front_page}")
    if filters.corpus_ids:
        sql.add(f"{c.corpus} = ANY(%s)", [int(i) for i in filters.corpus_ids])
    if filters.us_class_main:
        sql.add(f"{c.us_class_main} = ANY(%s)", [v.upper() for v in filters.us_class_main])
    if filters.locarno_class:
        sql.add(f"{c.locarno_class} = ANY(%s)", list(filters.locarno_class))
    if filters.grant_date_from:
        sql.add(f"{c.grant_date} >= %s", filters.grant_date_from)
    if filters.grant_date_to:
        sql.add(f"{c.grant_date} <= %s", filters.grant_date_to)
    if filters.exclude_figure_ids:
        sql.add(f"NOT ({c.figure} = ANY(%s))", [int(i) for i in filters.exclude_figure_ids])
    if filters.max_figure_id is not None:
        sql.add(f"{c.figure} <= %s", int(filters.max_figure_id))
    if filters.exclude_words:
        # One look-up by the text row's key per figure the channel reaches (the drawing index's
        # scan goes on until k pass, as for any filter); the terms are parsed once, as constants.
        terms = " || ".join(["websearch_to_tsquery('english', %s)"] * len(filters.exclude_words))
        sql.add(f"NOT EXISTS (SELECT 1 FROM {TEXT_TABLE} x WHERE x.figure_id = {c.figure} AND x.tsv @@ ({terms}))",
                *[str(term) for term in filters.exclude_words])
    return sql


def embeddings_for(model: RetrievalModel, figure_ids: Sequence[int]) -> dict[int, NDArray[np.float32]]:
    """Stored vectors of these figures (for exact-search checks and similar-figure queries)."""
    with connection.cursor():
        raw = _vector_aware(connection.connection)
        with raw.cursor() as cursor:
            cursor.execute(
                f"SELECT figure_id, embedding FROM {TABLE} WHERE model_id = %s AND figure_id = ANY(%s)",
                [model.id, [int(i) for i in figure_ids]],
            )
            return {fid: np.asarray(vec.to_numpy(), dtype=np.float32) for fid, vec in cursor.fetchall()}


def _vector_aware(raw):  # noqa: ANN001, ANN202 - a psycopg connection
    """The psycopg connection under Django's, taught pgvector's binary vector types (once)."""
    from pgvector.psycopg import register_vector

    if raw.adapters.types.get(STORAGE) is None:
        register_vector(raw)
    return raw


def _literal(vector: NDArray[np.float32]) -> str:
    return "[" + ",".join(f"{float(x):.7g}" for x in np.asarray(vector).ravel()) + "]"


# --- The text channels: full-text, trigram and sentence-vector search over figure texts ------
#
# One row per figure in retrieval_figuresearchtext (migration 0004): ``names`` (title and object
# name), ``document`` (every text of the figure) with its generated ``tsv`` column, and the
# locked sentence model's vector ``sentence``. Each channel returns the figures it finds, best
# first, under the same FigureFilters as the drawing index (read through the figure and patent
# rows); the search selector fuses the channels' ranks.

TEXT_TABLE = "retrieval_figuresearchtext"
#: The distinct names of the text rows with their trigrams (retrieval.models.SearchName).
NAMES_TABLE = "retrieval_searchname"
SENTENCE_DIM = 384
#: Least share of the query's trigrams in a name for a trigram match: low enough for one typo
#: in a short word ("pilow" in "pillow": 5 of 6), high enough to keep unrelated names out.
TRIGRAM_THRESHOLD = 0.5
#: Without a selective filter, the full-text channel ranks the text rows alone and keeps this
#: many times k of them for the filters (front pages, figures not ready) to thin; when fewer
#: than k pass, it ranks every match that passes instead (the same answer, found the long way).
FULLTEXT_CANDIDATES = 2
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class SearchTextRow:
    figure_id: int
    names: str
    document: str
    sentence: NDArray[np.float32] | None
    sentence_version: str


def upsert_search_texts(rows: Sequence[SearchTextRow], *, texts_read_at: dt.datetime) -> int:
    """Insert or replace the text rows of these figures (idempotent). ``texts_read_at``: when the
    figures' texts were read, stored as the rows' ``updated_at`` (a text written after it is not
    in the row: :func:`figures_without_search_text`)."""
    if not rows:
        return 0
    names = sorted({r.names for r in rows})
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TEXT_TABLE} (figure_id, names, document, sentence, sentence_version, updated_at) "
            "SELECT v.figure_id, v.names, v.document, v.sentence::vector, v.version, %s "
            "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[]) "
            "AS v(figure_id, names, document, sentence, version) "
            "JOIN retrieval_figure f ON f.id = v.figure_id "
            "ON CONFLICT (figure_id) DO UPDATE SET names = EXCLUDED.names, document = EXCLUDED.document, "
            "sentence = EXCLUDED.sentence, sentence_version = EXCLUDED.sentence_version, "
            "updated_at = EXCLUDED.updated_at",
            [
                texts_read_at,
                [int(r.figure_id) for r in rows], [r.names for r in rows], [r.document for r in rows],
                [None if r.sentence is None else _literal(r.sentence) for r in rows],
                [r.sentence_version for r in rows],
            ],
        )
        written = cursor.rowcount
        # In the same transaction as the rows, so that prune_search_names, which locks the
        # names against inserts, either sees these rows or runs before their names are added.
        # One order for every writer (md5, the unique key): two batches never wait on each other
        # in a cycle.
        cursor.execute(
            f"INSERT INTO {NAMES_TABLE} (names, trigrams) SELECT v.names, v.trigrams::text[] "
            "FROM unnest(%s::text[], %s::text[]) AS v(names, trigrams) ORDER BY md5(v.names) "
            "ON CONFLICT ((md5(names))) DO NOTHING",
            [names, ["{" + ",".join('"' + g.replace('"', '') + '"' for g in trigrams(n)) + "}" for n in names]],
        )
        return written


def prune_search_names() -> int:
    """Delete the names no text row carries any more (their figures were deleted or renamed);
    returns how many. Called by the sweep. Locks the names against inserts meanwhile, which
    waits for the writers in flight (:func:`upsert_search_texts` adds a name in the transaction
    of its rows), so a name being written is never deleted."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {NAMES_TABLE} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(
            f"DELETE FROM {NAMES_TABLE} n WHERE NOT EXISTS (SELECT 1 FROM {TEXT_TABLE} s WHERE s.names = n.names)")
        return cursor.rowcount


def search_text_rows() -> list[SearchTextRow]:
    """Every stored text row, in figure order (the benchmark copies their words)."""
    with connection.cursor():
        raw = _vector_aware(connection.connection)
        with raw.cursor() as cursor:
            cursor.execute(f"SELECT figure_id, names, document, sentence, sentence_version FROM {TEXT_TABLE} "
                           "ORDER BY figure_id")
            return [
                SearchTextRow(figure_id=figure_id, names=names, document=document, sentence_version=version,
                              sentence=None if vec is None else np.asarray(vec.to_numpy(), dtype=np.float32))
                for figure_id, names, document, vec, version in cursor.fetchall()
            ]


#: The figures (f) with their text row (s) and the time of their newest text (d.described).
_TEXT_ROWS_FROM = (
    f"retrieval_figure f LEFT JOIN {TEXT_TABLE} s ON s.figure_id = f.id "
    "LEFT JOIN LATERAL (SELECT max(t.created_at) AS described FROM retrieval_figuretext t "
    "WHERE t.figure_id = f.id) d ON true"
)
#: The row needs rebuilding (one parameter: the current sentence version).
_TEXT_ROW_NEEDED = (
    "(s.figure_id IS NULL OR s.sentence_version <> %s OR s.updated_at < COALESCE(d.described, '-infinity'))"
)
#: Its rebuild is waiting in a queue: queued after the row and the newest text were written, and
#: not before the moment given (one parameter).
_TEXT_ROW_WAITING = (
    "(f.text_queued_at IS NOT NULL AND f.text_queued_at >= %s "
    "AND f.text_queued_at > COALESCE(s.updated_at, '-infinity') "
    "AND f.text_queued_at >= COALESCE(d.described, '-infinity'))"
)


#: The text rows' sentence index (migration 0004 made it; bulk loads drop and rebuild it).
SENTENCE_INDEX = "figuresearchtext_sentence_hnsw"


def drop_sentence_index() -> None:
    """Drop the text rows' sentence HNSW index before a bulk load (as :func:`drop_model_index`)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {SENTENCE_INDEX}")


def build_sentence_index() -> None:
    """Build the text rows' sentence HNSW index once after a bulk load (migration 0004's definition)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {SENTENCE_INDEX} ON {TEXT_TABLE} "
            "USING hnsw (sentence vector_ip_ops) WITH (m = 16, ef_construction = 64)"
        )


def figures_without_search_text(
    *, figure_ids: Sequence[int] | None = None, sentence_version: str, queued_before: dt.datetime | None = None,
) -> list[int]:
    """Ready figures (of ``figure_ids``, or all) whose text row needs rebuilding: none yet, one of
    another sentence model (``sentence_version``), or one older than the figure's newest text (a
    description written since, whose rebuild never ran).

    ``queued_before``: leave out the figures whose rebuild is still waiting in the queue, those
    whose ``text_queued_at`` is after this moment and after both the row and the newest text
    (the rebuild was queued for the change): what remains was never queued or is lost."""
    waiting = f"AND NOT {_TEXT_ROW_WAITING} " if queued_before is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT f.id FROM {_TEXT_ROWS_FROM} "
            "WHERE f.status = 'ready' AND (%s::bigint[] IS NULL OR f.id = ANY(%s::bigint[])) "
            f"AND {_TEXT_ROW_NEEDED} {waiting}ORDER BY f.id",
            [None if figure_ids is None else [int(i) for i in figure_ids]] * 2 + [sentence_version]
            + ([queued_before] if queued_before is not None else []),
        )
        return [row[0] for row in cursor.fetchall()]


@dataclass(frozen=True)
class TextRowCounts:
    """A corpus's ready figures by the state of their text rows (see figures_without_search_text)."""

    figures: int
    current: int
    #: No row: the text channels cannot find them yet.
    missing: int
    #: A row of another version, or older than a description: searched, but not as it should be.
    outdated: int
    #: Of missing and outdated: rebuild queued and waiting, or lost (the sweep queues them again).
    waiting: int
    lost: int


def search_text_counts_by_corpus(*, sentence_version: str, queued_before: dt.datetime) -> dict[int, TextRowCounts]:
    """Per corpus id, its ready figures by the state of their text rows: one pass over the figures."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT corpus_id, count(*), count(*) FILTER (WHERE NOT needed), count(*) FILTER (WHERE no_row), "
            "count(*) FILTER (WHERE needed AND NOT no_row), count(*) FILTER (WHERE needed AND waiting) "
            f"FROM (SELECT f.corpus_id, s.figure_id IS NULL AS no_row, {_TEXT_ROW_NEEDED} AS needed, "
            f"{_TEXT_ROW_WAITING} AS waiting FROM {_TEXT_ROWS_FROM} WHERE f.status = 'ready') x GROUP BY corpus_id",
            [sentence_version, queued_before],
        )
        return {
            corpus_id: TextRowCounts(figures=total, current=current, missing=missing, outdated=outdated,
                                     waiting=waiting, lost=missing + outdated - waiting)
            for corpus_id, total, current, missing, outdated, waiting in cursor.fetchall()
        }


#: A typed query's parts: a quoted phrase, read whole (a minus inside it is part of the phrase);
#: a term to leave out, a minus sign (or several) directly before a word or a quoted phrase; or a
#: minus standing alone, a separator ("Chair - swivel", a title pasted as the query), which
#: ``websearch_to_tsquery`` would have read as leaving out the next word.
_QUERY_PART = re.compile(r'"[^"]*"?|(?<!\S)-+("[^"]*"?|[^\s"-][^\s"]*)|(?<!\S)-+(?=\s|$)')
#: The most terms a query leaves out (each is a condition of every channel).
MAX_EXCLUDED_TERMS = 16


def split_exclusions(text: str) -> tuple[str, tuple[str, ...]]:
    """A typed query as (what to find, the terms to leave out): ``pillow -cushion`` is
    ("pillow", ("cushion",)), ``chair -"office chair"`` is ("chair", ('"office chair"',)).

    The one reading of "-word" for every channel: the words and the sentence model are asked for
    what to find alone (the sentence vector of "pillow -cushion" lay nearer cushions), and the
    terms to leave out become a filter (``FigureFilters.exclude_words``) that every channel
    obeys, the drawing's too. Splitting what is already split changes nothing."""
    kept: list[str] = []
    excluded: list[str] = []
    start = 0
    for match in _QUERY_PART.finditer(text):
        if match.group(0).startswith('"'):  # a quoted phrase: part of what to find, as typed
            continue
        kept.append(text[start : match.start()])
        term = match.group(1) or ""  # none: a minus standing alone, dropped
        if term.strip('"').strip() and term not in excluded:
            excluded.append(term)
        start = match.end()
    kept.append(text[start:])
    return " ".join("".join(kept).split()), tuple(excluded[:MAX_EXCLUDED_TERMS])


def query_words(text: str) -> list[str]:
    """The words of a query as the prefix channel uses them (letters and digits, lower case)."""
    return [w.lower() for w in _TOKEN.findall(text)][:32]


def fulltext_figures(*, text: str, k: int, filters: FigureFilters | None = None) -> list[Neighbor]:
    """Figures whose texts match the query words: ``websearch_to_tsquery`` (all words, phrases,
    -exclusions) ranked first, then any word as a prefix ("bott" finds "bottle"); English
    stemming on both sides.

    The cover density of the whole query is computed only where the row matches it: elsewhere
    it is 0 for a query without exclusions, and was not 0 for a row holding an excluded word
    ("lamp -shade" raised the rows with both words); and it is the costly part of ranking the
    thousands of rows a frequent word's prefix matches (at 100k figures, "lamp shade" ranks
    16,566: 38 ms with it on every row, 20 ms)."""
    words = query_words(text)
    if not words:
        return []
    prefix = " | ".join(f"{w}:*" for w in words)
    filters = filters or FigureFilters()
    sql = _text_filter_sql(filters)
    where = " AND ".join(sql.where)
    scored = (
        "WITH q AS (SELECT websearch_to_tsquery('english', %s) AS web, to_tsquery('english', %s) AS pre), "
        "scored AS (SELECT s.figure_id, CASE WHEN s.tsv @@ q.web THEN ts_rank_cd(s.tsv, q.web) * 10 ELSE 0 END "
        f"+ ts_rank(s.tsv, q.pre) AS score FROM {TEXT_TABLE} s, q WHERE s.tsv @@ q.web OR s.tsv @@ q.pre"
    )
    passing = ("JOIN retrieval_figure f ON f.id = r.figure_id JOIN retrieval_patent p ON p.id = f.patent_id "
               f"WHERE {where} ORDER BY r.score DESC, r.figure_id LIMIT %s")
    # The best few times k of the text rows alone, then those that pass the filters: a top-N
    # sort of the figure ids and scores, and k look-ups. Joining first made the planner sort
    # every match with its tsvector (at 100k figures, 16,566 rows for "lamp shade", spilled to
    # disk: 30 ms of work in three processes; 20 ms in one).
    best_sql = f"{scored} ORDER BY score DESC, s.figure_id LIMIT %s) SELECT r.figure_id, r.score FROM scored r {passing}"
    # Every match that passes: when a selective filter leaves few, or fewer than k passed.
    passing_sql = f"{scored}) SELECT r.figure_id, r.score FROM scored r {passing}"
    with transaction.atomic(), connection.cursor() as cursor:
        # Through the GIN index, never a scan of every row: a query whose words begin many names
        # ("lamp shade", "mobile phone case") matched a sixth of 100k rows, which the planner read
        # by a parallel sequential scan of the whole table (130 ms; 50 ms through the index).
        cursor.execute("SET LOCAL enable_seqscan = off")
        rows: list[tuple[int, float]] = []
        if not _selective(filters):
            cursor.execute(best_sql, [text, prefix, FULLTEXT_CANDIDATES * int(k), *sql.params, int(k)])
            rows = cursor.fetchall()
        if len(rows) < k:
            cursor.execute(passing_sql, [text, prefix, *sql.params, int(k)])
            rows = cursor.fetchall()
        return [Neighbor(figure_id=row[0], score=float(row[1])) for row in rows]


def trigrams(text: str) -> list[str]:
    """The padded word trigrams of a text, as pg_trgm makes them: lower-case words of letters and
    digits, each padded with two spaces before and one after ("pillow" -> "  p", " pi", "pil",
    "ill", "llo", "low", "ow "); sorted, without repeats."""
    grams = set()
    for word in query_words(text):
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return sorted(grams)


def trigram_figures(*, text: str, k: int, filters: FigureFilters | None = None) -> list[Neighbor]:
    """Figures whose title or object name shares most of the query's word trigrams (the share of
    the query's trigrams found, as pg_trgm's word similarity): forgives misspellings ("pilow")
    and compounds written apart or together ("tooth brush").

    Each distinct name is scored once (retrieval.models.SearchName), then the figures of the
    best names are read through the text rows' index on ``names`` until k pass the filters: at
    100k figures with 20k names, 6-11 ms for the benchmark's queries, where scoring each figure
    took 27-65 ms and joining every matching name's figures before sorting 25-90 ms.

    The names index finds the candidates by the query's rarest trigrams only
    (:func:`_probe_trigrams`): a name that shares at least the threshold's share of the query's
    n trigrams shares one of any n - ceil(threshold * n) + 1 of them, so the answer is the same
    as probing with all; but a word's first trigrams ("  m", " mo") are in most names, and
    probing with them made the database score nearly every one."""
    query = trigrams(text)
    if not query:
        return []
    probe = _probe_trigrams(query)
    sql = _text_filter_sql(filters or FigureFilters())
    query_sql = (
        # Each name that shares a probed trigram, scored once; those that reach the threshold, best first.
        "WITH m AS MATERIALIZED (SELECT n.names, sc.score "
        f"FROM {NAMES_TABLE} n CROSS JOIN LATERAL (SELECT count(*)::float / %s AS score "
        "FROM unnest(n.trigrams) g WHERE g = ANY(%s::text[])) sc "
        "WHERE n.trigrams && %s::text[] AND sc.score >= %s ORDER BY sc.score DESC) "
        # The figures of each name in that order, read name by name until k pass the filters (an
        # incremental sort orders the figures of a score by id and stops the loop at k).
        "SELECT x.figure_id, m.score FROM m CROSS JOIN LATERAL (SELECT s.figure_id "
        f"FROM {TEXT_TABLE} s JOIN retrieval_figure f ON f.id = s.figure_id "
        "JOIN retrieval_patent p ON p.id = f.patent_id "
        f"WHERE s.names = m.names AND {' AND '.join(sql.where)}) x ORDER BY m.score DESC, x.figure_id LIMIT %s"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # By the indexes, never a scan of every row: the planner cannot tell how few names
        # reach the threshold.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(query_sql, [len(query), query, probe, TRIGRAM_THRESHOLD, *sql.params, int(k)])
        return [Neighbor(figure_id=row[0], score=float(row[1])) for row in cursor.fetchall()]


#: How long a process keeps the trigrams' frequencies (PostgreSQL's statistics of the column,
#: refreshed by autovacuum's ANALYZE; they change slowly).
TRIGRAM_STATS_SECONDS = 600.0
#: When read, and {trigram: share of rows}.
_trigram_stats: tuple[float, dict[str, float]] = (float("-inf"), {})


def _probe_trigrams(query: list[str]) -> list[str]:
    """The fewest of the query's trigrams that every name reaching the threshold shares one of
    (n - ceil(threshold * n) + 1 of the n), the rarest first by the column's statistics (a
    trigram the statistics do not list is rarer than every one they do)."""
    need = len(query) - math.ceil(TRIGRAM_THRESHOLD * len(query) - 1e-9) + 1
    shares = _trigram_shares()
    return sorted(query, key=lambda gram: (shares.get(gram, 0.0), gram))[:need]


def _trigram_shares() -> dict[str, float]:
    global _trigram_stats
    now = time.monotonic()
    read_at, shares = _trigram_stats
    if now - read_at < TRIGRAM_STATS_SECONDS:
        return shares
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
            "WHERE schemaname = current_schema() AND tablename = %s AND attname = 'trigrams'",
            [NAMES_TABLE],
        )
        row = cursor.fetchone()
    fresh = dict(zip(row[0], row[1], strict=False)) if row and row[0] else {}
    _trigram_stats = (now, fresh)
    return fresh


def sentence_figures(
    *, query: NDArray[np.float32], k: int, filters: FigureFilters | None = None
) -> list[Neighbor]:
    """Figures whose texts' sentence vector is nearest to the query's (cosine), best first.

    Like the drawing index: an HNSW scan, or an exact scan when a selective filter leaves few
    figures (``_few_pass``)."""
    filters = filters or FigureFilters()
    sql = _text_filter_sql(filters)
    vector = f"%s::vector({SENTENCE_DIM})"
    source = (
        f"FROM {TEXT_TABLE} s JOIN retrieval_figure f ON f.id = s.figure_id "
        "JOIN retrieval_patent p ON p.id = f.patent_id "
        f"WHERE s.sentence IS NOT NULL AND {' AND '.join(sql.where)} "
    )
    select = f"SELECT s.figure_id, -(s.sentence <#> {vector}) AS score " + source
    literal = _literal(query)
    ef = max(int(settings.RETRIEVAL_HNSW_EF_SEARCH), int(k))
    with transaction.atomic(), connection.cursor() as cursor:
        if _few_pass(cursor, "SELECT 1 " + source, sql.params, filters):
            cursor.execute(select + "ORDER BY score DESC, s.figure_id LIMIT %s", [literal, *sql.params, int(k)])
        else:
            _set_scan_options(cursor, ef)
            cursor.execute(select + f"ORDER BY s.sentence <#> {vector} LIMIT %s", [literal, *sql.params, literal, int(k)])
        hits = [Neighbor(figure_id=row[0], score=float(row[1])) for row in cursor.fetchall()]
    return sorted(hits, key=lambda hit: (-hit.score, hit.figure_id))


def figures_not_indexed(*, model: RetrievalModel, filters: FigureFilters | None = None) -> int:
    """Ready figures passing the filters that have no vector under the model yet, so no drawing
    query can find them: a worker is still encoding them, or lost them (the sweep queues them
    again). An exact count: one pass over the figures that pass the filters."""
    return _count_figures_without(
        f"SELECT 1 FROM {TABLE} e WHERE e.figure_id = f.id AND e.model_id = {int(model.id)}", filters)


def figures_without_text_row(*, filters: FigureFilters | None = None) -> int:
    """Ready figures passing the filters that have no text row yet, so the text channels cannot
    find them: a worker is still writing their rows (after an ingest), or lost them (the sweep
    queues them again). An exact count: one pass over the figures that pass the filters."""
    return _count_figures_without(f"SELECT 1 FROM {TEXT_TABLE} s WHERE s.figure_id = f.id", filters)


def _count_figures_without(row_sql: str, filters: FigureFilters | None) -> int:
    """Ready figures (f) passing the filters for which ``row_sql`` finds no row."""
    sql = _text_filter_sql(filters or FigureFilters())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM retrieval_figure f JOIN retrieval_patent p ON p.id = f.patent_id "
            f"WHERE {' AND '.join(sql.where)} AND NOT EXISTS ({row_sql})",
            sql.params,
        )
        return int(cursor.fetchone()[0])


def _text_filter_sql(filters: FigureFilters) -> _Sql:
    """FigureFilters over the figure (f) and patent (p) rows: the text channels' WHERE."""
    sql = _Sql()
    sql.add("f.status = 'ready'")
    return _add_filters(sql, filters, _FIGURE_COLUMNS)
