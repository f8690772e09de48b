"""The Celery app (Celery's Django example, plus schema upkeep for the embedded database)."""

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patentsearch.settings.base")

app = Celery("patentsearch")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _migrate_embedded_database(**_: object) -> None:
    from patentsearch.embedded import apply_migrations_if_embedded

    apply_migrations_if_embedded()
