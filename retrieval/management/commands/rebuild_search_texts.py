"""Rebuild the text-channel rows that are missing or outdated (retrieval.services.search_text)."""

from typing import Any

from django.core.management.base import CommandParser

from retrieval.management.commands._base import AppCommand
from retrieval.selectors.search_text import search_texts_missing, text_row_version
from retrieval.services.search_text import search_texts_rebuild_missing


class Command(AppCommand):
    help = (
        "Rebuild, in this process, the text-channel rows (words, sentence vector) of every ready "
        "figure whose row is missing or outdated: after the sentence model, its composition or "
        "RETRIEVAL_SENTENCE_NAMES_SHARE changed. Search keeps answering from the old rows meanwhile."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="only say how many rows are missing or outdated")

    def handle(self, *args: Any, **options: Any) -> None:
        version = text_row_version()
        if options["dry_run"]:
            self.stdout.write(f"{len(search_texts_missing())} text rows are missing or not of version {version}.")
            return

        def progress(done: int, total: int) -> None:
            self.stderr.write(f"  {done}/{total} figures")

        rebuilt = search_texts_rebuild_missing(progress=progress if options["verbosity"] > 1 else None)
        self.stdout.write(f"Rebuilt {rebuilt} text rows (version {version}).")
