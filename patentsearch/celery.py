"""The Celery app (Celery's Django example, plus the one start-up step of every process)."""

import os

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patentsearch.settings.base")

app = Celery("patentsearch")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _prepare(**_: object) -> None:
    """Start (or join) the embedded servers and migrate the embedded database, before the worker
    (or beat) connects to the broker; in the worker's main process, before its pool forks."""
    from patentsearch import embedded

    embedded.prepare()
