"""Query drawings of case searches: crop boxes (checked, applied to the original pixels) and the
stored copies read back. One place for both, used by the search service and the image views."""

from __future__ import annotations

import io

from django.conf import settings
from PIL import Image

from patentsearch.exceptions import ApplicationError
from retrieval.images import open_query_image

Crop = tuple[float, float, float, float]


class StoredDrawingMissingError(ApplicationError):
    """A logged query drawing whose stored file is gone from the media folder: the log still says
    what was searched (its SHA-256, name and crop), but the drawing cannot be shown or searched again."""


def crop_check(value: object, *, position: int = 0) -> Crop | None:
    """A crop box ``[left, top, right, bottom]`` in fractions of the width and height, or None."""
    if value is None:
        return None
    where = f"crops[{position}]"
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        raise ApplicationError(f"{where}: a crop is [left, top, right, bottom], four numbers.", {"crop": position})
    try:
        left, top, right, bottom = (float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise ApplicationError(f"{where}: crop values must be numbers.", {"crop": position}) from exc
    if not all(0.0 <= v <= 1.0 for v in (left, top, right, bottom)):
        raise ApplicationError(f"{where}: crop values are fractions from 0 to 1.", {"crop": position})
    if not (left < right and top < bottom):
        raise ApplicationError(
            f"{where}: the crop box is empty (left < right and top < bottom needed).", {"crop": position}
        )
    return (left, top, right, bottom)


def crop_apply(image: Image.Image, crop: Crop | None) -> Image.Image:
    """The region of the original pixels inside the crop box (at least one pixel each way)."""
    if crop is None:
        return image
    w, h = image.size
    left, top = min(int(crop[0] * w), w - 1), min(int(crop[1] * h), h - 1)
    right, bottom = max(round(crop[2] * w), left + 1), max(round(crop[3] * h), top + 1)
    return image.crop((left, top, right, bottom))


def decode(data: bytes) -> Image.Image:
    """The first page of a query file, decoded with the search's own checks and limits."""
    return open_query_image(data, max_pixels=settings.RETRIEVAL_MAX_IMAGE_PIXELS, pdf_dpi=settings.RETRIEVAL_PDF_DPI)


def stored_query_image(image: object, *, cropped: bool = True) -> Image.Image:
    """A logged QueryImage read back from its stored file, cropped as it was searched."""
    try:
        with image.file.open("rb") as f:  # type: ignore[attr-defined]
            decoded = decode(f.read())
    except (FileNotFoundError, IsADirectoryError) as exc:
        search = image.search  # type: ignore[attr-defined]
        raise StoredDrawingMissingError(
            f"Drawing {image.position + 1} of search {search.number} ({image.filename or 'no name'}) is missing "  # type: ignore[attr-defined]
            "from the media folder: the log keeps its SHA-256 and crop, but it cannot be shown or searched "
            "again until the folder is restored from a backup.",
            {"search": search.pk, "position": image.position},  # type: ignore[attr-defined]
        ) from exc
    crop = image.crop  # type: ignore[attr-defined]
    return crop_apply(decoded, tuple(crop)) if cropped and crop else decoded  # type: ignore[arg-type]


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
