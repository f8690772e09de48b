"""Progress bars shared by the commands.

On a terminal, a tqdm bar redrawn in place. Where stderr is not a terminal (a log file, `make demo`
piped, a service's journal) a redrawn bar leaves hundreds of fragments joined by carriage returns,
so the same progress is written as a plain line at each tenth and at the end (`LineProgress`).
"""

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO, TypeVar

from django.core.management.base import BaseCommand
from tqdm import tqdm

from retrieval.models import RetrievalModel
from retrieval.selectors.corpora import corpus_encoding_progress
from retrieval.selectors.models import model_get_active

P = TypeVar("P")


class LineProgress:
    """tqdm's small interface the commands use (total, n, set_postfix, refresh, close, with), written
    as 'desc: 40/120 fig (33 %), failed=0' lines: one each time the percentage passes a tenth, and
    one at the end."""

    def __init__(self, *, total: int, desc: str, unit: str, file: TextIO, disable: bool = False) -> None:
        self.total, self.n, self.desc, self.unit, self.file, self.disable = total, 0, desc, unit, file, disable
        self._postfix = ""
        self._tenth = -1
        self._said = ""

    def set_postfix(self, refresh: bool = True, **values: Any) -> None:
        self._postfix = ", ".join(f"{key}={value}" for key, value in values.items())
        if refresh:
            self.refresh()

    def _line(self) -> str:
        percent = f" ({100 * self.n // self.total} %)" if self.total else ""
        return f"{self.desc}: {self.n}/{self.total} {self.unit}{percent}" + (f", {self._postfix}" if self._postfix else "")

    def _say(self) -> None:
        line = self._line()
        if line != self._said:
            self.file.write(line + "\n")
            self.file.flush()
            self._said = line

    def refresh(self) -> None:
        tenth = 10 * self.n // self.total if self.total else 0
        if not self.disable and self.total and tenth != self._tenth:
            self._tenth = tenth
            self._say()

    def close(self) -> None:
        if not self.disable and self.total:
            self._say()

    def __enter__(self) -> "LineProgress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress_bar(*, total: int, desc: str, unit: str, verbosity: int, file: TextIO | None = None) -> Any:
    """A tqdm bar on a terminal, else a LineProgress; hidden at verbosity 0."""
    out = file or sys.stderr
    if out.isatty():
        return tqdm(total=total, unit=unit, desc=desc, disable=verbosity == 0, file=out)
    return LineProgress(total=total, desc=desc, unit=unit, file=out, disable=verbosity == 0)


def bar_updater(bar: Any) -> Callable[[int, int], None]:
    """A ``progress(done, total)`` callback (the services' and the ML library's) that moves ``bar``."""

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return update


def poll_with_progress(
    command: BaseCommand,
    *,
    total: int,
    desc: str,
    read: Callable[[], P],
    counts: Callable[[P], tuple[int, int, bool]],
    timeout: float,
    queue: str,
    interval: float,
    verbosity: int,
    stalled_after: float = 0,
) -> P:
    """A progress bar that calls ``read()`` every ``interval`` seconds until it says finished.

    Args:
        command: the command whose stderr gets the timeout message.
        total: figures the bar counts to.
        desc: the bar's label.
        read: reads the progress now.
        counts: ``(figures done or failed, figures failed, finished)`` of a ``read()`` result.
        timeout: give up after this many seconds (0: wait for ever).
        queue: the Celery queue named in the timeout message.
        interval: seconds between reads.
        verbosity: the command's verbosity; 0 hides the bar.
        stalled_after: give up when no figure was done for this many seconds (0: never), as a
            missing worker would leave it.

    Returns:
        The last ``read()`` result.
    """
    started = moved = time.monotonic()
    last_done = -1
    with progress_bar(total=total, unit="fig", desc=desc, verbosity=verbosity) as bar:
        while True:
            progress = read()
            done_count, failed, finished = counts(progress)
            if done_count != last_done:
                last_done, moved = done_count, time.monotonic()
            bar.n = done_count
            bar.set_postfix(failed=failed, refresh=False)
            bar.refresh()
            if finished:
                break
            if timeout and time.monotonic() - started > timeout:
                command.stderr.write(
                    f"Timed out waiting; is a Celery worker for queue '{queue}' running?"
                )
                break
            if stalled_after and time.monotonic() - moved > stalled_after:
                command.stderr.write(
                    f"No figure was done in {stalled_after:g} s; is a Celery worker for queue '{queue}' running?"
                )
                break
            time.sleep(interval)
    return progress


def wait_for_encoding(
    command: BaseCommand, corpus_id: int, timeout: float, verbosity: int, *,
    model: RetrievalModel | None = None, stalled_after: float = 0, summary: TextIO | None = None,
) -> None:
    """A progress bar over the corpus's figures until each is encoded (under ``model``, else the
    active one) or failed; then a summary line (to ``summary``, else the command's stdout)."""
    model = model or model_get_active()
    progress = poll_with_progress(
        command,
        total=corpus_encoding_progress(corpus_id=corpus_id, model=model).total,
        desc=f"Encoding ({model.name})",
        read=lambda: corpus_encoding_progress(corpus_id=corpus_id, model=model),
        counts=lambda p: (p.encoded + p.failed, p.failed, p.done),
        timeout=timeout,
        queue="gpu",
        interval=0.5,
        verbosity=verbosity,
        stalled_after=stalled_after,
    )
    (summary or command.stdout).write(
        f"Encoded {progress.encoded} of {progress.total} figures, {progress.failed} failed.\n"
    )
