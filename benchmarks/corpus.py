"""Ingest and encoding throughput on a generated sample corpus (and the shared dev data if present),
and the worker's encoding against plain eager inference on the same images.

The worker's path is ``figure_encode_batch`` as the ``gpu`` queue runs it, batch after batch:
read the figures' rows, read and decode their files in threads while the model encodes the ones
before, the backbone optimised for inference, vectors upserted into the index. The reference is
what a naive open_clip-style user writes: the same model, eager PyTorch under ``no_grad``, one
image at a time, ``model(preprocess(img).unsqueeze(0))`` with the model's own preprocessing, on
the same stored images, in the same process with the same torch thread count (so neither gets
more cores than the other), and without writing anything to the database.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from django.conf import settings

from benchmarks.common import report, timed
from retrieval import inference
from retrieval.ingest.corpus_source import is_corpus_folder
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.models import Figure, RetrievalModel
from retrieval.services.encoding import figure_encode_batch

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "design-patents-dev"
EAGER_IMAGES = 256  # images through the eager reference: the first batches the worker encodes


def run(*, model: RetrievalModel, sample_dir: Path, sample_patents: int, results: dict[str, object],
        dev_corpus: bool = True) -> None:
    print(f"Corpus benchmarks (model {model.name})", flush=True)
    with timed() as t:
        summary = inference.make_sample_corpus(sample_dir, patents=sample_patents, seed=0)
    report(f"generate sample corpus ({summary.split(' in ')[0]})", t[0], "s")
    results["sample_corpus_generation_s"] = round(t[0], 2)
    shared = dev_corpus and is_corpus_folder(SHARED)
    results["ingest_sample_figures_per_s"], results["encode_sample_figures_per_s"], paired = (
        _ingest_and_encode(sample_dir, "sample", model, eager=not shared))
    if shared:
        results["ingest_dev_figures_per_s"], results["encode_images_per_s"], paired = (
            _ingest_and_encode(SHARED, "design-patents-dev", model, eager=True))
        results["encode_images"] = "the shared dev corpus (real USPTO drawings)"
    else:
        print(f"  (shared dev data {'skipped (--skip-dev-corpus)' if not dev_corpus else f'not found at {SHARED}'}:"
              " the sample corpus stands in)")
        results["encode_images_per_s"] = results["encode_sample_figures_per_s"]
        results["encode_images"] = "the generated sample corpus"
    worker_s, eager_s, n = paired
    report(f"  same {n} images, batch by batch: worker path", n / worker_s, "images/s")
    report(f"  same {n} images, batch by batch: eager, one image at a time, no_grad", n / eager_s, "images/s")
    report("encoding speed-up of the worker over eager inference", eager_s / worker_s, "x")
    results["encode_eager_images_per_s"] = round(n / eager_s, 2)
    results["encode_speedup_vs_eager"] = round(eager_s / worker_s, 2)
    results["encode_speedup_note"] = (
        f"worker path (figure_encode_batch: rows, read + decode in threads, optimised model, upsert) "
        f"against eager PyTorch one image at a time on the same {n} images, batch by batch alternately "
        f"(same machine load), {torch.get_num_threads()} torch thread(s) for both")
    results["encode_cuda"] = _cuda_rate(model, ids=_figure_ids("design-patents-dev" if shared else "sample")) if (
        torch.cuda.is_available()) else "not measured: no CUDA device on this machine"


def _ingest_and_encode(
    path: Path, name: str, model: RetrievalModel, *, eager: bool
) -> tuple[float, float, tuple[float, float, int]]:
    """Ingest and encode rates; with ``eager``, the eager reference run on the first
    EAGER_IMAGES images of the same batches, alternately with the worker, and both times."""
    with timed() as t:
        result = corpus_ingest(path=path, name=name)
    n = result.figures_added
    ingest_rate = n / t[0]
    report(f"ingest {name}: {n} figures (check + store + rows)", ingest_rate, "figures/s")
    ids = _figure_ids(name)
    inference.load_encoder(model.checkpoint)  # load once, outside the timing, as a worker does
    reference = _eager_model(model.checkpoint) if eager else None
    if reference is not None and ids:
        _eager_seconds(reference, ids[:1])  # warm-up, as the worker's model is warm
    batch = settings.RETRIEVAL_ENCODE_BATCH_SIZE
    total = worker_paired = eager_paired = 0.0
    paired = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        compare = reference is not None and paired < EAGER_IMAGES
        if compare:
            eager_paired += _eager_seconds(reference, chunk)
        with timed() as t:
            figure_encode_batch(figure_ids=chunk, model_id=model.pk)
        total += t[0]
        if compare:
            worker_paired += t[0]
            paired += len(chunk)
    encode_rate = len(ids) / total
    report(f"encode {name} on CPU, worker path (read + decode + model + upsert, batches of {batch})",
           encode_rate, "figures/s")
    return round(ingest_rate, 1), round(encode_rate, 1), (worker_paired, eager_paired, paired)


def _figure_ids(corpus_name: str) -> list[int]:
    return list(Figure.objects.filter(corpus__name=corpus_name).order_by("pk").values_list("pk", flat=True))


def _eager_model(spec: str):
    """The model as plain eager PyTorch: the backbone network and the trained head of a
    pretrained-head folder, or an open_clip model's encode_image."""
    from retrieval.ml.config import read_model_json
    from retrieval.ml.encoders.backbones import load_backbone
    from retrieval.ml.encoders.checkpoint import load_weights_into, read_weights
    from retrieval.ml.encoders.factory import load_model
    from retrieval.ml.encoders.pretrained_head import build_head, is_pretrained_head_folder
    from retrieval.ml.shipped import resolve_model_spec

    folder = Path(resolve_model_spec(spec))
    if folder.exists() and is_pretrained_head_folder(folder):
        config = read_model_json(folder)
        head = build_head(config)
        weights = folder / str(config.weights)
        load_weights_into(head, read_weights(weights, expected_sha256=config.weights_sha256), weights)
        network = torch.nn.Sequential(load_backbone(str(config.training["backbone"])), head.float().eval())
        return network, config.preprocess
    loaded = load_model(spec)
    return loaded.model.encode_image, loaded.config.preprocess


