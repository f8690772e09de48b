import dataclasses
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from retrieval.exceptions import InvalidImageError
from retrieval.images import open_query_image
from retrieval.index import FigureFilters
from retrieval.management.commands._base import AppCommand
from retrieval.selectors.search import figure_search


class Command(AppCommand):
    help = "Search the corpus for the figures most similar to a drawing, a text, or both."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("image", type=Path, nargs="?", help="The query drawing (PNG, JPEG, TIFF, PDF: first page).")
        parser.add_argument("--k", type=int, default=10, help="How many figures to list (default 10).")
        parser.add_argument("--text", default="",
                            help="A description: mixed in with a drawing, or the whole query without one.")
        parser.add_argument("--no-class-focus", action="store_true",
                            help="Keep the fused order: do not rank the best hits' classes first.")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1 <= options["k"] <= settings.RETRIEVAL_MAX_K:
            raise CommandError(f"--k must be between 1 and {settings.RETRIEVAL_MAX_K}")
        path: Path | None = options["image"]
        text = options["text"].strip()
        if path is None and not text:
            raise CommandError("give a drawing, a --text, or both")
        image = None
        if path is not None:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            try:
                image = open_query_image(path.read_bytes(), max_pixels=settings.RETRIEVAL_MAX_IMAGE_PIXELS)
            except InvalidImageError as exc:
                raise CommandError(f"{path}: {exc.message}") from exc
        result = figure_search(image=image, text=text, k=options["k"], filters=FigureFilters(),
                               class_focus=not options["no_class_focus"])
        rows = [_row(hit) for hit in result.hits]
        focus = result.focus
        if options["json"]:
            self.stdout.write(json.dumps({"model": result.model.name, "class_focus": dataclasses.asdict(focus) if focus else None,
                                          "unsearched": result.unsearched, "excluded": list(result.excluded),
                                          "hits": rows}, indent=2))
            return
        if result.unsearched and result.unsearched_by_text:
            self.stderr.write(f"Not a complete search: {result.unsearched} figures were not compared (their words are "
                              "still being indexed for text search by the `default` worker).")
        elif result.unsearched:
            self.stderr.write(f"Not a complete search: {result.unsearched} figures were not compared (no vector "
                              f"under {result.model.name} yet): `manage.py encoding_progress CORPUS` follows "
                              "the encoding, `manage.py encode_missing` queues those no worker has.")
        if result.excluded:
            self.stdout.write("left out: every figure whose words hold " + " or ".join(result.excluded))
        if focus is not None:
            self.stdout.write("class focus (from " + ", ".join(focus.patents) + "): " + focus.summary())
        self.stdout.write(f"{'rank':>4}   {'score':>6}  {'class':>5}  {'patent':<12} {'fig':<5} {'title':<40} source_file")
        for row in rows:
            same = "=" if row["identical"] else " "
            self.stdout.write(
                f"{row['rank']:>4}{same}  {row['score']:>6.3f}  {row['class_boost']:>+5.2f}  {row['patent_id']:<12} "
                f"{row['figure_label']:<5} {_cut(row['title'], 40):<40} {row['source_file']}"
            )
        if any(row["identical"] for row in rows):
            self.stdout.write("= the query's own drawing (the same pixels): ranked first for that")


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _row(hit: Any) -> dict[str, Any]:
    figure = hit.figure
    return {
        "rank": hit.rank, "score": round(hit.score, 6), "class_boost": hit.class_boost, "channels": hit.channels,
        "identical": hit.identical,
        "figure_id": figure.pk,
        "patent_id": figure.patent.patent_id, "figure_label": figure.figure_label,
        "source_file": figure.source_file, "page": figure.page, "corpus": figure.corpus.name,
        "title": figure.patent.title, "caption": figure.caption,
    }
