"""The recipes of the shipped models and of the evaluation table, as plain command lines.

``python -m retrieval.ml.recipes models [--data DEV_CORPUS]`` rebuilds the shipped models
that are missing (``classical``, ``default``, ``baseline``): ``default`` and ``baseline`` are
heads on the frozen ImageNet MobileNetV2 (``train-head``, :data:`HEAD_VARIANTS`), trained in
minutes on 2 CPU cores from cached features. ``python -m retrieval.ml.recipes ablation`` trains
the earlier from-scratch rows of docs/evaluation.md (the small ResNet pre-trained on generated
drawings) and evaluates them on the held-out test patents. Every step is a
``python -m retrieval.ml ...`` command printed before it runs, so each can be rerun by hand;
``python -m retrieval.ml.recipes table`` prints the tables of the reports.
Steps whose output already exists are skipped (delete the folder to redo one).

All variants share one start: a ResNet pre-trained only on drawings the project generates
(other views of one synthetic object are positives; no text, no classes), then the same data
(the train patents of DEV_CORPUS), epochs, batch size and learning rate. They differ only in
their losses and sampler, so the table measures the method, not the compute.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from retrieval.ml.cli import main as ml_main
from retrieval.ml.corpus_format import METADATA_FILE

ARCH = "ps-resnet-tiny"
SYNTH_PATENTS, SYNTH_SEED = 400, 101
SPLIT = ["--split-seed", "0", "--test-fraction", "0.3"]
FINE_TUNE = [
    "--split", "train", *SPLIT, "--epochs", "30", "--batch-size", "64",
    "--lr", "5e-4", "--seed", "0", "--per-patent", "4", "--no-progress",
]
LONG_TAIL = ["--class-label", "us_class", "--balance-beta", "0.5"]
#: Row of the evaluation table -> the losses and sampler of its fine-tuning.
VARIANTS: dict[str, list[str]] = {
    "baseline": ["--losses", "patent", "--sampler", "random"],
    "baseline-text": ["--losses", "patent,image-text", "--descriptions", "--sampler", "random"],
    "baseline-da": ["--losses", "patent,class", *LONG_TAIL, "--sampler", "class-aware"],
    "default": [
        "--losses", "patent,image-text,class", "--descriptions", *LONG_TAIL,
        "--sampler", "class-aware",
    ],
}
RELEVANCE = [("patent", False), ("us_class", True), ("locarno", True)]
#: The shipped models: heads on the frozen pretrained backbone (retrieval/ml/training/heads.py),
#: same features, split (validation patents held out), epochs and learning rate; they differ
#: only in their losses and sampler.
HEAD_VARIANTS: dict[str, list[str]] = {
    "baseline": ["--losses", "patent", "--sampler", "random"],
    "default": ["--losses", "patent,image-text,class", "--sampler", "class-aware"],
}


def head_step(variant: str, data: Path, out: Path, work: Path) -> list[str]:
    """The train-head command of a shipped variant."""
    return ["train-head", "--corpus", str(data), "--out", str(out), "--name", variant,
            "--cache", str(work / "features"), *HEAD_VARIANTS[variant]]


def pretrain_steps(work: Path, threads: int) -> list[list[str]]:
    """Generate the synthetic corpus and pre-train on it (views of one object are positives)."""
    synth, pre = work / f"synth-{SYNTH_PATENTS}", work / "pretrain-synthetic"
    generate = [
        sys.executable, "-m", "retrieval.ml.samples", str(synth), "--patents", str(SYNTH_PATENTS),
        "--seed", str(SYNTH_SEED), "--image-size", "512", "--quiet",
    ]
    train = [
        "train", "--corpus", str(synth), "--split", "all", "--out", str(pre), "--arch", ARCH,
        "--losses", "patent", "--two-views", "--sampler", "random", "--per-patent", "4",
        "--epochs", "8", "--batch-size", "64", "--lr", "1e-3", "--seed", "0",
        "--threads", str(threads), "--name", "pretrain-synthetic-views", "--no-progress",
    ]
    return [generate, train]


def fine_tune_step(variant: str, data: Path, work: Path, out: Path, threads: int) -> list[str]:
    """The train command of one variant, starting from the synthetic pre-training."""
    return [
        "train", "--corpus", str(data), "--out", str(out), "--init", str(work / "pretrain-synthetic"),
        *FINE_TUNE, *VARIANTS[variant], "--threads", str(threads), "--name", variant,
    ]


def evaluate_steps(model: str, data: Path, reports: Path, threads: int) -> list[list[str]]:
    """Evaluate a model on the test patents under each relevance kind."""
    steps = []
    for relevance, exclude in RELEVANCE:
        name = Path(model).name
        command = [
            "evaluate", "--corpus", str(data), "--model", model, "--split", "test", *SPLIT,
            "--relevance", relevance, "--json", str(reports / f"{name}.{relevance}.json"),
            "--threads", str(threads), "--no-progress",
        ]
        steps.append(command + (["--exclude-same-patent"] if exclude else []))
    return steps


def run_step(step: Sequence[str], output: Path) -> None:
    """Print and run one step unless its output exists."""
    if output.exists():
        print(f"# exists, skipped: {output}", flush=True)
        return
    shown = step if step[0] == sys.executable else ["python", "-m", "retrieval.ml", *step]
    print("$ " + shlex.join(str(s) for s in shown), flush=True)
    if step[0] == sys.executable:
        import subprocess

        subprocess.run(step, check=True)
        return
    status = ml_main(list(step))
    if status != 0:
        raise SystemExit(f"step failed with status {status}: {shlex.join(step)}")


def pretrain(work: Path, threads: int) -> None:
    generate, train = pretrain_steps(work, threads)
    run_step(generate, work / f"synth-{SYNTH_PATENTS}" / METADATA_FILE)
    run_step(train, work / "pretrain-synthetic" / "model.json")


def build_models(data: Path, work: Path, shipped: Path, threads: int) -> None:
    """Rebuild shipped/classical, shipped/default and shipped/baseline (missing ones only)."""
    run_step(["fit-classical", "--out", str(shipped / "classical")], shipped / "classical" / "model.json")
    for variant in ("default", "baseline"):
        out = shipped / variant
        run_step(head_step(variant, data, out, work), out / "model.json")


def ablation(data: Path, work: Path, threads: int) -> None:
    """Train and evaluate every row of docs/evaluation.md; reports land in WORK/reports."""
    pretrain(work, threads)
    reports = work / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    models = ["classical"]
    for variant in VARIANTS:
        out = work / variant
        run_step(fine_tune_step(variant, data, work, out, threads), out / "model.json")
        models.append(str(out))
    for model in models:
        for step in evaluate_steps(model, data, reports, threads):
            run_step(step, Path(step[step.index("--json") + 1]))


ROWS = ["classical", *VARIANTS]
ROW_TITLES = {
    "classical": "`classical` (HOG + PCA, no training)",
    "baseline": "`baseline` (same-patent image loss)",
    "baseline-text": "`baseline + text`",
    "baseline-da": "`baseline + distribution-aware`",
    "default": "`default` (full method)",
}


def table(reports: Path) -> str:
    """The markdown tables of docs/evaluation.md from the JSON reports of :func:`ablation`."""
    import json

    lines = []
    for relevance, exclude in RELEVANCE:
        suffix = ", excluding the query's own patent" if exclude else ""
        lines += [f"**Relevance `{relevance}`{suffix}**", "",
                  "| model | mAP | R@10 | MRR@10 | mAP head | mAP middle | mAP tail | queries |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for row in ROWS:
            path = reports / f"{row}.{relevance}.json"
            if not path.exists():
                continue
            r = json.loads(path.read_text())
            bands = r.get("bands", {})
            band = [f"{bands[b]['mAP']:.3f}" if b in bands else "-" for b in ("head", "middle", "tail")]
            lines.append(f"| {ROW_TITLES[row]} | {r['mAP']:.3f} | {r['recall@10']:.3f} | "
                         f"{r['mrr@10']:.3f} | {' | '.join(band)} | {r['queries']} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retrieval.ml.recipes", description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=("models", "ablation", "table"))
    parser.add_argument("--data", type=Path, default=Path("../shared/data/design-patents-dev"),
                        help="dev corpus (default ../shared/data/design-patents-dev)")
    parser.add_argument("--work", type=Path, default=Path("var/experiments"), help="scratch folder")
    parser.add_argument("--shipped", type=Path, default=Path(__file__).resolve().parent / "shipped")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if args.target == "table":
        print(table(args.work / "reports"))
        return 0
    if not (args.data / METADATA_FILE).is_file():
        parser.error(f"{args.data} is not a corpus folder (no {METADATA_FILE})")
    args.work.mkdir(parents=True, exist_ok=True)
    if args.target == "models":
        build_models(args.data, args.work, args.shipped, args.threads)
    else:
        ablation(args.data, args.work, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
