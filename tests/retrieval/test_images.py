import io

import pytest
from PIL import Image

from retrieval.exceptions import InvalidImageError
from retrieval.images import decode_first_page, open_query_image, read_first_page, read_pages
from tests.drawings import drawing, png_bytes

LIMIT = 50_000_000


def test_png_and_jpeg_are_kept_as_they_are():
    png = png_bytes(drawing(1))
    jpeg = png_bytes(drawing(1), "JPEG")
    assert read_pages(png, max_pixels=LIMIT)[0].data == png
    page = read_pages(jpeg, max_pixels=LIMIT)[0]
    assert (page.extension, page.width, page.height) == ("jpg", 320, 240)


def test_multi_page_tiff_gives_one_png_per_page():
    frames = [drawing(i) for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:])
    pages = read_pages(buffer.getvalue(), max_pixels=LIMIT)
    assert [p.page for p in pages] == [0, 1, 2]
    assert all(p.extension == "png" for p in pages)
    assert len({p.sha256 for p in pages}) == 3


def test_pdf_pages_are_rendered():
    buffer = io.BytesIO()
    drawing(1).convert("RGB").save(buffer, format="PDF", save_all=True, append_images=[drawing(2).convert("RGB")])
    pages = read_pages(buffer.getvalue(), max_pixels=LIMIT, pdf_dpi=72)
    assert len(pages) == 2
    assert Image.open(io.BytesIO(pages[0].data)).size[0] > 100


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"name,patent_id\n", "not an image"),
        (png_bytes(drawing(3))[:400], "truncated"),
        (png_bytes(drawing(3), "GIF"), "unsupported image type GIF"),
        (b"%PDF-1.4 garbage", "corrupt PDF"),
    ],
)
def test_bad_files_are_refused_with_a_reason(data, reason):
    with pytest.raises(InvalidImageError, match=reason):
        read_pages(data, max_pixels=LIMIT)


def test_images_over_the_pixel_limit_are_refused_before_decoding():
    with pytest.raises(InvalidImageError, match="image too large: 320×240"):
        read_pages(png_bytes(drawing(1)), max_pixels=10_000)


def test_decompression_bomb_is_refused():
    bomb = png_bytes(Image.new("1", (20_000, 10_000), 1))  # 200 Mpx, a few kB of PNG
    assert len(bomb) < 200_000
    with pytest.raises(InvalidImageError, match="too large"):
        read_pages(bomb, max_pixels=LIMIT)


def test_query_image_is_the_first_page_decoded():
    image = open_query_image(png_bytes(drawing(4, mode="1")), max_pixels=LIMIT)
    assert image.size == (320, 240)


@pytest.mark.parametrize("kind", ["PNG", "TIFF", "PDF"])
def test_a_query_page_is_decoded_once_and_its_png_holds_the_same_pixels(kind):
    buffer = io.BytesIO()
    first, second = drawing(5), drawing(6)
    if kind == "PDF":
        first.convert("RGB").save(buffer, format="PDF", save_all=True, append_images=[second.convert("RGB")])
    else:
        first.save(buffer, format=kind, save_all=kind == "TIFF", append_images=[second] if kind == "TIFF" else [])
    page = read_first_page(buffer.getvalue(), max_pixels=LIMIT, pdf_dpi=72)
    decoded = decode_first_page(buffer.getvalue(), max_pixels=LIMIT, pdf_dpi=72)
    stored = Image.open(io.BytesIO(page.data))
    assert stored.format == "PNG" and page.image is not None
    assert page.image.tobytes() == stored.tobytes() == decoded.tobytes()
    if kind != "PDF":  # the PDF page is rendered, not the drawing's pixels
        assert decoded.tobytes() == first.tobytes()


@pytest.mark.parametrize(("data", "reason"), [(b"", "empty"), (b"not an image", "not an image")])
def test_decoding_a_first_page_refuses_what_reading_it_refuses(data, reason):
    with pytest.raises(InvalidImageError, match=reason):
        decode_first_page(data, max_pixels=LIMIT)
