"""What an examiner waits for: image and text queries through POST /api/v1/search/.

The requests go through Django's full stack in this process (middleware, authentication, DRF
parsing and validation, the search service, serialisation) with the active model warm; the
stages are also timed on their own with the same inputs, so the table shows where time goes.
The client is Django's test client (no socket): add the HTTP server's own overhead (~1 ms on
loopback) for a browser's view.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import torch
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from benchmarks.common import percentiles_ms, report
from retrieval import index, inference
from retrieval.apis import SearchOutputSerializer
from retrieval.images import read_first_page
from retrieval.selectors.corpora import newest_figure_id
from retrieval.selectors.models import model_get_active
from retrieval.selectors.search import CATALOGUE_GAP_SECONDS, SearchResult, ranked_hits

TEXT_QUERIES = ("chair with armrests", "bottle", "lamp shade", "mobile phone case", "shoe sole")
#: Queries that leave words out ("-word": a filter in every channel, the drawing's too), by kind:
#: a text that leaves out a word of some of its matches; drawings that leave out an article
#: (in the 100k catalogue's text rows 5 % hold "chair"), a word most captions hold (58 % hold
#: "view"), and five words that nearly every figure holds one of (97 %: the drawing index finds
#: few that pass near the query; the worst case).
EXCLUSION_QUERIES = {
    "text": ("chair -armrests", "lamp -shade", 'bottle -"screw cap"'),
    "drawing": ("-chair",),
    "drawing_most_left_out": ("-view",),
    "drawing_nearly_all_left_out": ("-drawing -design -view -fig -front",),
}


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
    image_s, text_s = [], []
    image_stages: dict[str, list[float]] = {"decode": [], "encode": [], "ann": [], "fetch": [], "serialise": []}
    text_stages: dict[str, list[float]] = {"encode": [], "ann": [], "text_sql": [], "fetch": [], "serialise": []}
    for i in range(queries):
        text = TEXT_QUERIES[i % len(TEXT_QUERIES)]
        image_s.append(_timed(lambda i=i: _post(client, _image_form(page, i))))
        text_s.append(_timed(lambda text=text: _post(client, {"text": text, "k": 20})))
        _image_stages(model, page, image_stages)
        _text_stages(model, text, text_stages)
    image_p, text_p = percentiles_ms(image_s), percentiles_ms(text_s)
    image_split = _split(image_stages, image_p["p50"])
    text_split = _split(text_stages, text_p["p50"])
    for q in ("p50", "p95", "p99"):
        report(f"image query end to end {q}", image_p[q], "ms")
    for name, value in image_split.items():
        report(f"  of which {name} (p50)", value, "ms")
    for q in ("p50", "p95", "p99"):
        report(f"text query end to end {q}", text_p[q], "ms")
    for name, value in text_split.items():
        report(f"  of which {name} (p50)", value, "ms")
    results["api_exclusion_query_ms"] = _exclusion_queries(client, page, queries)
    results.update({
        "api_image_query_p50_ms": image_p["p50"], "api_image_query_p95_ms": image_p["p95"],
        "api_image_query_p99_ms": image_p["p99"], "api_image_split_ms": image_split,
        "api_text_query_p50_ms": text_p["p50"], "api_text_query_p95_ms": text_p["p95"],
        "api_text_query_p99_ms": text_p["p99"], "api_text_split_ms": text_split,
        "api_torch_threads": torch.get_num_threads(),
        **_unsearched_check(model),
        "api_split_note": "p50 of each stage timed on its own with the same input; http_stack_and_rest = "
                          "end-to-end p50 minus the stages (multipart parsing, authentication, "
                          "throttling, validation, the query cache, the search log, JSON rendering)",
    })


def _unsearched_check(model) -> dict[str, float]:
    """What a query pays to say how many figures it could not compare (retrieval.selectors.
    search.unsearched_figures): at each search the newest figure's id; once per
    CATALOGUE_GAP_SECONDS per process, the whole catalogue's count of figures without a vector
    (a drawing query) or without a text row (a text alone)."""
    newest = percentiles_ms([_timed(newest_figure_id) for _ in range(20)])["p50"]
    whole = percentiles_ms([_timed(lambda: index.figures_not_indexed(
        model=model, filters=index.FigureFilters(exclude_front_page=False))) for _ in range(5)])["p50"]
    words = percentiles_ms([_timed(lambda: index.figures_without_text_row(
        filters=index.FigureFilters(exclude_front_page=False))) for _ in range(5)])["p50"]
    report("  unsearched check at each drawing query: newest figure id (p50)", newest, "ms")
    report(f"  unsearched check once per {CATALOGUE_GAP_SECONDS:.0f} s per process: catalogue count (p50)", whole, "ms")
    report(f"  the same for a text query, once per {CATALOGUE_GAP_SECONDS:.0f} s: figures without a text row (p50)",
           words, "ms")
    return {"api_unsearched_newest_id_ms": newest, "api_unsearched_catalogue_count_ms": whole,
            "api_unsearched_text_catalogue_count_ms": words}


def _image_stages(model, page: bytes, stages: dict[str, list[float]]) -> None:
    box: dict[str, object] = {}
    # what the API's form does: decode and verify the first page, a fresh PNG for the query cache
    stages["decode"].append(_timed(lambda: box.update(image=read_first_page(
        page, max_pixels=settings.RETRIEVAL_MAX_IMAGE_PIXELS, pdf_dpi=settings.RETRIEVAL_PDF_DPI).image)))
    stages["encode"].append(_timed(lambda: box.update(
        vector=inference.embed_images(model.checkpoint, [box["image"]])[0])))
    _search_stages(model, box, stages, lambda: {"drawing": index.nearest_figures(
        model=model, query=box["vector"], k=settings.RETRIEVAL_FUSION_DEPTH)})


def _text_stages(model, text: str, stages: dict[str, list[float]]) -> None:
    box: dict[str, object] = {}
    stages["encode"].append(_timed(lambda: box.update(vectors=inference.embed_query_text(model.checkpoint, text))))
    tower, sentence = box["vectors"]  # type: ignore[misc]
    depth = settings.RETRIEVAL_FUSION_DEPTH
    rankings: dict[str, list[index.Neighbor]] = {}

    def ann() -> None:
        if tower is not None:
            rankings["text_tower"] = index.nearest_figures(model=model, query=tower, k=depth)

    def sql() -> dict[str, list[index.Neighbor]]:
        rankings["fulltext"] = index.fulltext_figures(text=text, k=depth)
        rankings["trigram"] = index.trigram_figures(text=text, k=depth)
        rankings["sentence"] = index.sentence_figures(query=sentence, k=depth)
        return rankings

    stages["ann"].append(_timed(ann))
    _search_stages(model, box, stages, sql, sql_stage="text_sql")


def _search_stages(model, box, stages, rank, sql_stage: str = "ann") -> None:
    """Time ``rank`` (the channels' SQL) under ``sql_stage``, then fusion, the class focus and fetching the hits'
    rows (``fetch``) and their JSON (``serialise``)."""
    stages[sql_stage].append(_timed(lambda: box.update(rankings=rank())))
    rankings = box["rankings"]

    def fetch() -> None:
        hits, focus = ranked_hits(rankings, text_weight=0.5, k=20)
        box["result"] = SearchResult(model=model, hits=hits, seconds=0.0, focus=focus)

    stages["fetch"].append(_timed(fetch))
    stages["serialise"].append(_timed(lambda: json.dumps(SearchOutputSerializer(box["result"]).data)))


def _split(stages: dict[str, list[float]], end_to_end_p50: float) -> dict[str, float]:
    split = {name: percentiles_ms(values)["p50"] for name, values in stages.items()}
    split["http_stack_and_rest"] = round(end_to_end_p50 - sum(split.values()), 2)
    return split


def _exclusion_queries(client: Client, page: bytes, queries: int) -> dict[str, dict[str, float]]:
    """End-to-end percentiles of the queries that leave words out (EXCLUSION_QUERIES), a quarter
    as many of each as of the plain ones."""
    timings: dict[str, dict[str, float]] = {}
    count = max(5, queries // 4)
    for kind, texts in EXCLUSION_QUERIES.items():
        seconds, hits = [], []
        for i in range(count):
            form = {"text": texts[i % len(texts)], "k": 20}
            if kind != "text":
                form = {**_image_form(page, i), **form}
            seconds.append(_timed(lambda form=form, hits=hits: hits.append(_post(client, form)["count"])))
        timings[kind] = {**percentiles_ms(seconds), "hits_min": float(min(hits))}
        report(f"query leaving words out, {kind.replace('_', ' ')}, end to end p50 ({min(hits)}+ hits)",
               timings[kind]["p50"], "ms")
    return timings


def _image_form(page: bytes, i: int) -> dict[str, object]:
    return {"image": SimpleUploadedFile(f"q{i}.png", page, content_type="image/png"), "k": 20}


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _post(client: Client, data: dict) -> dict:
    response = client.post("/api/v1/search/", data, secure=True)
    if response.status_code != 200:
        raise RuntimeError(f"search answered {response.status_code}: {response.content[:300]!r}")
    return response.json()
