"""Parsing and checking metadata.csv and descriptions.jsonl of a corpus, row by row.

The strict reader of the corpus format; names and normalisations come from its one owner,
retrieval.ml.corpus_format, which the ML library's lenient reader uses too.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from typing import NamedTuple

from retrieval.exceptions import CorpusProblem
from retrieval.ingest.corpus_source import UnsafePathError, safe_relpath
from retrieval.ml.corpus_format import (
    DESCRIPTIONS_FILE,
    KNOWN_COLUMNS,
    METADATA_FILE,
    REQUIRED_COLUMNS,
    is_flag,
    is_true,
    parse_grant_date,
    us_class_main,
)
from retrieval.models import Figure, Patent


@dataclass(frozen=True)
class PatentFields:
    title: str = ""
    object_name: str = ""
    locarno_class: str = ""
    us_class: str = ""
    us_class_main: str = ""
    grant_date: dt.date | None = None
    grant_date_is_year_only: bool = False


@dataclass(frozen=True)
class FigureRow:
    """One checked row of metadata.csv."""

    line: int
    image_file: str
    patent_id: str
    figure_label: str  # the figure_id column: a label such as "1" (FIG. 1), not a key
    patent: PatentFields
    viewpoint: str = ""
    caption: str = ""
    generated_caption: str = ""
    is_front_page: bool = False
    extra: dict[str, str] = field(default_factory=dict)


class MetadataTable(NamedTuple):
    """metadata.csv, checked: the good rows, every problem, and the files of the refused rows."""

    rows: list[FigureRow]
    problems: list[CorpusProblem]
    #: (line, image_file) of each row refused for its metadata whose path is usable (safe, listed
    #: once): ingest checks those images too, so one upload names every fault of a row.
    refused_files: list[tuple[int, str]]


def parse_metadata(data: bytes) -> MetadataTable:
    """Every row of metadata.csv, checked; problems name the line and the reason."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return MetadataTable([], [CorpusProblem(METADATA_FILE, f"not UTF-8 text ({exc.reason} at byte {exc.start})")], [])
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        return MetadataTable([], [CorpusProblem(METADATA_FILE, f"missing required column(s): {', '.join(missing)}")], [])
    reader.fieldnames = header
    table = MetadataTable([], [], [])
    seen: dict[str, int] = {}
    try:
        for raw in reader:
            row, row_problems, usable_file = _parse_row(raw, reader.line_num, seen)
            table.problems.extend(row_problems)
            if row is not None:
                table.rows.append(row)
            elif usable_file:
                table.refused_files.append((reader.line_num, usable_file))
    except csv.Error as exc:
        table.problems.append(CorpusProblem(f"{METADATA_FILE} line {reader.line_num}", f"malformed CSV: {exc}"))
    if not table.rows and not table.problems:
        table.problems.append(CorpusProblem(METADATA_FILE, "no rows: the corpus has no figures"))
    return table


def _parse_row(
    raw: dict[str | None, str | list[str] | None], line: int, seen: dict[str, int]
) -> tuple[FigureRow | None, list[CorpusProblem], str]:
    """The row or its problems, and its image file where the path is usable (for a refused row)."""
    where = f"{METADATA_FILE} line {line}"
    if None in raw:
        return None, [CorpusProblem(where, "row has more fields than the header")], ""
    if any(value is None for value in raw.values()):
        return None, [CorpusProblem(where, "row has fewer fields than the header")], ""
    values = {str(k): str(v).strip() for k, v in raw.items()}
    problems = []
    usable_file = ""
    image_file = values.get("image_file", "")
    if not image_file:
        problems.append(CorpusProblem(where, "image_file is empty"))
    else:
        try:
            image_file = safe_relpath(image_file)
        except UnsafePathError as exc:
            problems.append(CorpusProblem(where, str(exc)))
        else:
            if image_file in seen:
                problems.append(CorpusProblem(where, f"{image_file} is listed twice (also line {seen[image_file]})"))
            else:
                usable_file = image_file
            seen.setdefault(image_file, line)
    if not values.get("patent_id"):
        problems.append(CorpusProblem(where, "patent_id is empty"))
    grant, year_only, date_problem = parse_grant_date(values.get("grant_date", ""))
    if date_problem:
        problems.append(CorpusProblem(where, date_problem))
    front = values.get("is_front_page", "")
    if not is_flag(front):
        problems.append(CorpusProblem(where, f"is_front_page {front.lower()!r} is not 0 or 1"))
    if problems:
        return None, problems, usable_file
    row = _build_row(values, line, image_file, grant, year_only, is_true(front))
    return (None, problems, usable_file) if (problems := _too_long(row, where)) else (row, [], "")


