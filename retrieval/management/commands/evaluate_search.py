"""Measure retrieval through the real search path: every figure of a corpus as a query."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from retrieval import inference
from retrieval.management.commands._base import AppCommand
from retrieval.management.progress import wait_for_encoding
from retrieval.models import Corpus
from retrieval.selectors.encoding import model_coverage
from retrieval.selectors.evaluation import (
    GRIDS,
    QUERY_TEXTS,
    RELEVANCES,
    SearchEvaluationRequest,
    evaluate_search,
)
from retrieval.selectors.models import model_get_active
from retrieval.selectors.search import CHANNELS
from retrieval.selectors.search_text import search_texts_missing
from retrieval.services.search_text import search_texts_rebuild_missing

KEYS = ("mAP", "recall@1", "recall@5", "recall@10", "recall@20", "mrr@10", "queries", "skipped")


class Command(AppCommand):
    help = (
        "Run every figure of an ingested corpus as a query through the search service (drawing "
        "index, text channels, fusion) and report mAP, Recall@K, MRR@K and bands, with the keys of "
        "`python -m retrieval.ml evaluate`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("corpus", help="Corpus name.")
        parser.add_argument("--relevance", choices=RELEVANCES, default="patent")
        parser.add_argument("--exclude-same-patent", action="store_true",
                            help="class relevance: take the query's own patent out of its gallery")
        parser.add_argument("--patent-level", action="store_true",
                            help="rank other patents by their best figure; relevance per patent")
        parser.add_argument("--query-text", choices=QUERY_TEXTS, default="none",
                            help="title: the query patent's title (else object name) is the query's text; object: its object name")
        parser.add_argument("--no-drawing", action="store_true", help="text-only queries (title-only reference)")
        parser.add_argument("--random", type=int, default=None, metavar="SEED",
                            help="rank the gallery at random instead of searching (reference row)")
        parser.add_argument("--title-reference", action="store_true",
                            help="rank by the sentence model's cosine of the query's title and each candidate's "
                            "title, outside the search channels (reference row; with --query-text title)")
        parser.add_argument("--judged-only", action="store_true",
                            help="us_class/locarno: leave candidates without a class out of every ranking before "
                            "scoring instead of counting them as misses (condensed lists; an extra protocol)")
        parser.add_argument("--k", type=int, default=100, help="ranking depth (default 100)")
        parser.add_argument("--split", choices=("all", "train", "val", "test"), default="all",
                            help="evaluate one side of the ML library's fixed patent split (default all)")
        parser.add_argument("--split-seed", type=int, default=0)
        parser.add_argument("--test-fraction", type=float, default=0.3)
        parser.add_argument("--val-fraction", type=float, default=0.0)
        parser.add_argument("--weights", default="",
                            help=f"fusion weights to use instead of the settings, e.g. drawing=1,sentence=2 "
                            f"(channels: {', '.join(CHANNELS)})")
        parser.add_argument("--text-weight", type=float, default=0.5)
        parser.add_argument("--grid", nargs="?", const="channels", choices=sorted(GRIDS), default=None,
                            help="also fuse under a grid of channel weights and list the best (for the val split); "
                            "channels (default): the five first channels; joint: with the joint channel")
        parser.add_argument("--joint-drawing-weight", type=float, default=None, metavar="ALPHA",
                            help="the drawing's share in the joint channel's query normalize(t + ALPHA·d) "
                            "(default: the setting RETRIEVAL_JOINT_DRAWING_WEIGHT)")
        parser.add_argument("--class-focus", type=float, default=None, metavar="WEIGHT",
                            help="the class focus's weight (default: the setting RETRIEVAL_CLASS_FOCUS_WEIGHT; "
                            "0 turns it off). Given explicitly, it also re-ranks the --random and "
                            "--title-reference rankings, which otherwise stay as the references are")
        parser.add_argument("--class-focus-patents", type=int, default=None, metavar="M",
                            help="patents that vote for the focused classes (default: RETRIEVAL_CLASS_FOCUS_PATENTS)")
        parser.add_argument("--json", type=Path, default=None, help="write the full report here")
        parser.add_argument("--no-wait", action="store_true",
                            help="refuse at once when figures of the corpus have no vector yet, instead of "
                            "waiting for the workers to encode them")
        parser.add_argument("--wait-timeout", type=float, default=0, metavar="S",
                            help="give up waiting for the encoding after S seconds (default 0: no limit)")
        parser.add_argument("--wait-stall", type=float, default=300, metavar="S",
                            help="give up waiting when no figure was encoded for S seconds (default 300)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            request = SearchEvaluationRequest(
                corpus=options["corpus"], relevance=options["relevance"],
                exclude_same_patent=options["exclude_same_patent"], patent_level=options["patent_level"],
                query_text=options["query_text"], query_drawing=not options["no_drawing"], k=options["k"],
                split=options["split"], split_seed=options["split_seed"],
                test_fraction=options["test_fraction"], val_fraction=options["val_fraction"],
                weights=_weights(options["weights"]), text_weight=options["text_weight"],
                random_seed=options["random"], title_reference=options["title_reference"],
                joint_drawing_weight=options["joint_drawing_weight"], judged_only=options["judged_only"],
                class_focus=options["class_focus"], class_focus_patents=options["class_focus_patents"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if request.searches and not options["no_wait"]:
            self._wait_for_encoding(request.corpus, options)
        missing = len(search_texts_missing())
        if missing:
            self.stderr.write(f"Building the text-channel rows of {missing} figures first ...")
            search_texts_rebuild_missing()
        verbose = options["verbosity"] > 1

        def progress(done: int, total: int) -> None:
            if verbose and (done % 50 == 0 or done == total):
                self.stderr.write(f"  {done}/{total} queries")

        try:
            report = evaluate_search(request, progress=progress, weight_grid=GRIDS[options["grid"]]() if options["grid"] else ())
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            options["json"].parent.mkdir(parents=True, exist_ok=True)
            options["json"].write_text(json.dumps(report, indent=2) + "\n")
        self.stdout.write(_format(report))

    def _wait_for_encoding(self, corpus_name: str, options: dict[str, Any]) -> None:
        """Evaluated before the workers have encoded every figure, the missing ones would count as
        misses (the evaluation refuses then): wait for them, as ``ingest_corpus --wait`` does."""
        corpus = Corpus.objects.filter(name=corpus_name).first()
        model = model_get_active()
        if corpus is None or model_coverage(model, corpus).complete:
            return  # an unknown corpus is refused by the evaluation with its own message
        self.stderr.write(f"Waiting for the workers to encode corpus {corpus.name!r} under {model.name} ...")
        wait_for_encoding(self, corpus.pk, options["wait_timeout"], options["verbosity"], model=model,
                          stalled_after=options["wait_stall"], summary=self.stderr)


def _weights(text: str) -> dict[str, float]:
    weights = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            raise CommandError(f"--weights: {part!r} is not CHANNEL=NUMBER") from None
        if not sep or weights[name.strip()] < 0:
            raise CommandError(f"--weights: {part!r} is not CHANNEL=NUMBER (>= 0)")
    return weights


def _format(report: dict[str, Any]) -> str:
    o = report["options"]
    lines = [
        f"corpus {report['corpus']} ({o['split']}), model {report['model']['name']}, relevance {o['relevance']}"
        f"{' excluding the same patent' if o['exclude_same_patent'] else ''}"
        f"{', patent level' if o['patent_level'] else ''}"
        f"{', unlabelled candidates left out' if o.get('judged_only') else ''}, query: "
        + ("random ranking" if o["random_seed"] is not None else
           "title reference (title against titles, sentence model)" if o.get("title_reference") else
           " + ".join(x for x in ("drawing" if o["query_drawing"] else "", o["query_text"] if o["query_text"] != "none" else "") if x)),
        "  " + "  ".join(f"{key} {report[key]:.3f}" if isinstance(report[key], float) else f"{key} {report[key]}"
                         for key in KEYS if key in report),
    ]
    if "mAP_patent_weighted" in report:
        lines.append(f"  mAP with each query patent weighing once {report['mAP_patent_weighted']:.3f}")
    focus = report.get("class_focus")
    if focus:
        lines.append(f"  class focus: weight {focus['weight']}, {focus['patents']} voting patents"
                     if focus["weight"] > 0 else "  class focus: off")
    for band, values in report.get("bands", {}).items():
        lines.append(f"  {band:<6} mAP {values['mAP']:.3f}  recall@10 {values['recall@10']:.3f}  queries {values['queries']}")
    texts = report.get("texts", {})
    if texts:
        lines.append("  texts: " + "; ".join(
            f"{kind.replace('_', ' ')}s " + ", ".join(f"{n} from {source}" for source, n in by_source.items())
            for kind, by_source in texts.items()))
    if report.get("undescribed"):
        lines.append(f"  note: {report['undescribed']} of the {report['figures']} figures had no description yet "
                     "(describing is queued on the llm queue, or no llm worker runs): their texts were titles and "
                     "captions only; `manage.py describe_figures --corpus NAME --missing-only --wait` waits for them")
    offline = any(inference.describer_names_class_headings(source) for source in texts.get("description", {}))
    if offline and o["relevance"] in ("us_class", "locarno"):
        lines.append("  note: the offline describer's texts name each figure's class heading, read from the "
                     "figure's own classification (the label this relevance uses); with them these class "
                     "numbers do not measure language understanding alone")
    if "grid" in report:
        best = sorted(report["grid"], key=lambda r: -r["mAP"])[:10]
        lines.append("  best weight settings (mAP, recall@10, mrr@10):")
        lines += [f"    {r['mAP']:.3f} {r['recall@10']:.3f} {r['mrr@10']:.3f}  {r['weights']}" for r in best]
    return "\n".join(lines)
