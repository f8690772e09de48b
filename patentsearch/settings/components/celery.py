"""Celery: ids-only JSON payloads, late acks, one queue per kind of work, a periodic sweep.

Delivery is at least once and every task is idempotent: a message is acknowledged only after
its task ran (late acks); a worker process that dies mid-task (SIGKILL, out of memory) gets its
message put back (reject on worker lost); a worker that dies whole leaves its message unacked,
and Redis delivers it again after the visibility timeout. A task that fails for good is not
acknowledged as done either; the Redis transport drops rejected messages, so figures whose
encoding never finished are found and queued again by the sweep (retrieval.encoding_sweep).
"""

from kombu import Queue

from patentsearch import embedded
from patentsearch.env import env
from patentsearch.settings.components.paths import REDIS_URL, VAR_DIR

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or embedded.celery_broker_url(REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_ACKS_ON_FAILURE_OR_TIMEOUT = False
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
CELERY_BEAT_SCHEDULE = {
    "encoding-sweep": {
        "task": "retrieval.encoding_sweep",
        "schedule": env.float("RETRIEVAL_SWEEP_SECONDS", default=10 * 60),
        "options": {"expires": 60},
    },
    "console-jobs-sweep": {
        "task": "console.jobs_sweep",
        "schedule": env.float("CONSOLE_SWEEP_SECONDS", default=5 * 60),
        "options": {"expires": 60},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