def _too_long(row: FigureRow, where: str) -> list[CorpusProblem]:
    """Values longer than their database column (the models own the limits)."""
    values = {
        (Patent, "patent_id"): row.patent_id,
        (Figure, "figure_label"): row.figure_label,
        (Figure, "source_file"): row.image_file,
        (Figure, "viewpoint"): row.viewpoint,
        **{(Patent, name): getattr(row.patent, name) for name in _PATENT_TEXT_FIELDS},
    }
    problems = []
    for (model, name), value in values.items():
        limit = model._meta.get_field(name).max_length
        if limit and len(value) > limit:
            column = _COLUMN_OF_FIELD.get(name, name)
            problems.append(CorpusProblem(where, f"{column} is {len(value)} characters long; at most {limit} fit"))
    return problems


_COLUMN_OF_FIELD = {"source_file": "image_file", "figure_label": "figure_id"}  # metadata.csv names
_PATENT_TEXT_FIELDS = ("title", "object_name", "locarno_class", "us_class", "us_class_main")


def _build_row(
    values: dict[str, str], line: int, image_file: str, grant: dt.date | None, year_only: bool, front: bool
) -> FigureRow:
    us_class = values.get("us_class", "")
    patent = PatentFields(
        title=values.get("title", ""),
        object_name=values.get("object_name", ""),
        locarno_class=values.get("locarno_class", ""),
        us_class=us_class,
        us_class_main=us_class_main(us_class, values.get("us_class_main", "")),
        grant_date=grant,
        grant_date_is_year_only=year_only,
    )
    extra = {k: v for k, v in values.items() if k not in KNOWN_COLUMNS and v}
    return FigureRow(
        line=line,
        image_file=image_file,
        patent_id=values["patent_id"],
        figure_label=values.get("figure_id", ""),
        patent=patent,
        viewpoint=values.get("viewpoint", ""),
        caption=values.get("caption", ""),
        generated_caption=values.get("generated_caption", ""),
        is_front_page=front,
        extra=extra,
    )


def parse_descriptions(data: bytes, known_files: set[str]) -> tuple[dict[str, list[str]], list[CorpusProblem]]:
    """descriptions.jsonl: image_file -> LLM descriptions; each bad line is a problem."""
    result: dict[str, list[str]] = {}
    problems = []
    for number, line in enumerate(data.decode("utf-8-sig", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{DESCRIPTIONS_FILE} line {number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(CorpusProblem(where, f"not valid JSON ({exc.msg})"))
            continue
        problem = _check_description(item, known_files)
        if problem:
            problems.append(CorpusProblem(where, problem))
            continue
        result.setdefault(safe_relpath(item["image_file"]), []).extend(item["descriptions"])
    return result, problems


def _check_description(item: object, known_files: set[str]) -> str:
    if not isinstance(item, dict) or not isinstance(item.get("image_file"), str):
        return 'expected an object with "image_file" and "descriptions"'
    texts = item.get("descriptions")
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        return '"descriptions" must be a list of strings'
    try:
        image_file = safe_relpath(item["image_file"])
    except UnsafePathError as exc:
        return str(exc)
    if image_file not in known_files:
        return f"{image_file} is not in {METADATA_FILE}"
    return ""
