"""Private folders for the embedded servers' unix sockets (PostgreSQL and Redis alike).

A socket path must fit in sun_path (108 bytes on Linux, 104 on macOS): a socket lives in its
server's data folder when the path fits, else in a folder of the temp folder named after that data
folder, made 0700 and checked to be ours, so no other user can reach the servers.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

SOCKET_PATH_LIMIT = 100  # sun_path is 108 bytes on Linux, 104 on macOS
REDIS_SOCKET_NAME = "redis.sock"


def socket_dir_for(data_dir: Path, kind: str, socket_name: str) -> Path:
    """The socket folder of a server whose data is in data_dir: the folder itself when the socket
    path fits, else a folder in the temp folder named after data_dir (only named here: see
    private_socket_dir)."""
    if len(str(data_dir / socket_name)) < SOCKET_PATH_LIMIT:
        return data_dir
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"patentsearch-{kind}-{os.getuid()}-{digest}"


def private_socket_dir(data_dir: Path, kind: str, socket_name: str) -> Path:
    """socket_dir_for, made (0700, ours) whenever it is missing when it is not data_dir itself."""
    folder = socket_dir_for(data_dir, kind, socket_name)
    if folder == data_dir:
        return folder
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass
    _check_private(folder)
    return folder


def _check_private(folder: Path) -> None:
    info = folder.lstat()
    if folder.is_symlink() or not folder.is_dir() or info.st_uid not in _our_uids():
        raise RuntimeError(
            f"{folder} exists but is not a private folder of this user; remove it and start again"
        )
    if info.st_mode & 0o077:
        folder.chmod(0o700)


def _our_uids() -> set[int]:
    uids = {os.getuid()}
    if os.geteuid() == 0:  # pgserver runs postgres as the system user "pgserver" under root
        import pwd

        try:
            uids.add(pwd.getpwnam("pgserver").pw_uid)
        except KeyError:
            pass
    return uids
