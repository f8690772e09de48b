"""``python -m retrieval.ml train`` and ``fit-classical``: the command-line face of training.

``train`` runs :func:`~.loop.train`; ``fit-classical`` fits the training-free HOG + PCA model on
generated drawings (:func:`~.classical.fit_classical`). The training code is imported inside the
run functions.

Example of ``train`` (CPU, two threads, the three losses of the method with LLM descriptions)::

    python -m retrieval.ml train --corpus ../shared/data/design-patents-dev --out var/models/t1 \\
        --arch ps-tiny --epochs 10 --batch-size 64 --threads 2 --descriptions \\
        --losses image-text,patent,class --balance-beta 0.5 --logit-adjust 1.0
"""

from __future__ import annotations

import argparse
from pathlib import Path

EXIT_OK = 0


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``train`` options to ``parser``."""
    parser.add_argument(
        "--corpus", required=True, type=Path, help="corpus folder (metadata.csv + images)"
    )
    parser.add_argument("--out", required=True, type=Path, help="checkpoint folder to write")
    start = parser.add_mutually_exclusive_group()
    start.add_argument(
        "--arch", default="ps-tiny", help="architecture of a new model (default ps-tiny)"
    )
    start.add_argument(
        "--init", default=None, help="start from this checkpoint folder or open_clip name"
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--split",
        choices=["train", "all"],
        default="train",
        help="images to train on (default train)",
    )
    data.add_argument(
        "--split-seed", type=int, default=0, help="seed of the patent split (default 0)"
    )
    data.add_argument(
        "--test-fraction", type=float, default=0.3, help="patents held out (default 0.3)"
    )
    data.add_argument(
        "--val-fraction", type=float, default=0.0,
        help="patents also held out of train, for validation (default 0)",
    )
    data.add_argument(
        "--descriptions",
        action="store_true",
        help="pair images with their LLM descriptions (descriptions.jsonl) where present",
    )
    data.add_argument("--sampler", choices=["class-aware", "random"], default="class-aware")
    data.add_argument(
        "--per-patent", type=int, default=4, help="images of one patent drawn together (default 4)"
    )
    data.add_argument(
        "--per-class", type=int, default=8,
        help="images of one class per batch with the class-aware sampler (default 8)",
    )
    data.add_argument("--two-views", action="store_true", help="two augmented views per image")
    data.add_argument("--no-augment", action="store_true", help="train on the plain drawings")
    optim = parser.add_argument_group("optimisation")
    optim.add_argument("--epochs", type=int, default=10)
    optim.add_argument("--batch-size", type=int, default=64)
    optim.add_argument("--lr", type=float, default=5e-4)
    optim.add_argument("--weight-decay", type=float, default=0.1)
    optim.add_argument(
        "--warmup", type=float, default=0.05, help="fraction of steps of linear warmup"
    )
    optim.add_argument("--seed", type=int, default=0)
    optim.add_argument("--freeze-text", action="store_true", help="keep the text tower fixed")
    _configure_losses(parser.add_argument_group("losses"))
    _configure_runtime(parser.add_argument_group("runtime"))


def _configure_losses(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--losses",
        default="image-text,patent,class",
        help="comma-separated subset of image-text,patent,class (default all three)",
    )
    group.add_argument(
        "--class-label", choices=["us_class", "locarno", "object"], default="us_class"
    )
    group.add_argument(
        "--balance-beta",
        type=float,
        default=0.0,
        help="class-balanced anchor weights n_c^-beta in the class loss (0 = off)",
    )
    group.add_argument(
        "--logit-adjust",
        type=float,
        default=0.0,
        metavar="TAU",
        help="logit adjustment tau*log(prior) on the class loss's negatives (0 = off)",
    )
    group.add_argument("--no-uncertainty", action="store_true", help="fixed equal loss weights")
    group.add_argument(
        "--loss-weight-lr",
        type=float,
        default=1e-2,
        help="learning rate of the learned loss weights (default 0.01)",
    )
    group.add_argument("--temperature", type=float, default=0.1, help="of the image-image losses")


def _configure_runtime(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    group.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    group.add_argument(
        "--load-threads", type=int, default=2, help="threads decoding images (default 2)"
    )
    group.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    group.add_argument(
        "--overwrite", action="store_true", help="replace a checkpoint already in OUT"
    )
    group.add_argument(
        "--keep-state", action="store_true", help="keep OUT/last.pt after a complete run"
    )
    group.add_argument("--name", default=None, help="model name (default: the folder name)")
    group.add_argument(
        "--max-minutes", type=float, default=None, help="stop (resumably) after this long"
    )
    group.add_argument(
        "--max-steps", type=int, default=None, help="stop (resumably) after this many steps"
    )
    group.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Train as the parsed ``args`` say; returns the exit status."""
    from retrieval.ml.training.augment import AugmentConfig
    from retrieval.ml.training.loop import train
    from retrieval.ml.training.options import TrainOptions

    options = TrainOptions(
        corpus=args.corpus,
        out=args.out,
        arch=args.arch,
        init=args.init,
        split=args.split,
        split_seed=args.split_seed,
        test_fraction=args.test_fraction,
        val_fraction=args.val_fraction,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        warmup=args.warmup,
        seed=args.seed,
        losses=tuple(n.strip() for n in args.losses.split(",") if n.strip()),
        class_label=args.class_label,
        balance_beta=args.balance_beta,
        logit_adjust=args.logit_adjust,
        uncertainty=not args.no_uncertainty,
        loss_weight_lr=args.loss_weight_lr,
        temperature=args.temperature,
        sampler=args.sampler,
        per_patent=args.per_patent,
        per_class=args.per_class,
        descriptions=args.descriptions,
        two_views=args.two_views,
        augment=AugmentConfig.off() if args.no_augment else AugmentConfig(),
        freeze_text=args.freeze_text,
        device=args.device,
        threads=args.threads,
        load_threads=args.load_threads,
        resume=args.resume,
        name=args.name,
        max_minutes=args.max_minutes,
        max_steps=args.max_steps,
        overwrite=args.overwrite,
        keep_state=args.keep_state,
        progress=not args.no_progress,
    )
    train(options)
    return EXIT_OK


