"""``python -m retrieval.ml describe``: write LLM descriptions for every image of a corpus."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from retrieval.ml.corpus_format import DESCRIPTIONS_FILE
from retrieval.ml.describe.backend import BACKENDS

EXIT_OK, EXIT_SOME_FAILED = 0, 1


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``describe``."""
    parser.add_argument(
        "--corpus", required=True, type=Path, help="corpus folder (metadata.csv + images)"
    )
    parser.add_argument(
        "--backend", required=True, choices=BACKENDS, help="who writes the descriptions"
    )
    parser.add_argument("--n", type=int, default=5, help="descriptions per image (default 5)")
    parser.add_argument("--out", type=Path, help="output JSONL (default CORPUS/descriptions.jsonl)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    parser.add_argument("--cache", type=Path, help="cache file (default OUT.cache.jsonl)")
    parser.add_argument("--no-cache", action="store_true", help="ask the model for every image")
    parser.add_argument(
        "--base-url",
        help="openai: endpoint, e.g. http://localhost:8000/v1 "
        "(default env PATENTSEARCH_LLM_BASE_URL); the API key comes from env "
        "PATENTSEARCH_LLM_API_KEY",
    )
    parser.add_argument("--model", help="openai: model name (default env PATENTSEARCH_LLM_MODEL)")
    parser.add_argument(
        "--no-json-mode", action="store_true", help="openai: do not send response_format"
    )
    parser.add_argument("--timeout", type=float, help="openai: seconds per request")
    parser.add_argument("--model-path", type=Path, help="transformers: local model folder")
    parser.add_argument("--device", help="transformers: cuda or cpu (default cuda when available)")
    parser.add_argument("--max-attempts", type=int, help="requests per image at most")
    parser.add_argument("--seed", type=int, help="offline/transformers: seed (default 0)")


def run(args: argparse.Namespace) -> int:
    """Describe the corpus; exit 1 when some images got no descriptions."""
    from retrieval.ml.describe.backend import make_backend
    from retrieval.ml.describe.cache import DescriptionCache
    from retrieval.ml.describe.corpus import describe_corpus

    out = Path(args.out or Path(args.corpus) / DESCRIPTIONS_FILE)
    if out.exists() and not args.overwrite:
        raise ValueError(f"{out} exists: pass --overwrite to replace it, or --out another file")
    backend = make_backend(str(args.backend), **_backend_options(args))
    cache = (
        None
        if args.no_cache
        else DescriptionCache(args.cache or out.with_name(out.name + ".cache.jsonl"))
    )
    result = describe_corpus(args.corpus, backend, int(args.n), out, cache)
    print(
        f"wrote {result.written} lines to {result.out_path} ({result.from_cache} from the cache, "
        f"{len(result.failures)} failed) with {backend.name} {backend.model}"
    )
    for failure in result.failures:
        print(f"failed: {failure.image_file}: {failure.reason}", file=sys.stderr)
    return EXIT_SOME_FAILED if result.failures else EXIT_OK


def _backend_options(args: argparse.Namespace) -> dict[str, object]:
    common = {"max_attempts": args.max_attempts}
    if args.backend == "openai":
        return {
            **common,
            "base_url": args.base_url,
            "model": args.model,
            "timeout": args.timeout,
            "json_mode": False if args.no_json_mode else None,
        }
    if args.backend == "transformers":
        if args.model_path is None:
            raise ValueError("the transformers backend needs --model-path (a local model folder)")
        return {**common, "model_path": args.model_path, "device": args.device, "seed": args.seed}
    return {"seed": args.seed}
