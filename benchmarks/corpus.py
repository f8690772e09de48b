"""Ingest and encoding throughput on a generated sample corpus (and the shared dev data if present)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import fresh_database, machine, peak_rss_mb, report, timed
from retrieval import inference
from retrieval.models import Figure
from retrieval.services.encoding import figure_encode_batch
from retrieval.services.ingest import corpus_ingest
from retrieval.services.models import model_ensure_active

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "design-patents-dev"


def run(*, sample_patents: int) -> None:
    fresh_database()
    model = model_ensure_active()
    print(f"Corpus benchmarks ({machine()}; model {model.name})")
    with tempfile.TemporaryDirectory() as tmp:
        with timed() as t:
            summary = inference.make_sample_corpus(Path(tmp) / "s", patents=sample_patents, seed=0)
        report(f"generate sample corpus ({summary.split(' in ')[0]})", t[0], "s")
        _ingest_and_encode(Path(tmp) / "s", "sample", model)
    if (SHARED / "metadata.csv").exists():
        _ingest_and_encode(SHARED, "design-patents-dev", model)
    else:
        print(f"  (shared dev data not found at {SHARED}: skipped)")
    report("peak memory of this process", peak_rss_mb(), "MB")


def _ingest_and_encode(path: Path, name: str, model) -> None:  # noqa: ANN001
    with timed() as t:
        result = corpus_ingest(path=path, name=name)
    n = result.figures_added
    report(f"ingest {name}: {n} figures (check + store + rows)", n / t[0], "figures/s")
    ids = list(Figure.objects.filter(corpus_id=result.corpus_id).values_list("pk", flat=True))
    inference.load_encoder(model.checkpoint)  # load once, outside the timing
    with timed() as t:
        for start in range(0, len(ids), 64):
            figure_encode_batch(figure_ids=ids[start : start + 64], model_id=model.pk)
    report(f"encode {name} on CPU (decode + preprocess + model + upsert)", len(ids) / t[0], "figures/s")
