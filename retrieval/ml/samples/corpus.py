"""Writes a synthetic design-patent corpus: metadata.csv, images/<patent>/*.png, README.txt."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.ml.corpus_format import KNOWN_COLUMNS, METADATA_FILE
from retrieval.ml.samples.categories import Category, sample_category
from retrieval.ml.samples.render import VIEWS, Style, edge_table, projected_bounds, view_basis
from retrieval.ml.samples.sheet import figure_image, png_bytes, view_scales
from retrieval.ml.samples.variation import chance, pick, u

#: The corpus format's columns but generated_caption (none is generated here), and synonyms (extra).
COLUMNS: tuple[str, ...] = (*(c for c in KNOWN_COLUMNS if c != "generated_caption"), "synonyms")
ID_PREFIX = "USD9"  # real US design patents are far below D9,000,000
MAX_PATENTS = 999_999
FIRST_GRANT = dt.date(2000, 1, 4)  # a Tuesday: US patents are granted on Tuesdays
LAST_GRANT = dt.date(2024, 12, 31)
DEFAULT_IMAGE_SIZE = 640
README = """Synthetic design-patent corpus made by `python -m retrieval.ml.samples`.

Every drawing, title, caption, class and date here is generated: the objects are random
instances of simple 3-D templates drawn as hidden-line views. Patent numbers start with
USD9 and the seed, so that they cannot collide with real US design patents or
with another seed's corpus. Nothing here is copied from
a real patent. Same seed, same files.
"""


@dataclass(frozen=True)
class CorpusSummary:
    """What generate_corpus wrote."""

    out_dir: Path
    patents: int
    figures: int
    categories: tuple[str, ...]  # object names used, sorted
    category_counts: tuple[tuple[str, int], ...]  # most frequent first
    elapsed_seconds: float


@dataclass(frozen=True)
class PatentPlan:
    """Everything about one synthetic patent except its geometry."""

    patent_id: str
    category: Category
    title: str
    grant_date: str
    style: Style
    azimuth: float
    elevation: float
    first_caption: str


def _grant_date(rng: np.random.Generator) -> str:
    weeks = (LAST_GRANT - FIRST_GRANT).days // 7
    return (FIRST_GRANT + dt.timedelta(weeks=int(rng.integers(weeks + 1)))).strftime("%Y%m%d")


def _article(name: str) -> str:
    lower = name.lower()
    vowel = lower[0] in "aeio" or (lower[0] == "u" and not lower.startswith(("us", "uni")))
    return "an" if vowel else "a"


def _caption_name(title: str) -> str:
    return title if title[:2].isupper() else title[0].lower() + title[1:]


def sample_patent_id(seed: int, index: int) -> str:
    """USD9 + the seed (mod 1000, 3 digits) + the 1-based index (6 digits): corpora made with
    different seeds can be ingested side by side without their patent ids colliding."""
    return f"{ID_PREFIX}{seed % 1000:03d}{index + 1:06d}"


def plan_patent(seed: int, index: int) -> tuple[PatentPlan, np.random.Generator]:
    """The plan of patent index (0-based), and the generator that then builds its shape.

    Each patent has its own generator seeded from (seed, index), so patent i is the same
    whatever the size of the corpus.
    """
    rng = np.random.default_rng([seed, index])
    category = sample_category(rng)
    title = category.titles[0] if chance(rng, 0.55) else pick(rng, category.titles)
    name = _caption_name(title)
    first = pick(rng, (
        f"of {_article(name)} {name} showing our new design",
        f"of {_article(name)} {name} showing my new design",
        f"of an ornamental design for {_article(name)} {name}",
        f"of {_article(name)} {name} according to the present design",
    ))
    style = Style(outline=u(rng, 1.2, 1.7), detail=u(rng, 0.9, 1.15), shading=chance(rng, 0.7))
    side = pick(rng, (-1.0, 1.0))
    plan = PatentPlan(
        patent_id=sample_patent_id(seed, index), category=category, title=title,
        grant_date=_grant_date(rng), style=style, azimuth=side * u(rng, 25.0, 50.0),
        elevation=u(rng, 15.0, 35.0), first_caption=first,
    )
    return plan, rng


def caption(plan: PatentPlan, view: str, number: int, last: bool) -> str:
    """The patent-style description of one figure."""
    subject = plan.first_caption if number == 1 else "thereof"
    return f"FIG. {number} is a {view} view {subject}{'.' if last else ';'}"


def write_patent(out_dir: Path, plan: PatentPlan, rng: np.random.Generator,
                 views: Sequence[str], image_size: int) -> list[dict[str, str]]:
    """Build the patent's object, write one PNG per view, return its metadata rows."""
    mesh = plan.category.build(rng)
    table = edge_table(mesh)
    folder = out_dir / "images" / plan.patent_id
    folder.mkdir(parents=True, exist_ok=True)
    bases = [view_basis(v, azimuth=plan.azimuth, elevation=plan.elevation) for v in views]
    scales = view_scales([projected_bounds(mesh, b) for b in bases], image_size)
    rows = []
    for number, (view, basis, scale) in enumerate(zip(views, bases, scales, strict=True), 1):
        image = figure_image(mesh, table, basis, number=number, image_size=image_size,
                             style=plan.style, scale=scale)
        name = f"{plan.patent_id}-D{number:05d}.png"
        (folder / name).write_bytes(png_bytes(image))
        rows.append(_row(plan, f"images/{plan.patent_id}/{name}", view, number,
                         caption(plan, view, number, number == len(views))))
    return rows


