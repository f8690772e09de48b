"""Celery: ids-only JSON payloads, late acks, one queue per kind of work."""

from kombu import Queue

from patentsearch import embedded
from patentsearch.env import env

from patentsearch.settings.base import REDIS_URL  # noqa: E402  (base imports this module last)

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or embedded.celery_broker_url(REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = (Queue("default"), Queue("gpu"), Queue("llm"))
CELERY_TASK_ROUTES = {
    "retrieval.figure_encode_batch": {"queue": "gpu"},
    "retrieval.figure_describe_batch": {"queue": "llm"},
}
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
