"""PatentSearch project glue: settings, URLs, the Celery app, shared errors."""

from .celery import app as celery_app

__all__ = ["celery_app"]
