"""Command line of evaluation.

``python -m retrieval.ml evaluate --corpus PATH --model DIR|NAME [--relevance KIND ...]``
prints a table of the metrics and can write them as JSON. Heavy imports stay inside the run
function so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from retrieval.ml.data import RELEVANCE_KINDS

EXIT_OK = 0


def configure_evaluate(parser: argparse.ArgumentParser) -> None:
    """Options of ``evaluate``."""
    parser.add_argument("--corpus", required=True, type=Path, help="corpus folder (metadata.csv)")
    parser.add_argument("--model", required=True, help="checkpoint folder or shipped name")
    parser.add_argument(
        "--relevance",
        action="append",
        type=_relevance_list,
        default=None,
        help=f"{'|'.join(RELEVANCE_KINDS)}; repeat or comma-separate for several (default patent)",
    )
    parser.add_argument(
        "--exclude-same-patent",
        action="store_true",
        help="for class-level relevance, leave the query's own patent out of the gallery",
    )
    parser.add_argument("--split", choices=("all", "train", "val", "test"), default="all")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the split (default 0)")
    parser.add_argument("--test-fraction", type=float, default=0.3, help="default 0.3")
    parser.add_argument("--val-fraction", type=float, default=0.0,
                        help="patents taken from train for validation (default 0)")
    parser.add_argument("--json", type=Path, default=None, help="write the full report here")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--batch-size", type=int, default=32, help="images per batch")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (torch, BLAS)")
    parser.add_argument("--cache", type=Path, default=None, help="folder for cached embeddings")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_evaluate(args: argparse.Namespace) -> int:
    """Run ``evaluate`` from parsed options: print the table, write the JSON."""
    from retrieval.ml.evaluation.run import EvaluationRequest, evaluate, write_report

    groups: list[tuple[str, ...]] = args.relevance or [("patent",)]
    relevances = tuple(dict.fromkeys(kind for group in groups for kind in group))
    request = EvaluationRequest(
        corpus=Path(args.corpus),
        model=str(args.model),
        relevances=relevances,
        exclude_same_patent=bool(args.exclude_same_patent),
        split=str(args.split),
        split_seed=int(args.split_seed),
        test_fraction=float(args.test_fraction),
        val_fraction=float(args.val_fraction),
        device=str(args.device),
        batch_size=int(args.batch_size),
        cache_dir=args.cache,
        progress=not args.no_progress,
    )
    with _thread_limit(args.threads):
        report = evaluate(request)
    print(format_report(report))
    if args.json is not None:
        write_report(Path(args.json), report)
        print(f"wrote {args.json}")
    return EXIT_OK


def format_report(report: Mapping[str, Any]) -> str:
    """A readable table of an evaluation report (see ``run.evaluate``)."""
    model, split, embedding = report["model"], report["split"], report["embedding"]
    corpus = (
        f"corpus  {report['corpus']}  split {split['name']} (seed {split['seed']}, "
        f"test fraction {split['test_fraction']})  images {report['images']}  "
        f"front pages left out {report['front_pages_left_out']}"
    )
    cached = "  (cached)" if embedding["cached"] else ""
    lines = [
        f"model   {model['name']}  ({model['version']}, dim {model['dim']})",
        corpus,
        f"embedding {embedding['seconds']:.1f} s{cached}",
    ]
    for block in report["by_relevance"].values():
        lines += ["", *_relevance_table(block)]
    return "\n".join(lines)


def _relevance_table(block: Mapping[str, Any]) -> list[str]:
    from retrieval.ml.evaluation.metrics import KS

    exclusion = "  excluding same patent" if block["exclude_same_patent"] else ""
    title = (
        f"relevance {block['relevance']}{exclusion}:  mAP {block['mAP']:.4f}  "
        f"queries {block['queries']}  skipped {block['skipped']} (no label "
        f"{block['skipped_no_label']}, nothing relevant {block['skipped_no_relevant']})"
    )
    lines = [title, f"  {'K':<20}" + "".join(f"{k:>8}" for k in KS)]
    for key, name in (
        ("recall", "recall@K (hit)"),
        ("recall_fraction", "recall@K (fraction)"),
        ("mrr", "MRR@K"),
    ):
        lines.append(f"  {name:<20}" + "".join(f"{block[f'{key}@{k}']:>8.4f}" for k in KS))
    lines.append(f"  bands by {block['band_label']} frequency")
    lines.append(
        f"    {'band':<8}{'classes':>8}{'queries':>8}"
        + "".join(f"{name:>8}" for name in _BAND_METRICS.values())
    )
    for band, m in block["bands"].items():
        lines.append(
            f"    {band:<8}{m['classes']:>8}{m['queries']:>8}"
            + "".join(f"{m[key]:>8.4f}" for key in _BAND_METRICS)
        )
    return lines


_BAND_METRICS = {"mAP": "mAP", "recall@1": "R@1", "recall@10": "R@10", "mrr@10": "MRR@10"}


def _relevance_list(text: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in RELEVANCE_KINDS]
    if not kinds or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown relevance {', '.join(unknown) or repr(text)}: "
            f"choose from {', '.join(RELEVANCE_KINDS)}"
        )
    return kinds


@contextmanager
def _thread_limit(threads: int | None) -> Iterator[None]:
    """Limit torch and BLAS threads inside a ``with`` block (no limit when ``None``)."""
    if threads is None:
        yield
        return
    if threads < 1:
        raise ValueError(f"--threads must be >= 1, got {threads}")
    import torch
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped,unused-ignore]

    saved = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(saved)
