"""What ingest passes between its checking and writing halves, and what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from retrieval.ingest.corpus_metadata import FigureRow


@dataclass(frozen=True)
class StoredPage:
    """A verified page of a row's image, already stored under MEDIA_ROOT."""

    row: FigureRow
    page: int
    file_name: str
    sha256: str
    width: int
    height: int


@dataclass
class IngestResult:
    corpus_id: int
    corpus_name: str
    figures_added: int = 0
    figures_skipped: int = 0
    patents_added: int = 0
    texts_added: int = 0
    figure_ids: list[int] = field(default_factory=list)
    figures_requeued: int = 0  # stored earlier, encoding lost: queued again
    queued_ids: list[int] = field(default_factory=list)
    figures_not_queued: int = 0  # the broker was unreachable: waiting for the sweep
    #: Other corpora that hold figures of this one that were already present (the same patent and
    #: image uploaded before under another name: a figure belongs to the corpus that brought it).
    present_in: list[str] = field(default_factory=list)

    def already_present(self) -> str:
        """'12 already present', and where when it is another corpus (an upload under a new name
        that adds nothing leaves its corpus empty, which would otherwise be a puzzle)."""
        where = ", ".join(repr(name) for name in self.present_in)
        return f"{self.figures_skipped} already present" + (
            f" (in corpus {where})" if len(self.present_in) == 1 else f" (in corpora {where})" if where else ""
        )
