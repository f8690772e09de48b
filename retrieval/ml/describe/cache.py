"""A file cache of descriptions, so that rerunning over a corpus asks the model nothing twice.

Keys are sha256 digests of (backend name, model, prompt version, the metadata fields used, n):
changing any of these asks again. The file is JSON lines, ``{"key": ..., "descriptions":
[...]}``, appended as answers arrive, so an interrupted run keeps what it had paid for.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path

from retrieval.ml.describe.backend import DescriptionBackend
from retrieval.ml.describe.prompt import PROMPT_VERSION, present_fields

logger = logging.getLogger(__name__)


def cache_key(backend: DescriptionBackend, metadata: Mapping[str, str], n: int) -> str:
    """The sha256 hex digest that identifies one request."""
    payload = {
        "backend": backend.name,
        "model": backend.model,
        "prompt": PROMPT_VERSION,
        "metadata": present_fields(metadata),
        "n": n,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


class DescriptionCache:
    """Descriptions by request key, kept in a JSON-lines file (created on first write).

    A line that cannot be read (a run killed mid-write) is skipped with a warning.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._entries = self._read()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> list[str] | None:
        """The cached descriptions, or None."""
        found = self._entries.get(key)
        return list(found) if found is not None else None

    def put(self, key: str, descriptions: list[str]) -> None:
        """Remember and append to the file at once."""
        self._entries[key] = list(descriptions)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(
                json.dumps({"key": key, "descriptions": descriptions}, ensure_ascii=False) + "\n"
            )

    def _read(self) -> dict[str, list[str]]:
        entries: dict[str, list[str]] = {}
        if not self.path.exists():
            return entries
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                item = json.loads(line)
                entries[str(item["key"])] = [str(t) for t in item["descriptions"]]
            except (ValueError, KeyError, TypeError):
                if line.strip():
                    logger.warning("%s line %d is not a cache entry; ignored", self.path, number)
        return entries


def describe_cached(
    backend: DescriptionBackend,
    metadata: Mapping[str, str],
    n: int,
    cache: DescriptionCache | None,
) -> tuple[list[str], bool]:
    """Descriptions from the cache, else from the backend (then cached).

    Returns:
        (descriptions, True when they came from the cache).
    """
    if cache is None:
        return backend.describe(metadata, n), False
    key = cache_key(backend, metadata, n)
    found = cache.get(key)
    if found is not None:
        return found, True
    descriptions = backend.describe(metadata, n)
    cache.put(key, descriptions)
    return descriptions, False
