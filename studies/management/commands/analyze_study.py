import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from retrieval.management.commands._base import AppCommand
from studies.selectors.studies import study_by_name, study_summary
from studies.summary_text import summary_lines


class Command(AppCommand):
    help = (
        "Per-arm means with 95 % confidence intervals, paired Wilcoxon signed-rank tests between "
        "arms, and for interleaving the preference per arm with a sign test."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The study's name.")
        parser.add_argument("--json", type=Path, metavar="FILE", help="Also write the summary as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        study = study_by_name(options["name"])
        if study is None:
            raise CommandError(f"There is no study named {options['name']!r}.")
        summary = study_summary(study=study)
        for line in summary_lines(summary):
            self.stdout.write(line)
        if options["json"]:
            options["json"].write_text(json.dumps(summary, indent=2) + "\n")
            self.stdout.write(f"Wrote {options['json']}")
