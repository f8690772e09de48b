"""The recipes of the shipped models: variants differ only in method, and the table renders."""

import json
from pathlib import Path

from retrieval.ml.cli import build_parser
from retrieval.ml.recipes import VARIANTS, evaluate_steps, fine_tune_step, table

DATA, WORK = Path("dev"), Path("work")


def _options(variant: str) -> dict[str, object]:
    args = build_parser().parse_args(fine_tune_step(variant, DATA, WORK, WORK / variant, 2))
    return {k: v for k, v in vars(args).items() if not k.startswith("_")}


def test_variants_share_data_schedule_and_start_and_differ_only_in_losses_and_sampler() -> None:
    method = {"losses", "descriptions", "class_label", "balance_beta", "logit_adjust", "sampler",
              "out", "name"}
    options = {variant: _options(variant) for variant in VARIANTS}
    shared = [{k: v for k, v in o.items() if k not in method} for o in options.values()]
    assert all(s == shared[0] for s in shared)
    assert shared[0]["init"] == str(WORK / "pretrain-synthetic") and shared[0]["split"] == "train"
    assert options["baseline"]["losses"] == "patent" and not options["baseline"]["descriptions"]
    assert options["default"]["losses"] == "patent,image-text,class"
    assert options["default"]["sampler"] == "class-aware" and options["baseline"]["sampler"] == "random"


def test_evaluation_is_on_the_test_patents_with_class_relevance_excluding_own_patent() -> None:
    steps = evaluate_steps("classical", DATA, WORK, 1)
    parsed = [build_parser().parse_args(step) for step in steps]
    assert {p.split for p in parsed} == {"test"}
    assert [(p.relevance, p.exclude_same_patent) for p in parsed] == [
        ([("patent",)], False), ([("us_class",)], True), ([("locarno",)], True)]


def test_table_lists_each_report(tmp_path: Path) -> None:
    report = {"mAP": 0.5, "recall@10": 0.75, "mrr@10": 0.25, "queries": 12,
              "bands": {"head": {"mAP": 0.6}, "middle": {"mAP": 0.5}, "tail": {"mAP": 0.4}}}
    (tmp_path / "default.us_class.json").write_text(json.dumps(report))
    text = table(tmp_path)
    assert "| `default` (full method) | 0.500 | 0.750 | 0.250 | 0.600 | 0.500 | 0.400 | 12 |" in text
    assert "classical" not in text.split("us_class")[1]


def test_shipped_heads_differ_only_in_losses_and_sampler() -> None:
    from retrieval.ml.recipes import HEAD_VARIANTS, head_step

    parsed = {v: vars(build_parser().parse_args(head_step(v, DATA, WORK / v, WORK))) for v in HEAD_VARIANTS}
    method = {"losses", "sampler", "out", "name", "_run", "command"}
    shared = [{k: v for k, v in o.items() if k not in method and not k.startswith("_")} for o in parsed.values()]
    assert shared[0] == shared[1]
    assert parsed["default"]["losses"] == "patent,image-text,class" and parsed["baseline"]["losses"] == "patent"
    assert shared[0]["val_fraction"] == 0.15  # the validation patents stay unseen for choosing fusion weights
