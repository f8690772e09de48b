"""Command line: python -m retrieval.ml.samples OUT [--patents N] [--seed S] [...]."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from retrieval.ml.samples.corpus import DEFAULT_IMAGE_SIZE, generate_corpus
from retrieval.ml.samples.render import VIEWS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m retrieval.ml.samples",
        description="Write a synthetic design-patent corpus (drawings and metadata.csv).",
    )
    parser.add_argument("out", type=Path, help="output folder (created if missing)")
    parser.add_argument("--patents", type=int, default=100, help="number of patents")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same files)")
    parser.add_argument("--image-size", type=int, default=DEFAULT_IMAGE_SIZE,
                        help="long side of each figure in pixels")
    parser.add_argument("--views", nargs="+", choices=VIEWS, metavar="VIEW",
                        help=f"views to draw, in figure order (default all: {', '.join(VIEWS)})")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser


def _progress(done: int, total: int) -> None:
    """Redrawn in place on a terminal (each twentieth); a line each tenth in a log."""
    terminal = sys.stderr.isatty()
    if done == total or done % max(1, total // (20 if terminal else 10)) == 0:
        if terminal:
            print(f"\rpatents {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)
        else:
            print(f"patents {done}/{total}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        summary = generate_corpus(
            args.out, patents=args.patents, seed=args.seed, views=args.views,
            image_size=args.image_size, progress=None if args.quiet else _progress,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {summary.patents} patents, {summary.figures} figures, "
          f"{len(summary.categories)} categories to {summary.out_dir} "
          f"in {summary.elapsed_seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
