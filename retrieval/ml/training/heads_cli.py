"""``python -m retrieval.ml train-head``: train a head on a frozen pretrained backbone."""

from __future__ import annotations

import argparse
from pathlib import Path

from retrieval.ml.training.heads import LOSSES, HeadRecipe


def configure(parser: argparse.ArgumentParser) -> None:
    defaults = HeadRecipe()
    parser.add_argument("--corpus", required=True, type=Path, help="corpus folder (metadata.csv)")
    parser.add_argument("--out", required=True, type=Path, help="model folder to write")
    parser.add_argument("--name", default=None, help="model name (default: the folder name)")
    parser.add_argument("--backbone", default=defaults.backbone,
                        help=f"registered backbone (default {defaults.backbone})")
    parser.add_argument("--image-size", type=int, default=defaults.image_size)
    parser.add_argument("--losses", default="patent", help=f"comma-separated subset of {', '.join(LOSSES)}")
    parser.add_argument("--hidden", type=int, default=defaults.hidden, help="MLP hidden width (0: linear)")
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--temperature", type=float, default=defaults.temperature)
    parser.add_argument("--balance-beta", type=float, default=defaults.balance_beta)
    parser.add_argument("--sampler", choices=("random", "class-aware"), default=defaults.sampler)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--split-seed", type=int, default=defaults.split_seed)
    parser.add_argument("--test-fraction", type=float, default=defaults.test_fraction)
    parser.add_argument("--val-fraction", type=float, default=defaults.val_fraction)
    parser.add_argument("--cache", type=Path, default=Path("var/features"),
                        help="feature cache folder (default var/features)")
    parser.add_argument("--overwrite", action="store_true")


def run(args: argparse.Namespace) -> int:
    from retrieval.ml.training.heads import train_head

    recipe = HeadRecipe(
        backbone=args.backbone, image_size=args.image_size,
        losses=tuple(x.strip() for x in args.losses.split(",") if x.strip()), hidden=args.hidden,
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, temperature=args.temperature,
        balance_beta=args.balance_beta, sampler=args.sampler, seed=args.seed,
        split_seed=args.split_seed, test_fraction=args.test_fraction, val_fraction=args.val_fraction,
    )
    folder = train_head(args.corpus, args.out, recipe, name=args.name or args.out.name,
                        cache_dir=args.cache, overwrite=args.overwrite)
    print(f"wrote {folder}")
    return 0
