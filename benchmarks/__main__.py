"""Run every benchmark against its own embedded servers in var/bench and print the numbers.

    python -m benchmarks [--figures-sample 50] [--vectors 20000] [--queries 200]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--sample-patents", type=int, default=50, help="sample corpus size for ingest/encode")
    parser.add_argument("--vectors", type=int, default=20_000, help="vectors in the search benchmark")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("PATENTSEARCH_VAR_DIR", str(REPO / "var" / "bench"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patentsearch.settings.base")
    import django

    django.setup()
    from benchmarks import corpus, search

    corpus.run(sample_patents=args.sample_patents)
    search.run(vectors=args.vectors, queries=args.queries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
