from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from retrieval.ingest.pipeline import corpus_ingest
from retrieval.management.commands._base import AppCommand
from retrieval.management.progress import bar_updater, progress_bar, wait_for_encoding


class Command(AppCommand):
    help = "Ingest a corpus folder (or .zip): metadata.csv, images, optional descriptions.jsonl."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--name", help="Corpus name (default: the folder name).")
        parser.add_argument("--wait", action="store_true", help="Show encoding progress until done.")
        parser.add_argument("--timeout", type=float, default=0, help="With --wait: give up after N seconds.")

    def handle(self, *args: Any, **options: Any) -> None:
        with progress_bar(total=0, unit="img", desc="Checking images", verbosity=options["verbosity"]) as bar:
            result = corpus_ingest(path=options["path"], name=options["name"], progress=bar_updater(bar))
        self.stdout.write(
            f"Corpus {result.corpus_name!r}: {result.figures_added} figures added, "
            f"{result.already_present()}, {result.patents_added} new patents, "
            f"{result.texts_added} descriptions."
        )
        if result.figures_requeued:
            self.stdout.write(f"{result.figures_requeued} figures stored earlier without a vector were queued again.")
        if result.figures_not_queued:
            self.stderr.write(
                f"The broker (Redis) could not be reached: {result.figures_not_queued} figures are "
                "saved but not queued for encoding. Nothing is lost: once the broker is back, the "
                "periodic sweep (Celery beat) queues them, or run `python manage.py encode_missing`."
            )
            return
        if options["wait"]:
            wait_for_encoding(self, result.corpus_id, options["timeout"], options["verbosity"])

