"""Full drawing pages, folder to searchable: multi-page 1-bit TIFF (CCITT G4) and PDF sheets at
300 dpi, as patent offices keep them, through validation, ingest and encoding."""

from __future__ import annotations

import csv
from pathlib import Path

from PIL import Image

from benchmarks.common import report, timed
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.ml.corpus_format import METADATA_FILE
from retrieval.models import Figure, RetrievalModel
from retrieval.services.encoding import figure_encode_batch

PAGE = (2550, 3300)  # US Letter at 300 dpi
PAGES_PER_FILE = 3


def make_sheets(drawings: list[Path], out: Path, *, files: int) -> int:
    """``files`` documents of PAGES_PER_FILE pages, alternately TIFF and PDF; returns the page count."""
    (out / "sheets").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(files):
        pages = [_page(drawings[(i * PAGES_PER_FILE + p) % len(drawings)], i, p) for p in range(PAGES_PER_FILE)]
        name = f"sheets/D{i:05d}.{'tif' if i % 2 == 0 else 'pdf'}"
        if i % 2 == 0:
            pages[0].save(out / name, format="TIFF", compression="group4", save_all=True,
                          append_images=pages[1:], dpi=(300, 300))
        else:
            pages[0].save(out / name, format="PDF", save_all=True, append_images=pages[1:], resolution=300)
        rows.append({"image_file": name, "patent_id": f"USDPAGES{i:05d}", "title": "Benchmark sheet"})
    with open(out / METADATA_FILE, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["image_file", "patent_id", "title"])
        writer.writeheader()
        writer.writerows(rows)
    return files * PAGES_PER_FILE


def _page(drawing: Path, i: int, p: int) -> Image.Image:
    art = Image.open(drawing).convert("L")
    scale = min((PAGE[0] - 400) / art.width, (PAGE[1] - 600) / art.height)
    art = art.resize((int(art.width * scale), int(art.height * scale)))
    page = Image.new("L", PAGE, 255)
    page.paste(art, ((PAGE[0] - art.width) // 2, 300))
    return page.point(lambda v: 255 if v > 160 else 0).convert("1")


def run(*, model: RetrievalModel, drawings: list[Path], work: Path, files: int, results: dict[str, object]) -> None:
    pages = make_sheets(drawings, work, files=files)
    size_mb = sum(f.stat().st_size for f in (work / "sheets").iterdir()) / 1024**2
    print(f"Drawing pages: {files} files ({pages} pages at 300 dpi, {size_mb:.1f} MB, TIFF G4 and PDF), "
          "folder to searchable", flush=True)
    with timed() as ingest_t:
        result = corpus_ingest(path=work, name="bench-pages")
    ids = list(Figure.objects.filter(corpus_id=result.corpus_id).order_by("pk").values_list("pk", flat=True))
    with timed() as encode_t:
        for start in range(0, len(ids), 32):
            figure_encode_batch(figure_ids=ids[start : start + 32], model_id=model.pk)
    total = ingest_t[0] + encode_t[0]
    report(f"ingest (validate, decode every page, store): {len(ids)} pages", len(ids) / ingest_t[0], "pages/s")
    report("encode the pages", len(ids) / encode_t[0], "pages/s")
    report("folder to searchable", len(ids) / total, "pages/s")
    results.update({"ingest_pages_per_s": round(len(ids) / total, 2),
                    "ingest_only_pages_per_s": round(len(ids) / ingest_t[0], 2),
                    "encode_pages_per_s": round(len(ids) / encode_t[0], 2), "pages": len(ids)})
