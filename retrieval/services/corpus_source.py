"""Reading a corpus folder or a .zip of one, safely: no path may leave the corpus."""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath
from typing import Protocol

from retrieval.exceptions import InvalidArchiveError

# A member that unpacks to more than this many times its packed size (and to over a MiB) is refused
# as a zip bomb: deflate tops out near 1000:1 on constant bytes; real drawings and tables pack far less.
MAX_COMPRESSION_RATIO = 500
_RATIO_FLOOR_BYTES = 1024 * 1024


class UnsafePathError(ValueError):
    """A path in the metadata or the archive points outside the corpus."""


class CorpusSource(Protocol):
    name: str

    def exists(self, relpath: str) -> bool: ...

    def read(self, relpath: str) -> bytes: ...

    def size(self, relpath: str) -> int: ...


def safe_relpath(relpath: str) -> str:
    """Normalise a corpus-relative path, refusing absolute paths and '..'."""
    cleaned = relpath.strip().replace("\\", "/")
    path = PurePosixPath(cleaned)
    if not cleaned or path.is_absolute() or ".." in path.parts or cleaned.startswith("~"):
        raise UnsafePathError(f"unsafe path {relpath!r}: must be relative and stay inside the corpus")
    if len(cleaned) > 2 and cleaned[1] == ":":
        raise UnsafePathError(f"unsafe path {relpath!r}: drive letters are not allowed")
    return str(path)


class FolderSource:
    """A corpus folder on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.name = self.root.name

    def _path(self, relpath: str) -> Path:
        path = (self.root / safe_relpath(relpath)).resolve()
        if not path.is_relative_to(self.root):
            raise UnsafePathError(f"unsafe path {relpath!r}: it leads outside the corpus folder")
        return path

    def exists(self, relpath: str) -> bool:
        return self._path(relpath).is_file()

    def read(self, relpath: str) -> bytes:
        return self._path(relpath).read_bytes()

    def size(self, relpath: str) -> int:
        return self._path(relpath).stat().st_size


class ZipSource:
    """A .zip of a corpus folder; metadata.csv may sit at the top or in one top folder."""

    def __init__(self, path: Path, *, max_total_bytes: int) -> None:
        self.name = path.stem
        try:
            self.archive = zipfile.ZipFile(path)
            members = self.archive.infolist()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise InvalidArchiveError(f"{path.name}: not a readable zip archive ({exc})") from exc
        self.members = {self._check_member(m): m for m in members if not m.is_dir()}
        total = sum(m.file_size for m in self.members.values())
        if total > max_total_bytes:
            raise InvalidArchiveError(
                f"{path.name}: unpacks to {total:,} bytes, over the limit of {max_total_bytes:,}"
            )
        self.prefix = self._find_prefix()

    @staticmethod
    def _check_member(member: zipfile.ZipInfo) -> str:
        try:
            name = safe_relpath(member.filename)
        except UnsafePathError as exc:
            raise InvalidArchiveError(f"archive member {exc}") from exc
        if (member.external_attr >> 16) & 0o170000 == 0o120000:
            raise InvalidArchiveError(f"archive member {member.filename!r} is a symbolic link")
        if member.file_size > _RATIO_FLOOR_BYTES and (
            member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1)
        ):
            raise InvalidArchiveError(
                f"archive member {member.filename!r} unpacks to {member.file_size:,} bytes from "
                f"{member.compress_size:,} (over {MAX_COMPRESSION_RATIO}:1): refused as a zip bomb"
            )
        return name

    def _find_prefix(self) -> str:
        if "metadata.csv" in self.members:
            return ""
        tops = {name.split("/", 1)[0] for name in self.members if "/" in name}
        for top in sorted(tops):
            if f"{top}/metadata.csv" in self.members:
                return f"{top}/"
        return ""

    def _member(self, relpath: str) -> zipfile.ZipInfo | None:
        return self.members.get(self.prefix + safe_relpath(relpath))

    def exists(self, relpath: str) -> bool:
        return self._member(relpath) is not None

    def size(self, relpath: str) -> int:
        member = self._member(relpath)
        if member is None:
            raise FileNotFoundError(relpath)
        return member.file_size

    def read(self, relpath: str) -> bytes:
        member = self._member(relpath)
        if member is None:
            raise FileNotFoundError(relpath)
        try:
            return self.archive.read(member)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
            raise InvalidArchiveError(f"archive member {relpath!r} is damaged ({exc})") from exc


def open_corpus(path: Path, *, max_archive_bytes: int) -> CorpusSource:
    """A folder or a .zip; anything else is refused with a reason."""
    if path.is_dir():
        return FolderSource(path)
    if not path.exists():
        raise InvalidArchiveError(f"{path}: no such folder or file")
    if path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
        return ZipSource(path, max_total_bytes=max_archive_bytes)
    raise InvalidArchiveError(f"{path.name}: a corpus must be a folder or a .zip of one")
