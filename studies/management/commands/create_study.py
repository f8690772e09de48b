from typing import Any

from django.core.management.base import CommandParser
from tqdm import tqdm

from retrieval.management.commands._base import AppCommand
from studies.models import Study
from studies.services.definition import study_create_from_corpus, study_encode_missing


def _names(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class Command(AppCommand):
    help = (
        "Create a user study whose tasks are N patents of a corpus (up to --views drawings each as "
        "the query, the rest of the corpus as the gallery). Prints the study id on stdout."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--arms", required=True, type=_names,
                            help="Registered model names, comma separated; NAME+text searches drawing + text.")
        parser.add_argument("--tasks-from", required=True, metavar="CORPUS_NAME")
        parser.add_argument("--tasks", required=True, type=int, metavar="N")
        parser.add_argument("--views", type=int, default=2, help="Query drawings per task (default 2).")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--participants", required=True, type=_names, help="User names, comma separated.")
        parser.add_argument("--design", choices=Study.Design.values, default=Study.Design.WITHIN)
        parser.add_argument("--k", type=int, default=10, help="Hits per task (default 10).")
        parser.add_argument("--time-limit", type=int, default=None, metavar="SECONDS", help="Per task.")
        parser.add_argument("--no-encode", action="store_true",
                            help="Queue missing vectors for the workers instead of computing them here.")

    def handle(self, *args: Any, **options: Any) -> None:
        study = study_create_from_corpus(
            name=options["name"], arms=options["arms"], corpus_name=options["tasks_from"],
            n_tasks=options["tasks"], views=options["views"], seed=options["seed"],
            participants=options["participants"], design=options["design"], k=options["k"],
            time_limit_s=options["time_limit"], queue_vectors=options["no_encode"],
        )
        if not options["no_encode"]:
            with tqdm(total=0, unit="fig", desc="Encoding for the arms", file=self.stderr._out,
                      disable=options["verbosity"] == 0) as bar:
                study_encode_missing(study=study, progress=lambda done, total: _update(bar, done, total))
        self.stderr.write(
            f"Study {study.name!r}: {study.arms.count()} arms, {study.tasks.count()} tasks, "
            f"{study.participants.count()} participants, design {study.design}."
        )
        self.stdout.write(str(study.pk))


def _update(bar: tqdm, done: int, total: int) -> None:
    bar.total = total
    bar.n = done
    bar.refresh()