def _eager_seconds(reference, ids: list[int]) -> float:  # (network, preprocessing config)
    """Seconds for the naive loop over the figures' stored images: open, preprocess, model."""
    from retrieval.ml.preprocessing import load_image, preprocess_image

    network, preprocess = reference
    paths = [Path(f.image.path) for f in Figure.objects.filter(pk__in=ids).order_by("pk")]
    with torch.no_grad():
        started = time.perf_counter()
        for path in paths:
            network(preprocess_image(load_image(path), preprocess).unsqueeze(0))
        return time.perf_counter() - started


def _cuda_rate(model: RetrievalModel, ids: list[int]) -> dict[str, object]:
    """The CUDA path (bfloat16, channels-last, batches of 128) on the same images: decode and
    model only (the database side is the CPU path's)."""
    from retrieval.ml.encoders.factory import load_encoder
    from retrieval.ml.preprocessing import load_image

    encoder = load_encoder(model.checkpoint, device="cuda", batch_size=128)
    paths = [Path(f.image.path) for f in Figure.objects.filter(pk__in=ids).order_by("pk")]
    loaders = [lambda p=p: load_image(p) for p in paths]
    encoder.embed_loaded(loaders[:128], threads=settings.RETRIEVAL_DECODE_THREADS)  # warm-up
    torch.cuda.synchronize()
    started = time.perf_counter()
    encoder.embed_loaded(loaders, threads=settings.RETRIEVAL_DECODE_THREADS)
    torch.cuda.synchronize()
    rate = len(paths) / (time.perf_counter() - started)
    report(f"encode on CUDA ({torch.cuda.get_device_name(0)}, bf16, batches of 128)", rate, "images/s")
    return {"device": torch.cuda.get_device_name(0), "images_per_s": round(rate, 1), "batch": 128}
