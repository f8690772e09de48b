"""Safe decoding of uploaded and ingested images: type, size and integrity checks.

Every image that enters the app passes here first, so a corrupt file, a file that is not an
image or a decompression bomb becomes an InvalidImageError with a reason, never a crash.
Multi-page TIFFs and PDFs become one page image each, stored as PNG.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

from PIL import Image, ImageSequence

from retrieval.exceptions import InvalidImageError

ACCEPTED = "PNG, JPEG, TIFF or PDF"
PASS_THROUGH_FORMATS = {"PNG": "png", "JPEG": "jpg", "MPO": "jpg"}
MAX_PAGES = 500
# zlib level of the PNGs written here. Stored pages keep the default (6): they are kept and
# served for years. A query's page lives a few hours in the query cache and an examiner waits
# for it: level 1 writes a drawing page in about half the time, for files about a fifth larger.
STORED_PNG_LEVEL = 6
QUERY_PNG_LEVEL = 1


@dataclass(frozen=True)
class PageImage:
    """One decoded, verified page: the bytes to store and what they are (and, from
    :func:`read_first_page`, the decoded image itself, so that nobody decodes it twice)."""

    data: bytes
    extension: str
    width: int
    height: int
    page: int
    image: Image.Image | None = field(default=None, compare=False, repr=False)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def read_pages(data: bytes, *, max_pixels: int, pdf_dpi: int = 150) -> list[PageImage]:
    """Decode every page of an image file fully, checking its type, size and integrity."""
    if not data:
        raise InvalidImageError("empty file")
    if data[:5] == b"%PDF-":
        return _read_pdf(data, max_pixels=max_pixels, dpi=pdf_dpi)
    image = _open(data)
    if image.format in PASS_THROUGH_FORMATS and getattr(image, "n_frames", 1) == 1:
        _check_and_load(image, max_pixels)
        return [PageImage(data, PASS_THROUGH_FORMATS[image.format], image.width, image.height, 0)]
    return [_as_png(frame, page, max_pixels) for page, frame in _frames(image)]


def read_first_page(data: bytes, *, max_pixels: int, pdf_dpi: int = 150) -> PageImage:
    """Only the first page of an image file, decoded, verified and written as a fresh PNG (a
    query uses no more: later pages, trailing bytes and metadata are dropped unread); the
    decoded page is ``.image``."""
    image = decode_first_page(data, max_pixels=max_pixels, pdf_dpi=pdf_dpi)
    return _as_png(image, 0, max_pixels, level=QUERY_PNG_LEVEL, keep_image=True)


def decode_first_page(data: bytes, *, max_pixels: int, pdf_dpi: int = 150) -> Image.Image:
    """The first page of an image file, decoded and verified (type, size, integrity), as a PIL
    image: the same checks as :func:`read_pages`, without writing the page out again."""
    if not data:
        raise InvalidImageError("empty file")
    if data[:5] == b"%PDF-":
        return _render_pdf(data, max_pixels=max_pixels, dpi=pdf_dpi, first_only=True)[0]
    image = _open(data)
    for _page, frame in _frames(image):
        _check_and_load(frame, max_pixels)
        return frame
    raise InvalidImageError("the file has no pages")


def open_query_image(data: bytes, *, max_pixels: int, pdf_dpi: int = 150) -> Image.Image:
    """The first page of an uploaded query, decoded and verified, as a PIL image."""
    return decode_first_page(data, max_pixels=max_pixels, pdf_dpi=pdf_dpi)


def content_type(extension: str) -> str | None:
    """The content type a stored page is served with, from its validated format; None for a
    file this module did not write."""
    return STORED_CONTENT_TYPES.get(extension.lower().lstrip("."))


STORED_CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg"}


def _open(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidImageError(f"image too large (decompression bomb?): {exc}") from exc
    except Image.UnidentifiedImageError as exc:
        raise InvalidImageError(f"not an image: {ACCEPTED} expected") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise InvalidImageError(f"corrupt image: {exc}") from exc
    if image.format not in (*PASS_THROUGH_FORMATS, "TIFF"):
        raise InvalidImageError(f"unsupported image type {image.format}: {ACCEPTED} expected")
    return image


def _check_and_load(image: Image.Image, max_pixels: int) -> None:
    pixels = image.width * image.height
    if pixels > max_pixels:
        raise InvalidImageError(
            f"image too large: {image.width}×{image.height} = {pixels:,} pixels, "
            f"over the limit of {max_pixels:,}"
        )
    try:
        image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise InvalidImageError(f"corrupt or truncated image: {exc}") from exc


def _frames(image: Image.Image) -> Iterator[tuple[int, Image.Image]]:
    try:
        for page, frame in enumerate(ImageSequence.Iterator(image)):
            if page >= MAX_PAGES:
                raise InvalidImageError(f"more than {MAX_PAGES} pages")
            yield page, frame
    except (OSError, ValueError, EOFError) as exc:
        raise InvalidImageError(f"corrupt or truncated image: {exc}") from exc


def _as_png(
    frame: Image.Image, page: int, max_pixels: int, *, level: int = STORED_PNG_LEVEL, keep_image: bool = False
) -> PageImage:
    _check_and_load(frame, max_pixels)
    if frame.mode not in ("1", "L", "LA", "RGB", "RGBA", "P", "I;16"):
        frame = frame.convert("RGB")
    buffer = io.BytesIO()
    frame.save(buffer, format="PNG", optimize=False, compress_level=level)
    return PageImage(buffer.getvalue(), "png", frame.width, frame.height, page, image=frame if keep_image else None)


def _read_pdf(data: bytes, *, max_pixels: int, dpi: int) -> list[PageImage]:
    return [_as_png(image, i, max_pixels) for i, image in enumerate(_render_pdf(data, max_pixels=max_pixels, dpi=dpi))]


def _render_pdf(data: bytes, *, max_pixels: int, dpi: int, first_only: bool = False) -> list[Image.Image]:
    import pypdfium2

    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        raise InvalidImageError(f"corrupt PDF: {exc}") from exc
    if len(pdf) > MAX_PAGES:
        raise InvalidImageError(f"PDF has {len(pdf)} pages, more than {MAX_PAGES}")
    if len(pdf) == 0:
        raise InvalidImageError("PDF has no pages")
    count = 1 if first_only else len(pdf)
    return [_render_pdf_page(pdf[i], i, max_pixels, dpi) for i in range(count)]


def _render_pdf_page(page: object, index: int, max_pixels: int, dpi: int) -> Image.Image:
    width_pt, height_pt = page.get_size()  # type: ignore[attr-defined]
    scale = dpi / 72
    pixels = int(width_pt * scale) * int(height_pt * scale)
    if pixels > max_pixels:
        raise InvalidImageError(f"PDF page {index + 1} too large: {pixels:,} pixels at {dpi} dpi")
    image = page.render(scale=scale, grayscale=True).to_pil()  # type: ignore[attr-defined]
    _check_and_load(image, max_pixels)
    return image
