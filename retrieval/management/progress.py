"""Progress bars shared by the commands."""

import time
from collections.abc import Callable
from typing import TypeVar

from django.core.management.base import BaseCommand
from tqdm import tqdm

from retrieval.selectors.corpora import corpus_encoding_progress
from retrieval.selectors.models import model_get_active

P = TypeVar("P")


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

    Returns:
        The last ``read()`` result.
    """
    started = time.monotonic()
    with tqdm(total=total, unit="fig", desc=desc, disable=verbosity == 0) as bar:
        while True:
            progress = read()
            done_count, failed, finished = counts(progress)
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
            time.sleep(interval)
    return progress


def wait_for_encoding(command: BaseCommand, corpus_id: int, timeout: float, verbosity: int) -> None:
    """A progress bar over the corpus's figures until each is encoded or failed."""
    model = model_get_active()
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
    )
    command.stdout.write(
        f"Encoded {progress.encoded} of {progress.total} figures, {progress.failed} failed."
    )
