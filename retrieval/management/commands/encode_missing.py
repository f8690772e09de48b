from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from retrieval.management.commands._base import AppCommand
from retrieval.models import RetrievalModel
from retrieval.selectors.encoding import encoding_backlog, figures_queued_since
from retrieval.selectors.search_text import search_texts_lost
from retrieval.services.encoding import model_encode_missing, model_follow_checkpoint
from retrieval.services.models import model_ensure_active
from retrieval.services.search_text import search_texts_sweep


class Command(AppCommand):
    help = (
        "Queue encoding of every ready figure that has no vector under the active model (or "
        "--model NAME): recovers figures whose tasks were lost (broker down, worker crash), and "
        "encodes every figure again where the model's weights changed under its name. Also queues "
        "the text rows that are missing or outdated and not waiting in a queue (as the sweep does)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", help="Model name (default: the active model).")

    def handle(self, *args: Any, **options: Any) -> None:
        started = timezone.now()
        if options["model"]:
            model = RetrievalModel.objects.filter(name=options["model"]).first()
            if model is None:
                raise CommandError(f"No model named {options['model']!r}.")
            model_follow_checkpoint(model=model)  # its weights changed: every figure again
        else:
            model = model_ensure_active()
        # Where the weights changed, following them queued every figure (on its commit, above):
        # those are not queued a second time.
        followed = figures_queued_since(model=model, since=started)
        backlog = encoding_backlog(model=model)
        queued = followed + model_encode_missing(model=model, queued_before=started)
        not_queued = encoding_backlog(model=model).lost
        if not_queued:
            raise CommandError(
                f"{not_queued} of {queued} figures could not be queued: the broker (Redis) is "
                "unreachable. Start it (or the worker's Redis) and run this command again."
            )
        texts = search_texts_sweep()
        if texts and search_texts_lost():
            raise CommandError(
                f"{texts} text rows could not be queued: the broker (Redis) is unreachable. Start it "
                "and run this command again."
            )
        self.stdout.write(
            f"Queued {queued} figures for encoding under {model.name} "
            f"({backlog.lost} were lost, {backlog.waiting - followed} were still waiting in the queue"
            + (f", {followed} had vectors of the model's earlier weights" if followed else "") + ")"
            + (f", and the rebuild of {texts} text rows that were missing or outdated." if texts else ".")
        )
