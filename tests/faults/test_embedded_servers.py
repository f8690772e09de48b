"""Embedded servers under concurrent first starts, crashes and long data paths (issue 9, 1/4/5)."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.faults.helpers import fresh_env, manage, servers_of, stop_servers

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def var_dir():
    """One fresh data folder: first started by three processes at once, then crashed into."""
    folder = Path(tempfile.mkdtemp(prefix="ps-fault-"))
    folder.chmod(0o755)
    yield folder
    stop_servers(folder)
    shutil.rmtree(folder, ignore_errors=True)


def _python(code: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """A process that loads the settings and starts (or joins) the servers, no migrations."""
    import sys

    from tests.faults.helpers import REPO

    setup = ("import django; django.setup(); from django.conf import settings; "
             "from patentsearch import embedded; embedded.prepare(migrate=False); ")
    return subprocess.Popen([sys.executable, "-c", setup + code], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _finish(process: subprocess.Popen[str], timeout: float = 300) -> tuple[int, str]:
    out, _ = process.communicate(timeout=timeout)
    return process.returncode, out


def _read_until(process: subprocess.Popen[str], start: str) -> str:
    """The first line of the process's output that starts with `start` (logs come before)."""
    while True:
        line = process.stdout.readline()
        assert line, "the process ended before it printed what the test waits for"
        if line.startswith(start):
            return line.strip()


def test_three_processes_started_together_on_a_fresh_folder_all_succeed(var_dir):
    env = fresh_env(var_dir)
    processes = [manage("check", env=env) for _ in range(3)]
    results = [_finish(p) for p in processes]
    for code, out in results:
        assert code == 0, out
        assert "System check identified no issues" in out
    # the schema was made exactly once and the servers stopped with the last process
    again = manage("showmigrations", "accounts", env=env)
    code, out = _finish(again)
    assert code == 0 and "[X] 0001_user" in out, out
    wait_for(lambda: not [p for p in servers_of(var_dir) if p.name() == "postgres"], timeout=120, interval=0.3)


def test_crash_leftovers_do_not_block_the_next_start(var_dir):
    env = fresh_env(var_dir)
    # a long-lived user of the embedded server dies without signing out
    holder = manage("shell", "--no-imports", "-c", "import time; print('up', flush=True); time.sleep(600)", env=env)
    _read_until(holder, "up")
    pgdata = var_dir / "postgres"
    assert holder.pid in json.loads((pgdata / ".handle_pids.json").read_text())
    holder.kill()
    holder.wait(30)
    # the next process prunes the dead handle, so when it exits the server stops
    code, out = _finish(manage("check", env=env))
    assert code == 0, out
    assert holder.pid not in json.loads((pgdata / ".handle_pids.json").read_text())
    wait_for(lambda: not [p for p in servers_of(var_dir) if p.name() == "postgres"], timeout=120, interval=0.3)

    # a crash left postmaster.pid behind, and its pid now belongs to an unrelated process
    other = subprocess.Popen(["sleep", "600"])
    try:
        pid_file = var_dir / "postgres" / "postmaster.pid"
        lines = [str(other.pid), str(var_dir / "postgres"), "1700000000", "5432",
                 str(var_dir / "postgres"), "", "0 0", "ready"]
        pid_file.write_text("\n".join(lines) + "\n")
        code, out = _finish(manage("check", env=env))
        assert code == 0, out
    finally:
        other.kill()
        other.wait()


@pytest.fixture
def deep_dir():
    """A data folder whose path is too long for a unix socket. Not under pytest's tmp_path:
    postgres runs as another user under root, and a pytest session started meanwhile makes
    /tmp/pytest-of-USER private again (0700), cutting that user off its own data."""
    top = Path(tempfile.mkdtemp(prefix="ps-fault-"))
    top.chmod(0o755)
    deep = top / ("d" * 60) / ("e" * 60)
    yield deep
    stop_servers(deep)
    shutil.rmtree(top, ignore_errors=True)


def test_long_data_paths_get_private_sockets_that_come_back(deep_dir):
    deep = deep_dir
    deep.mkdir(parents=True)
    deep.chmod(0o755)
    deep.parent.chmod(0o755)
    env = fresh_env(deep)
    holder = _python((
        "import time;"
        "print('=', settings.DATABASES['default']['HOST'], settings.REDIS_URL,"
        " getattr(settings, 'REDIS_CACHE_URL', settings.REDIS_URL), flush=True); time.sleep(600)"
    ), env=env)
    try:
        pg, broker, cache = _read_until(holder, "= ").split()[1:]
        pg_dir = Path(pg)
        redis_socket = Path(broker.removeprefix("unix://"))
        cache_socket = Path(cache.removeprefix("unix://"))
        for folder in (pg_dir, redis_socket.parent, cache_socket.parent):
            assert not str(folder).startswith(str(deep)), folder  # too long to live there
            mode = stat.S_IMODE(folder.stat().st_mode)
            assert mode == 0o700, (folder, oct(mode))
        socket_mode = stat.S_IMODE((pg_dir / ".s.PGSQL.5432").stat().st_mode)
        assert socket_mode & 0o077 == 0, oct(socket_mode)
    finally:
        holder.kill()
        holder.wait(30)
    stop_servers(deep)
    # the temp folder is cleaned (tmpreaper, reboot): everything starts again, just as private
    for folder in {pg_dir, redis_socket.parent, cache_socket.parent}:
        shutil.rmtree(folder, ignore_errors=True)
    code, out = _finish(_python("print('started')", env))
    assert code == 0 and "started" in out, out
    assert stat.S_IMODE(redis_socket.parent.stat().st_mode) == 0o700
    stop_servers(deep)
    for folder in {pg_dir, redis_socket.parent, cache_socket.parent}:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_buffer_cache_follows_the_setting_at_each_start(tmp_path):
    """PATENTSEARCH_PG_SHARED_BUFFERS_MB sets the embedded server's shared_buffers when it
    starts; a changed value replaces the line rather than adding one."""
    folder = tmp_path / "var"
    folder.mkdir()
    show = ("from django.db import connection; c = connection.cursor(); c.execute('SHOW shared_buffers'); "
            "print('=', c.fetchone()[0], flush=True)")
    try:
        for megabytes in ("200", "300"):
            code, out = _finish(_python(show, fresh_env(folder, PATENTSEARCH_PG_SHARED_BUFFERS_MB=megabytes)))
            assert code == 0 and f"= {megabytes}MB" in out, out
            wait_for(lambda: not [p for p in servers_of(folder) if p.name() == "postgres"], timeout=120, interval=0.3)
        config = (folder / "postgres" / "postgresql.conf").read_text()
        ours = [line for line in config.splitlines() if "patentsearch: PATENTSEARCH_PG_SHARED_BUFFERS" in line]
        assert ours == ["shared_buffers = 300MB  # patentsearch: PATENTSEARCH_PG_SHARED_BUFFERS"]
        assert [line for line in config.splitlines() if line.startswith("shared_buffers")][-1] == ours[0]  # it wins
    finally:
        stop_servers(folder)
