"""Image files become the pixels the model was trained on, whatever their size, colour or
transparency; anything that is not a usable image is refused with a reason."""

import io

import numpy as np
import pytest
from PIL import Image

from core.settings import PROJECT_ROOT
from serving.errors import InputError
from serving.images import image_to_pixels
from tests.serving.pictures import bomb_png, drawn_on_paper

SHAPE = (28, 28, 1)
MAX_PIXELS = 40_000_000


def mnist(count: int = 8) -> tuple[np.ndarray, np.ndarray]:
    with np.load(PROJECT_ROOT / "data" / "mnist.npz") as data:
        return data["x_test"][:count], data["y_test"][:count]


def encode(image: Image.Image | np.ndarray, fmt: str = "PNG", **options) -> bytes:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two digits seen at 7×7: 1 for the same shape, unmoved by a 1-pixel shift."""

    def coarse(pixels: np.ndarray) -> np.ndarray:
        return np.asarray(Image.fromarray(pixels).resize((7, 7), Image.Resampling.BOX), float)

    return float(np.corrcoef(coarse(a).ravel(), coarse(b).ravel())[0, 1])


def assert_framed_like_mnist(pixels: np.ndarray) -> None:
    """Black background, white strokes fitting a 20-pixel box, centre of mass at the centre."""
    assert pixels.shape == (28, 28)
    assert np.median(pixels) == 0 and pixels.max() == 255
    rows, cols = np.flatnonzero(pixels.max(1) > 32), np.flatnonzero(pixels.max(0) > 32)
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 == 20
    total = pixels.sum()
    centre = (pixels.sum(1) @ np.arange(28) / total, pixels.sum(0) @ np.arange(28) / total)
    assert np.allclose(centre, 13.5, atol=1)


def to_pixels(data: bytes, background: str = "dark", max_pixels: int = MAX_PIXELS) -> np.ndarray:
    return image_to_pixels(data, SHAPE, background, max_pixels)


@pytest.mark.parametrize("background", ["dark", "any"])
def test_a_model_sized_grayscale_png_keeps_its_exact_pixels(background):
    for digit in mnist()[0]:
        np.testing.assert_array_equal(to_pixels(encode(digit), background), digit)


def test_a_digit_drawn_dark_on_light_paper_becomes_light_on_black_like_mnist():
    for digit in mnist()[0]:
        pixels = to_pixels(encode(drawn_on_paper(digit), "JPEG", quality=90))
        assert_framed_like_mnist(pixels)
        assert similarity(pixels, digit) > 0.75


def test_strokes_on_a_transparent_canvas_are_read_whatever_their_colour():
    for digit in mnist(4)[0]:
        big = np.asarray(Image.fromarray(digit).resize((280, 280)))
        for colour in (0, 255):  # black strokes, white strokes
            rgba = np.zeros((280, 280, 4), dtype=np.uint8)
            rgba[..., :3] = colour
            rgba[..., 3] = big
            pixels = to_pixels(encode(rgba))
            assert_framed_like_mnist(pixels)
            assert similarity(pixels, digit) > 0.75


def test_a_small_model_sized_digit_drawn_black_on_white_is_inverted():
    digit = mnist(1)[0][0]
    pixels = to_pixels(encode(255 - digit))
    np.testing.assert_array_equal(pixels, digit)


def test_photos_are_not_inverted_but_cropped_to_their_centre_and_resized():
    photo = np.full((60, 100), 230, dtype=np.uint8)  # light, wide
    photo[:, 20:80] = np.linspace(0, 255, 60, dtype=np.uint8)[None, :]
    pixels = to_pixels(encode(photo), background="any")
    assert pixels.shape == (28, 28)
    assert pixels[:, 0].mean() < 40 and pixels[:, -1].mean() > 200  # the central gradient


def test_exif_orientation_is_applied():
    digit = mnist(1)[0][0]
    rotated = Image.fromarray(digit).transpose(Image.Transpose.ROTATE_90)  # as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    np.testing.assert_array_equal(to_pixels(encode(rotated, exif=exif)), digit)


def test_gif_and_bmp_and_webp_are_read():
    digit = mnist(1)[0][0]
    for fmt, options in (("GIF", {}), ("BMP", {}), ("WEBP", {"lossless": True})):
        np.testing.assert_array_equal(to_pixels(encode(digit, fmt, **options)), digit)


def truncated_png() -> bytes:
    noise = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
    data = encode(noise)
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"hello, world", "not a PNG, JPEG"),
        (b"%PDF-1.4 not an image", "not a PNG, JPEG"),
        (truncated_png(), "could not be decoded"),
        (bomb_png(100_000, 100_000), "too large"),
        (bomb_png(8_000, 6_000), "48,000,000 pixels"),
    ],
)
def test_what_is_not_a_usable_image_is_refused_with_a_reason(data, message):
    with pytest.raises(InputError, match=message):
        to_pixels(data)


def test_the_pixel_limit_is_a_setting():
    image = encode(np.zeros((100, 100), np.uint8))
    with pytest.raises(InputError, match="at most 9,999 are accepted"):
        to_pixels(image, max_pixels=9_999)
    assert to_pixels(image, max_pixels=10_000).shape == (28, 28)


def test_a_colour_model_input_is_refused_for_image_files():
    with pytest.raises(InputError, match="3-channel"):
        image_to_pixels(encode(np.zeros((28, 28), np.uint8)), (28, 28, 3), "any", MAX_PIXELS)