def _row(plan: PatentPlan, image_file: str, view: str, number: int,
         text: str) -> dict[str, str]:
    c = plan.category
    return {
        "image_file": image_file, "patent_id": plan.patent_id, "figure_id": str(number),
        "object_name": c.name, "title": plan.title, "viewpoint": view, "caption": text,
        "locarno_class": c.locarno_class, "us_class": c.us_class,
        "us_class_main": c.us_class_main, "grant_date": plan.grant_date, "is_front_page": "0",
        "synonyms": ";".join(c.synonyms),
    }


def _checked_views(views: Sequence[str] | None) -> tuple[str, ...]:
    if views is None:
        return VIEWS
    chosen = tuple(views)
    unknown = [v for v in chosen if v not in VIEWS]
    if not chosen or unknown or len(set(chosen)) != len(chosen):
        raise ValueError(f"views must be distinct names from {VIEWS}; got {list(chosen)}")
    return chosen


def _check(patents: int, seed: int, image_size: int) -> None:
    if not 1 <= patents <= MAX_PATENTS:
        raise ValueError(f"patents must be between 1 and {MAX_PATENTS}, got {patents}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    if not 128 <= image_size <= 4096:
        raise ValueError(f"image_size must be between 128 and 4096, got {image_size}")


def _metadata_csv(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def generate_corpus(
    out_dir: Path,
    *,
    patents: int = 100,
    seed: int = 0,
    views: Sequence[str] | None = None,
    image_size: int = DEFAULT_IMAGE_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> CorpusSummary:
    """Write a synthetic corpus of `patents` design patents, one figure per view, to out_dir.

    The same arguments give byte-identical files, and patent i is the same whatever
    `patents` is. Files of the same names already in out_dir are overwritten. progress, if
    given, is called with (patents done, patents in all) after each patent.
    """
    started = time.perf_counter()
    chosen = _checked_views(views)
    _check(patents, seed, image_size)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, str]] = []
    counts: Counter[str] = Counter()
    for index in range(patents):
        plan, rng = plan_patent(seed, index)
        rows += write_patent(out_dir, plan, rng, chosen, image_size)
        counts[plan.category.name] += 1
        if progress is not None:
            progress(index + 1, patents)
    (out_dir / METADATA_FILE).write_text(_metadata_csv(rows), encoding="utf-8", newline="")
    (out_dir / "README.txt").write_text(README, encoding="utf-8", newline="")
    ranked = tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    return CorpusSummary(out_dir, patents, len(rows), tuple(sorted(counts)), ranked,
                         time.perf_counter() - started)
