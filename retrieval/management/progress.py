"""Progress bars shared by the commands."""

import time

from django.core.management.base import BaseCommand
from tqdm import tqdm

from retrieval.selectors.corpora import corpus_encoding_progress
from retrieval.selectors.search import model_get_active


def wait_for_encoding(command: BaseCommand, corpus_id: int, timeout: float, verbosity: int) -> None:
    """A progress bar over the corpus's figures until each is encoded or failed."""
    model = model_get_active()
    started = time.monotonic()
    progress = corpus_encoding_progress(corpus_id=corpus_id, model=model)
    with tqdm(total=progress.total, unit="fig", desc=f"Encoding ({model.name})", disable=verbosity == 0) as bar:
        while True:
            progress = corpus_encoding_progress(corpus_id=corpus_id, model=model)
            bar.n = progress.encoded + progress.failed
            bar.set_postfix(failed=progress.failed, refresh=False)
            bar.refresh()
            if progress.done:
                break
            if timeout and time.monotonic() - started > timeout:
                command.stderr.write("Timed out waiting; is a Celery worker for queue 'gpu' running?")
                break
            time.sleep(0.5)
    command.stdout.write(f"Encoded {progress.encoded} of {progress.total} figures, {progress.failed} failed.")
