"""Ingest and encoding throughput on a generated sample corpus (and the shared dev data if present)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.common import report, timed
from retrieval import inference
from retrieval.models import Figure, RetrievalModel
from retrieval.services.encoding import figure_encode_batch
from retrieval.services.ingest import corpus_ingest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "design-patents-dev"


def run(*, model: RetrievalModel, sample_dir: Path, sample_patents: int, results: dict[str, object],
        dev_corpus: bool = True) -> None:
    print(f"Corpus benchmarks (model {model.name})", flush=True)
    with timed() as t:
        summary = inference.make_sample_corpus(sample_dir, patents=sample_patents, seed=0)
    report(f"generate sample corpus ({summary.split(' in ')[0]})", t[0], "s")
    results["sample_corpus_generation_s"] = round(t[0], 2)
    results["ingest_sample_figures_per_s"], results["encode_sample_figures_per_s"] = (
        _ingest_and_encode(sample_dir, "sample", model))
    if dev_corpus and (SHARED / "metadata.csv").exists():
        results["ingest_dev_figures_per_s"], results["encode_images_per_s"] = (
            _ingest_and_encode(SHARED, "design-patents-dev", model))
    else:
        print(f"  (shared dev data {'skipped (--skip-dev-corpus)' if not dev_corpus else f'not found at {SHARED}'})")
        results["encode_images_per_s"] = results["encode_sample_figures_per_s"]


def _ingest_and_encode(path: Path, name: str, model: RetrievalModel) -> tuple[float, float]:
    with timed() as t:
        result = corpus_ingest(path=path, name=name)
    n = result.figures_added
    ingest_rate = n / t[0]
    report(f"ingest {name}: {n} figures (check + store + rows)", ingest_rate, "figures/s")
    ids = list(Figure.objects.filter(corpus_id=result.corpus_id).values_list("pk", flat=True))
    inference.load_encoder(model.checkpoint)  # load once, outside the timing
    with timed() as t:
        for start in range(0, len(ids), 64):
            figure_encode_batch(figure_ids=ids[start : start + 64], model_id=model.pk)
    encode_rate = len(ids) / t[0]
    report(f"encode {name} on CPU (decode + preprocess + model + upsert)", encode_rate, "figures/s")
    return round(ingest_rate, 1), round(encode_rate, 1)
