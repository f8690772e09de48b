from typing import Any

from django.core.management.base import CommandError, CommandParser

from retrieval.management.commands._base import AppCommand
from retrieval.management.progress import wait_for_encoding
from retrieval.models import Corpus


class Command(AppCommand):
    help = "Show a corpus's encoding progress under the active model until it is done."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("corpus", help="Corpus name.")
        parser.add_argument("--timeout", type=float, default=0, help="Give up after N seconds.")

    def handle(self, *args: Any, **options: Any) -> None:
        corpus = Corpus.objects.filter(name=options["corpus"]).first()
        if corpus is None:
            raise CommandError(f"No corpus named {options['corpus']!r}.")
        wait_for_encoding(self, corpus.pk, options["timeout"], options["verbosity"])
