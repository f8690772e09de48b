"""Test drawings made in memory (after Wagtail's get_test_image_file): no binary fixtures."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from retrieval.ml.corpus_format import DESCRIPTIONS_FILE, METADATA_FILE


def drawing(seed: int, size: tuple[int, int] = (320, 240), mode: str = "L") -> Image.Image:
    """A distinct black-on-white line drawing for each seed."""
    rng = np.random.default_rng(seed)
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    w, h = size
    for _ in range(int(rng.integers(3, 7))):
        x0, y0 = rng.integers(10, w // 2), rng.integers(10, h // 2)
        x1, y1 = x0 + rng.integers(20, w // 2 - 10), y0 + rng.integers(20, h // 2 - 10)
        shape = int(rng.integers(0, 3))
        box = (int(x0), int(y0), int(x1), int(y1))
        width = int(rng.integers(1, 4))
        if shape == 0:
            draw.rectangle(box, outline=0, width=width)
        elif shape == 1:
            draw.ellipse(box, outline=0, width=width)
        else:
            draw.line(box, fill=0, width=width)
    return image.convert(mode)


def png_bytes(image: Image.Image, fmt: str = "PNG", **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def write_corpus(
    root: Path,
    rows: Sequence[dict[str, str]],
    *,
    images: dict[str, bytes] | None = None,
    descriptions: Sequence[dict[str, object]] | None = None,
) -> Path:
    """Write metadata.csv (+ images, + descriptions.jsonl) in the corpus format."""
    root.mkdir(parents=True, exist_ok=True)
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    with open(root / METADATA_FILE, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    for name, data in (images or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    if descriptions:
        with open(root / DESCRIPTIONS_FILE, "w") as f:
            f.writelines(json.dumps(d) + "\n" for d in descriptions)
    return root


def small_corpus(root: Path, *, patents: int = 4, views: int = 3, seed: int = 0) -> Path:
    """patents × views distinct drawings with full metadata, over two US classes."""
    rows, images = [], {}
    for p in range(patents):
        patent_id = f"USD{800000 + seed * 1000 + p}"
        for v in range(views):
            name = f"images/{patent_id}-{v + 1}.png"
            images[name] = png_bytes(drawing(seed * 10_000 + p * 100 + v))
            rows.append({
                "image_file": name, "patent_id": patent_id, "figure_id": str(v + 1),
                "title": f"Widget {p}", "object_name": "widget", "viewpoint": "front",
                "caption": f"FIG. {v + 1} is a front view of a widget;",
                "us_class": "D14/486" if p % 2 else "D21/500", "locarno_class": "14-04" if p % 2 else "21-01",
                "grant_date": f"20{10 + p:02d}0105",
            })
    return write_corpus(root, rows, images=images)


def articles_corpus(
    root: Path, articles: Sequence[tuple[str, str]], *, views: int, descriptions: bool = False
) -> Path:
    """One patent per (title, US class) article (USD700000, USD700001, ...), ``views`` distinct
    drawings each; with ``descriptions``, two short texts per drawing that name the article."""
    rows, images, texts = [], {}, []
    for p, (title, us_class) in enumerate(articles):
        for v in range(views):
            name = f"images/P{p}-{v}.png"
            images[name] = png_bytes(drawing(p * 100 + v))
            rows.append({"image_file": name, "patent_id": f"USD70000{p}", "title": title,
                         "object_name": title.lower(), "us_class": us_class})
            texts.append({"image_file": name, "descriptions": [f"a {title.lower()}", f"{title} drawing"]})
    return write_corpus(root, rows, images=images, descriptions=texts if descriptions else None)


#: The query drawing of class_focus_corpus: the first view of its three D21 patents.
FOCUS_QUERY_SEED = 4242


def class_focus_corpus(root: Path) -> Path:
    """Six patents (USD900000-USD900005), two views each: the first three of US class D21 and
    Locarno 21-01, each with the query drawing ``drawing(FOCUS_QUERY_SEED)`` as FIG. 1 (so they
    are the three best hits, whatever the model, and vote for their classes alone) and an
    unrelated FIG. 2; the last three of D14 / 14-04 with two unrelated views. With the class
    focus on, every D21 figure ranks above every D14 one."""
    rows, images = [], {}
    for p in range(6):
        patent_id = f"USD{900000 + p}"
        for v in range(2):
            name = f"images/{patent_id}-{v + 1}.png"
            seed = FOCUS_QUERY_SEED if p < 3 and v == 0 else 5000 + p * 10 + v
            images[name] = png_bytes(drawing(seed))
            rows.append({
                "image_file": name, "patent_id": patent_id, "figure_id": str(v + 1),
                "title": f"Article {p}", "object_name": "article", "viewpoint": "front",
                "us_class": "D21/500" if p < 3 else "D14/486", "locarno_class": "21-01" if p < 3 else "14-04",
                "grant_date": f"20{10 + p:02d}0105",
            })
    return write_corpus(root, rows, images=images)
