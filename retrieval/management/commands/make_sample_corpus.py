from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from retrieval import inference
from retrieval.management.progress import bar_updater, progress_bar


class Command(BaseCommand):
    help = "Write a synthetic design-patent corpus (line drawings + metadata.csv) to OUT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path)
        parser.add_argument("--patents", type=int, default=100)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with progress_bar(total=options["patents"], unit="patents", desc="Drawing", verbosity=options["verbosity"]) as bar:
                summary = inference.make_sample_corpus(
                    options["out"], patents=options["patents"], seed=options["seed"], progress=bar_updater(bar)
                )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Wrote {summary}.")
