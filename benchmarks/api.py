"""What an examiner waits for: image and text queries through POST /api/v1/search/.

The requests go through Django's full stack in this process (middleware, authentication, DRF
parsing and validation, the search service, serialisation) with the active model warm; the
stages are also timed on their own with the same inputs, so the table shows where time goes.
The client is Django's test client (no socket): add the HTTP server's own overhead (~1 ms on
loopback) for a browser's view.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from benchmarks.common import percentiles_ms, report
from retrieval import index, inference
from retrieval.images import open_query_image
from retrieval.selectors.models import model_get_active

TEXT_QUERIES = ("chair with armrests", "bottle", "lamp shade", "mobile phone case", "shoe sole")


def drawing_page(sample_dir: Path) -> bytes:
    """A full drawing page (~1,000 x 1,400 px PNG) made from a generated drawing."""
    drawing = Image.open(next(iter(sorted(sample_dir.rglob("*.png"))))).convert("L")
    page = Image.new("L", (1000, 1400), 255)
    scaled = drawing.resize((900, int(900 * drawing.height / drawing.width)))
    page.paste(scaled, (50, max(0, (1400 - scaled.height) // 2)))
    out = io.BytesIO()
    page.save(out, format="PNG", optimize=True)
    return out.getvalue()


def run(*, page: bytes, queries: int, client: Client, results: dict[str, object]) -> None:
    model = model_get_active()
    print(f"API queries ({queries} each, model {model.name}, k=20, through POST /api/v1/search/)", flush=True)
    for i in range(3):  # warm-up: model, connections, caches
        _post(client, _image_form(page, i))
        _post(client, {"text": TEXT_QUERIES[i % len(TEXT_QUERIES)], "k": 20})
    # Requests and their stages alternate, so that both see the same machine load.
    image_s, text_s, stages = [], [], {"decode": [], "encode": [], "ann": []}
    for i in range(queries):
        image_s.append(_timed(lambda i=i: _post(client, _image_form(page, i))))
        text_s.append(_timed(lambda i=i: _post(client, {"text": TEXT_QUERIES[i % len(TEXT_QUERIES)], "k": 20})))
        box: dict[str, object] = {}
        stages["decode"].append(_timed(lambda box=box: box.update(image=open_query_image(
            page, max_pixels=settings.RETRIEVAL_MAX_IMAGE_PIXELS, pdf_dpi=settings.RETRIEVAL_PDF_DPI))))
        stages["encode"].append(_timed(lambda box=box: box.update(
            vector=inference.embed_images(model.checkpoint, [box["image"]])[0])))
        stages["ann"].append(_timed(lambda box=box: index.nearest_figures(model=model, query=box["vector"], k=20)))
    image_p, text_p = percentiles_ms(image_s), percentiles_ms(text_s)
    split = {name: percentiles_ms(values)["p50"] for name, values in stages.items()}
    split["fetch_serialise_and_rest"] = round(image_p["p50"] - sum(split.values()), 2)
    for q in ("p50", "p95", "p99"):
        report(f"image query end to end {q}", image_p[q], "ms")
    for name, value in split.items():
        report(f"  of which {name} (p50)", value, "ms")
    for q in ("p50", "p95", "p99"):
        report(f"text query end to end {q}", text_p[q], "ms")
    results.update({
        "api_image_query_p50_ms": image_p["p50"], "api_image_query_p95_ms": image_p["p95"],
        "api_image_query_p99_ms": image_p["p99"], "api_image_query_split_p50_ms": split,
        "api_text_query_p50_ms": text_p["p50"], "api_text_query_p95_ms": text_p["p95"],
        "api_text_query_p99_ms": text_p["p99"],
    })


def _image_form(page: bytes, i: int) -> dict[str, object]:
    return {"image": SimpleUploadedFile(f"q{i}.png", page, content_type="image/png"), "k": 20}


def _timed(call) -> float:  # noqa: ANN001
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _post(client: Client, data: dict) -> None:
    response = client.post("/api/v1/search/", data, secure=True)
    if response.status_code != 200:
        raise RuntimeError(f"search answered {response.status_code}: {response.content[:300]!r}")
    response.json()
