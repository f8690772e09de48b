"""Run every benchmark against its own embedded servers in var/bench; print a table, write JSON.

    python -m benchmarks [--scale 20000] [--queries 200] [--sample-patents 50] [--json FILE]

--scale is the number of figures in the searched catalogue: the ingested sample (and the shared
dev corpus when present) encoded by the active model, then vectors drawn around those real ones
(benchmarks/vectors.py says how) up to that size.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--scale", type=int, default=20_000, help="figures in the searched catalogue")
    parser.add_argument("--queries", type=int, default=200, help="queries per latency measurement")
    parser.add_argument("--sample-patents", type=int, default=50, help="generated patents to ingest and encode")
    parser.add_argument("--page-files", type=int, default=20, help="multi-page TIFF/PDF files (3 pages each; 0: skip)")
    parser.add_argument("--skip-dev-corpus", action="store_true",
                        help="do not ingest and encode the shared dev corpus (fewer real vectors, much faster)")
    parser.add_argument("--storage-compare-max", type=int, default=200_000,
                        help="compare vector and halfvec storage (two extra index builds) up to this scale")
    parser.add_argument("--users", type=int, default=16, help="concurrent examiners in the load test")
    parser.add_argument("--load-seconds", type=float, default=120, help="length of the load test (0: skip)")
    parser.add_argument("--gunicorn-workers", type=int, default=None,
                        help="web workers in the load test (default: patentsearch/gunicorn_conf.py's)")
    parser.add_argument("--gunicorn-threads", type=int, default=None,
                        help="threads per web worker in the load test (default: gunicorn_conf.py's)")
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    args = parser.parse_args()
    os.environ.setdefault("PATENTSEARCH_VAR_DIR", str(REPO / "var" / "bench"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patentsearch.settings.base")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    # One benchmark account stands for every examiner and searches back to back: lift the
    # per-user search rate (60/min by default), which would otherwise answer 429 and be timed.
    os.environ.setdefault("PATENTSEARCH_SEARCH_RATE", "1000000/min")
    import django

    django.setup()
    from patentsearch import embedded

    embedded.prepare(migrate=False)  # fresh_database() migrates
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from accounts.services import user_create
    from benchmarks import ann, api, catalogue, corpus, load, pages, texts
    from benchmarks.common import fresh_database, machine, peak_rss_mb
    from retrieval.services.models import model_ensure_active

    started = time.time()
    results: dict[str, object] = {"machine": machine(), "scale": args.scale, "queries": args.queries}
    print(f"Machine: {results['machine']}")
    fresh_database()
    model = model_ensure_active()
    results["model"] = model.name
    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp) / "sample"
        corpus.run(model=model, sample_dir=sample, sample_patents=args.sample_patents, results=results,
                   dev_corpus=not args.skip_dev_corpus)
        page = api.drawing_page(sample)
        if args.page_files > 0:
            pages.run(model=model, drawings=sorted(sample.rglob("*.png")), work=Path(tmp) / "pages",
                      files=args.page_files, results=results)
    cat = catalogue.build(model, args.scale, results)
    texts.build(results)
    ann.run(cat, queries=args.queries, results=results)
    if args.scale <= args.storage_compare_max:
        ann.compare_storage(cat, queries=args.queries, results=results)
    user = user_create(username="bench", password="bench-passphrase-1", role="examiner")
    token = Token.objects.create(user=user).key
    api.run(page=page, queries=args.queries, client=Client(HTTP_AUTHORIZATION=f"Token {token}"), results=results)
    if args.load_seconds > 0:
        load.run(page=page, token=token, users=args.users, seconds=args.load_seconds,
                 workers=args.gunicorn_workers, threads=args.gunicorn_threads, results=results)
    results["peak_rss_mb"] = round(peak_rss_mb(), 1)
    _mark_skipped(results, args)
    results["postgres_rss_mb"] = _postgres_rss_mb()
    results["wall_s"] = round(time.time() - started, 1)
    print(f"  peak RSS of this process (web + worker work): {results['peak_rss_mb']:.0f} MB; "
          f"PostgreSQL now: {results['postgres_rss_mb']:.0f} MB")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"Wrote {args.json}")
    return 0


#: The keys every run writes (issue 12's list): a part of the run that was left out by an option
#: gives null here, and says why under "skipped", rather than a file without the key.
REQUIRED_KEYS = ("api_image_query_p50_ms", "api_image_query_p95_ms", "api_text_query_p50_ms", "ann_recall_at_10",
                 "filtered_hits_min_ratio", "upsert_vectors_per_s", "encode_images_per_s", "encode_speedup_vs_eager",
                 "ingest_pages_per_s", "peak_rss_mb")


def _mark_skipped(results: dict[str, object], args: argparse.Namespace) -> None:
    reasons = {"ingest_pages_per_s": "--page-files 0: no drawing pages were ingested"} if args.page_files <= 0 else {}
    skipped = {}
    for key in REQUIRED_KEYS:
        if key not in results:
            results[key] = None
            skipped[key] = reasons.get(key, "not measured in this run")
    if skipped:
        results["skipped"] = skipped


def _postgres_rss_mb() -> float:
    """Resident memory of every postgres process on this machine (shared buffers counted once
    per process, so an upper bound)."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if "\nName:\tpostgres" in "\n" + text.split("\n", 1)[0] + "\n" or text.startswith("Name:\tpostgres"):
            for line in text.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return round(total / 1024, 1)


if __name__ == "__main__":
    sys.exit(main())
