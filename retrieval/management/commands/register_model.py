from typing import Any

from django.core.management.base import CommandParser

from retrieval.management.commands._base import AppCommand
from retrieval.services.models import model_register


class Command(AppCommand):
    help = "Register a model checkpoint folder (with model.json) or an open_clip hub name."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("spec", help="Checkpoint folder, or open_clip ARCH[/PRETRAINED].")
        parser.add_argument("--name")
        parser.add_argument("--activate", action="store_true", help="Make it the model search uses.")

    def handle(self, *args: Any, **options: Any) -> None:
        model = model_register(spec=options["spec"], name=options["name"], activate=options["activate"])
        state = "active; figures are queued for encoding" if model.is_active else "inactive"
        self.stdout.write(f"Registered {model.name} ({model.architecture}, dim {model.dim}): {state}.")
