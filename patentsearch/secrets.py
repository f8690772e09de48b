"""A Django secret key kept in the data folder when none is given in the environment."""

import functools
import os
import secrets as stdlib_secrets
from pathlib import Path

from django.utils.functional import lazy


def kept_secret_key(var_dir: Path) -> str:
    """The kept key as a lazy string: read (or made) the first time it is used, so that reading
    the settings writes nothing."""
    return lazy(read_or_create_secret_key, str)(var_dir)


@functools.cache
def read_or_create_secret_key(var_dir: Path) -> str:
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(stdlib_secrets.token_urlsafe(50))
    return path.read_text().strip()
