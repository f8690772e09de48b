from typing import Any

from django.core.management.base import CommandError, CommandParser

from retrieval.management.commands._base import AppCommand
from retrieval.management.progress import poll_with_progress
from retrieval.models import Corpus
from retrieval.selectors.descriptions import figures_describe_progress
from retrieval.services.describe import DescribeQueued, figures_describe_missing


class Command(AppCommand):
    help = (
        "Queue LLM descriptions (Celery queue 'llm') for ready figures that lack them from the "
        "configured backend (RETRIEVAL_DESCRIBE_BACKEND)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--corpus", help="Only this corpus (name).")
        parser.add_argument(
            "--missing-only",
            action="store_true",
            help="Only figures with no description at all (imported ones count).",
        )
        parser.add_argument(
            "--wait", action="store_true", help="Show progress until every figure is done."
        )
        parser.add_argument(
            "--timeout", type=float, default=0, help="With --wait: give up after N seconds."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        corpus_id = _corpus_id(options["corpus"])
        queued = figures_describe_missing(corpus_id=corpus_id, missing_only=options["missing_only"])
        count, batches = len(queued.figure_ids), queued.batches
        self.stdout.write(f"Queued {count} figures in {batches} batches for {queued.source}.")
        if options["wait"] and queued.figure_ids:
            self._wait(queued, options["timeout"], options["verbosity"])

    def _wait(self, queued: DescribeQueued, timeout: float, verbosity: int) -> None:
        progress = poll_with_progress(
            self,
            total=len(queued.figure_ids),
            desc="Describing",
            read=lambda: figures_describe_progress(
                figure_ids=queued.figure_ids, source=queued.source
            ),
            counts=lambda p: (p.described + p.failed, p.failed, p.done),
            timeout=timeout,
            queue="llm",
            interval=1,
            verbosity=verbosity,
        )
        self.stdout.write(
            f"Described {progress.described} of {progress.total} figures, {progress.failed} failed "
            "(reasons in each figure's error)."
        )


def _corpus_id(name: str | None) -> int | None:
    if name is None:
        return None
    corpus = Corpus.objects.filter(name=name).first()
    if corpus is None:
        raise CommandError(f"No corpus named {name!r}.")
    return corpus.pk