def configure_fit_classical(parser: argparse.ArgumentParser) -> None:
    """Options of ``fit-classical``."""
    from retrieval.ml.training.classical import DEFAULT_DIM, DEFAULT_FIT_PATENTS, DEFAULT_FIT_SEED

    parser.add_argument("--out", required=True, type=Path, help="model folder to write")
    parser.add_argument(
        "--patents",
        type=int,
        default=DEFAULT_FIT_PATENTS,
        help=f"generated patents to fit on (default {DEFAULT_FIT_PATENTS})",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_FIT_SEED,
        help=f"seed of the generated corpus (default {DEFAULT_FIT_SEED})",
    )
    parser.add_argument(
        "--dim", type=int, default=DEFAULT_DIM, help=f"embedding dimension (default {DEFAULT_DIM})"
    )
    parser.add_argument("--name", default="classical-hog-pca", help="model name")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing model")


def run_fit_classical(args: argparse.Namespace) -> int:
    """Run ``fit-classical``: fit, write, load back and print the version."""
    from retrieval.ml.encoders.classical import load_classical_encoder
    from retrieval.ml.training.classical import fit_classical

    folder = fit_classical(
        Path(args.out),
        patents=int(args.patents),
        seed=int(args.seed),
        dim=int(args.dim),
        name=str(args.name),
        overwrite=bool(args.overwrite),
    )
    encoder = load_classical_encoder(folder)
    size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    print(
        f"wrote {folder}  name={encoder.name}  version={encoder.version}  "
        f"dim={encoder.dim}  size={size / 1e6:.2f} MB"
    )
    return EXIT_OK
