"""ZIP downloads: several exports in one file, for a record kept outside the application.

Each entry is a name and its content, produced while the archive is written (a generator of text
lines or bytes, or a stored file to copy), so an entry is read once and never held whole in
memory. The archive itself is spooled: in memory up to ``SPOOL_BYTES``, then in a temporary file,
because a ZIP's central directory comes after every entry and a response must know where it ends.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Callable, Iterable
from typing import IO

from django.http import FileResponse

#: Archives up to this size are built in memory; larger ones in a temporary file.
SPOOL_BYTES = 32 * 1024 * 1024
CHUNK = 1024 * 1024

#: An entry's content: text lines (UTF-8), byte chunks, or a callable that opens a binary file.
Content = Iterable[str] | Iterable[bytes] | Callable[[], IO[bytes]]


def zip_response(filename: str, entries: Iterable[tuple[str, Content]]) -> FileResponse:
    """A ZIP download of ``entries`` (name inside the archive, content), in that order."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - the response closes it
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            with archive.open(name, "w", force_zip64=True) as out:
                if callable(content):
                    with content() as handle:
                        while chunk := handle.read(CHUNK):
                            out.write(chunk)
                    continue
                for part in content:
                    out.write(part.encode("utf-8") if isinstance(part, str) else part)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=filename, content_type="application/zip")
