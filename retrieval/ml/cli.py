"""Command line of ``retrieval.ml``: ``python -m retrieval.ml COMMAND ...``.

The one entry point: this module builds the parser and runs the chosen subcommand. Each
subcommand is a :class:`Command`: a function that adds its options to a subparser and a function
that turns the parsed options into plain values and calls library code; both live in the module
that owns the feature's command line (``training/cli.py`` for ``train`` and ``fit-classical``,
``training/heads_cli.py``, ``evaluation/cli.py``, ``describe/cli.py``), and a ``Command`` in
:data:`COMMANDS` names them. Library code never sees argparse. Heavy imports belong inside the
run functions, but building the parser (even for ``--help``) still loads torch today: the
options of ``train-head`` and ``fit-classical`` read their defaults from training modules, and
the ``retrieval.ml.evaluation`` package imports its runner. ``python -m retrieval.ml.recipes`` and ``python -m retrieval.ml.samples`` are separate
scripts with their own small parsers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from retrieval.ml.describe import cli as describe_cli
from retrieval.ml.errors import MLError
from retrieval.ml.evaluation import cli as evaluation_cli
from retrieval.ml.training import cli as train_cli
from retrieval.ml.training import heads_cli

EXIT_OK, EXIT_ERROR = 0, 1


@dataclass(frozen=True, slots=True)
class Command:
    """One subcommand.

    Attributes:
        name: the subcommand, e.g. ``"init-checkpoint"``.
        help: one line for ``--help``.
        configure: adds the subcommand's arguments to its parser.
        run: runs it from the parsed arguments; returns the exit status.
    """

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _configure_init_checkpoint(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--arch", required=True, help="architecture, e.g. ps-tiny")
    parser.add_argument("--seed", type=int, default=0, help="initialisation seed (default 0)")
    parser.add_argument("--out", required=True, type=Path, help="checkpoint folder to write")
    parser.add_argument("--name", default=None, help="model name (default ARCH-seedSEED)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint")


def _run_init_checkpoint(args: argparse.Namespace) -> int:
    from retrieval.ml.encoders.factory import init_checkpoint, load_model

    folder = init_checkpoint(
        str(args.arch),
        Path(args.out),
        seed=int(args.seed),
        name=args.name,
        overwrite=bool(args.overwrite),
    )
    loaded = load_model(folder)
    config = loaded.config
    print(f"wrote {folder}  name={config.name}  version={loaded.version}  dim={config.embed_dim}")
    return EXIT_OK


def _configure_embed(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="checkpoint folder, ARCH or ARCH/TAG")
    parser.add_argument("images", nargs="*", type=Path, metavar="IMAGE", help="image files")
    parser.add_argument("--text", action="append", default=[], help="a text to embed (repeatable)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--batch-size", type=int, default=32, help="items per forward pass")


def _run_embed(args: argparse.Namespace) -> int:
    import numpy as np
    from PIL import Image

    from retrieval.ml.encoders.factory import load_encoder

    paths: list[Path] = list(args.images)
    texts: list[str] = list(args.text)
    if not paths and not texts:
        raise ValueError("give at least one IMAGE or --text")
    encoder = load_encoder(
        str(args.model), device=str(args.device), batch_size=int(args.batch_size)
    )
    print(f"model {encoder.name}  version={encoder.version}  dim={encoder.dim}")
    images = []
    for path in paths:
        with Image.open(path) as img:
            img.load()
            images.append(img.copy())
    labels = [str(p) for p in paths] + [f"text:{t!r}" for t in texts]
    vectors = [*encoder.embed_images(images), *encoder.embed_texts(texts)]
    for label, vector in zip(labels, vectors, strict=True):
        head = " ".join(f"{v:+.4f}" for v in vector[:4])
        norm = float(np.linalg.norm(vector))
        print(f"{label}\tdim={vector.shape[0]}\tnorm={norm:.6f}\t[{head} ...]")
    return EXIT_OK


COMMANDS: list[Command] = [
    Command(
        "init-checkpoint",
        "write a seeded random-init checkpoint folder",
        _configure_init_checkpoint,
        _run_init_checkpoint,
    ),
    Command(
        "embed", "embed images/texts and print vector dims and norms", _configure_embed, _run_embed
    ),
    Command(
        "describe", "write LLM figure descriptions of a corpus", describe_cli.configure, describe_cli.run
    ),
    Command(
        "evaluate",
        "measure retrieval (mAP, Recall@K, MRR@K, bands) of a model on a corpus",
        evaluation_cli.configure_evaluate,
        evaluation_cli.run_evaluate,
    ),
    Command(
        "fit-classical",
        "fit the training-free HOG + PCA model on generated drawings",
        train_cli.configure_fit_classical,
        train_cli.run_fit_classical,
    ),
    Command("train", "train a model on a corpus folder", train_cli.configure, train_cli.run),
    Command(
        "train-head",
        "train a head on a frozen pretrained backbone (locked MiniLM text tower) from cached features",
        heads_cli.configure,
        heads_cli.run,
    ),
]


def build_parser(commands: Sequence[Command] = COMMANDS) -> argparse.ArgumentParser:
    """The ``python -m retrieval.ml`` parser with one subparser per command.

    Args:
        commands: the subcommands (default :data:`COMMANDS`).

    Returns:
        The parser; parsed namespaces carry the command's ``run`` as ``_run``.
    """
    parser = argparse.ArgumentParser(
        prog="python -m retrieval.ml", description=__doc__.splitlines()[0]
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in commands:
        sub = subparsers.add_parser(command.name, help=command.help, description=command.help)
        command.configure(sub)
        sub.set_defaults(_run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``) and run the chosen command.

    Returns:
        The exit status: 0 on success, 1 when the command failed with a reported error
        (bad value, missing file, model that cannot be loaded); argparse exits with 2 on
        bad usage.
    """
    args = build_parser().parse_args(argv)
    try:
        status: int = args._run(args)
    except (MLError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return status
