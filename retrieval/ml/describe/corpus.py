"""Describing every image of a corpus folder into a descriptions.jsonl file."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from retrieval.ml.data import Record, read_corpus
from retrieval.ml.describe.backend import DescriptionBackend
from retrieval.ml.describe.cache import DescriptionCache, describe_cached
from retrieval.ml.describe.errors import DescriptionFormatError
from retrieval.ml.describe.prompt import FIELD_NAMES


@dataclass(frozen=True)
class RowFailure:
    """An image that got no descriptions, and why."""

    image_file: str
    reason: str


@dataclass(frozen=True)
class CorpusDescription:
    """What :func:`describe_corpus` did."""

    out_path: Path
    written: int
    from_cache: int
    failures: tuple[RowFailure, ...]


def record_metadata(record: Record) -> dict[str, str]:
    """The metadata fields of a corpus record that descriptions are written from."""
    return {name: str(getattr(record, name)) for name in FIELD_NAMES}


def describe_corpus(
    corpus_dir: Path | str,
    backend: DescriptionBackend,
    n: int,
    out_path: Path | str,
    cache: DescriptionCache | None = None,
    *,
    progress: bool = True,
) -> CorpusDescription:
    """Write ``{"image_file": ..., "descriptions": [...]}`` per image of the corpus to out_path.

    An image whose descriptions fail (the model gave no valid answer in its attempts, or the
    row has no usable metadata) gets no line; it is reported on stderr and in the result's
    ``failures``. A backend that cannot work (unreachable after retries, misconfigured) stops
    the run: out_path is left as it was and what was answered stays in the cache. The file is
    written under a temporary name and renamed when complete.

    Raises:
        FileNotFoundError / ValueError: the corpus cannot be read (see ``read_corpus``).
        DescriptionBackendError: the backend failed as a whole.
    """
    records = read_corpus(corpus_dir, descriptions=False)  # the file this run rewrites
    out_path = Path(out_path)
    partial = out_path.with_name(out_path.name + ".partial")
    try:
        result = _write(records, backend, n, partial, cache, progress)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, out_path)
    return CorpusDescription(out_path, *result)


def _write(
    records: list[Record],
    backend: DescriptionBackend,
    n: int,
    path: Path,
    cache: DescriptionCache | None,
    progress: bool,
) -> tuple[int, int, tuple[RowFailure, ...]]:
    written = from_cache = 0
    failures: list[RowFailure] = []
    path.parent.mkdir(parents=True, exist_ok=True)
    bar = tqdm(records, unit="img", desc=f"Describing ({backend.name})", disable=not progress)
    with open(path, "w", encoding="utf-8") as out, bar:
        for record in bar:
            try:
                texts, cached = describe_cached(backend, record_metadata(record), n, cache)
            except (DescriptionFormatError, ValueError) as exc:
                failures.append(RowFailure(record.image_file, str(exc)))
                tqdm.write(f"failed: {record.image_file}: {exc}", file=sys.stderr)
                bar.set_postfix(failed=len(failures), refresh=False)
                continue
            line = {"image_file": record.image_file, "descriptions": texts}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            written, from_cache = written + 1, from_cache + int(cached)
    return written, from_cache, tuple(failures)
