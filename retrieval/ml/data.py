"""Corpus folders as the ML library sees them: records with labels, splits by patent, digests.

Reads the corpus format of docs/ARCHITECTURE.md (metadata.csv + images + optional
descriptions.jsonl) without Django; names and normalisations come from retrieval.ml.corpus_format,
as they do for the app's ingest. The ingest checks corpora strictly; here a row that cannot be
used (no image_file or patent_id, file missing) raises ValueError naming the row.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from retrieval.ml.corpus_format import (
    DESCRIPTIONS_FILE,
    METADATA_FILE,
    is_true,
    normalise_object_name,
    us_class_main,
)

RELEVANCE_KINDS = ("patent", "object", "locarno", "us_class")


@dataclass(frozen=True)
class Record:
    """One image of a corpus with the labels and texts training and evaluation use."""

    image_path: Path
    image_file: str
    patent_id: str
    figure_id: str = ""
    object_name: str = ""
    title: str = ""
    viewpoint: str = ""
    caption: str = ""
    generated_caption: str = ""
    locarno_class: str = ""
    us_class: str = ""
    us_class_main: str = ""
    is_front_page: bool = False
    descriptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Split:
    train: list[Record]
    test: list[Record]


def read_corpus(root: Path | str, *, descriptions: bool = True) -> list[Record]:
    """All rows of ROOT/metadata.csv as records, with ROOT/descriptions.jsonl texts attached
    unless ``descriptions`` is off (for readers that do not use them, or that rewrite them).

    Raises:
        FileNotFoundError: no metadata.csv.
        ValueError: a row without image_file or patent_id, or whose image file is missing; a
            descriptions.jsonl line that is not an object with image_file and descriptions.
    """
    root = Path(root)
    texts = _read_descriptions(root / DESCRIPTIONS_FILE) if descriptions else {}
    with open(root / METADATA_FILE, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    return [_record(root, row, line, texts) for line, row in enumerate(rows, start=2)]


def _record(root: Path, row: dict[str, str], line: int, descriptions: dict[str, list[str]]) -> Record:
    values = {k.strip(): (v or "").strip() for k, v in row.items() if k}
    image_file, patent_id = values.get("image_file", ""), values.get("patent_id", "")
    if not image_file or not patent_id:
        raise ValueError(f"metadata.csv line {line}: image_file and patent_id are required")
    path = root / image_file
    if not path.is_file():
        raise ValueError(f"metadata.csv line {line}: {image_file} not found")
    us_class = values.get("us_class", "")
    return Record(
        image_path=path, image_file=image_file, patent_id=patent_id,
        figure_id=values.get("figure_id", ""), object_name=values.get("object_name", ""),
        title=values.get("title", ""), viewpoint=values.get("viewpoint", ""),
        caption=values.get("caption", ""), generated_caption=values.get("generated_caption", ""),
        locarno_class=values.get("locarno_class", ""), us_class=us_class,
        us_class_main=us_class_main(us_class, values.get("us_class_main", "")),
        is_front_page=is_true(values.get("is_front_page", "")),
        descriptions=tuple(descriptions.get(image_file, ())),
    )


def _read_descriptions(path: Path) -> dict[str, list[str]]:
    if not path.exists():
        return {}
    texts: dict[str, list[str]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"descriptions.jsonl line {number}: not JSON ({exc.msg})") from exc
        if not isinstance(item, dict) or not isinstance(item.get("descriptions"), list) or "image_file" not in item:
            raise ValueError(
                f"descriptions.jsonl line {number}: expected an object with image_file and a "
                "list of descriptions"
            )
        texts.setdefault(str(item["image_file"]), []).extend(str(t) for t in item["descriptions"])
    return texts


def label(record: Record, relevance: str) -> str:
    """The record's label under a relevance kind; '' when the record has none."""
    if relevance == "patent":
        return record.patent_id
    if relevance == "object":
        return normalise_object_name(record.object_name)
    if relevance == "locarno":
        return record.locarno_class
    if relevance == "us_class":
        return record.us_class_main
    raise ValueError(f"unknown relevance {relevance!r}: choose one of {', '.join(RELEVANCE_KINDS)}")


def split_by_patent(records: Sequence[Record], *, test_fraction: float = 0.3, seed: int = 0) -> Split:
    """A deterministic split in which all images of a patent fall on the same side.

    A patent goes to test when a hash of (seed, patent_id) falls below test_fraction, so adding
    or removing other patents never moves it (see :func:`select_split`).
    """
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError("test_fraction must be between 0 and 1")
    return Split(
        train=select_split(records, "train", test_fraction=test_fraction, seed=seed),
        test=select_split(records, "test", test_fraction=test_fraction, seed=seed),
    )


def select_split(
    records: Sequence[Record], split: str, *, test_fraction: float = 0.3, seed: int = 0,
    val_fraction: float = 0.0,
) -> list[Record]:
    """'all', 'train', 'val' or 'test' side of split_by_patent.

    With ``val_fraction`` > 0 the patents whose hash falls in [test_fraction, test_fraction +
    val_fraction) form 'val' and leave 'train'; 'test' is the same with or without it, so
    choices made on 'val' never touch the test patents.
    """
    if split == "all":
        return list(records)
    if not 0.0 <= val_fraction <= 1.0 - test_fraction:
        raise ValueError("val_fraction must be between 0 and 1 - test_fraction")
    if split not in {"train", "val", "test"}:
        raise ValueError(f"unknown split {split!r}: choose all, train, val or test")
    return [r for r in records if patent_side(r.patent_id, test_fraction=test_fraction, seed=seed,
                                              val_fraction=val_fraction) == split]


def patent_side(patent_id: str, *, test_fraction: float = 0.3, seed: int = 0, val_fraction: float = 0.0) -> str:
    """'train', 'val' or 'test': the side of the split a patent falls on (see :func:`select_split`)."""
    value = _unit_hash(f"{seed}:{patent_id}")
    if value < test_fraction:
        return "test"
    return "val" if value < test_fraction + val_fraction else "train"


def _unit_hash(text: str) -> float:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64


def data_digest(records: Iterable[Record]) -> str:
    """A short digest of which images (by path and labels) a model was trained on."""
    digest = hashlib.sha256()
    for r in sorted(records, key=lambda r: r.image_file):
        digest.update(f"{r.image_file}|{r.patent_id}|{r.us_class_main}|{r.locarno_class}\n".encode())
    return digest.hexdigest()[:16]
