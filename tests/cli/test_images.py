"""Image files become the 0-255 grayscale rows prediction takes, light backgrounds inverted."""

from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from descent.images import ImageError, to_pixels


def drawing(path: Path, size: tuple[int, int], background: int, ink: int) -> Path:
    image = Image.new("L", size, background)
    ImageDraw.Draw(image).rectangle((size[0] // 3, 2, size[0] // 3 + 4, size[1] - 3), fill=ink)
    image.save(path)
    return path


def test_a_dark_digit_on_white_paper_is_inverted_to_mnist_colours(tmp_path: Path):
    pixels = to_pixels(drawing(tmp_path / "paper.png", (28, 28), 255, 0), (28, 28))
    assert len(pixels) == 28 and all(len(row) == 28 for row in pixels)
    assert pixels[0][0] == 0  # the white background became black
    assert pixels[14][28 // 3 + 2] == 255  # the black stroke became white


def test_a_light_digit_on_black_is_kept_as_it_is(tmp_path: Path):
    pixels = to_pixels(drawing(tmp_path / "mnist.png", (28, 28), 0, 255), (28, 28))
    assert pixels[0][0] == 0
    assert pixels[14][28 // 3 + 2] == 255


def test_a_large_colour_photo_is_scaled_to_the_model_size_without_cropping(tmp_path: Path):
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (300, 150), (20, 20, 20)).save(path)
    pixels = to_pixels(path, (28, 28))
    assert (len(pixels), len(pixels[0])) == (28, 28)
    assert max(max(row) for row in pixels) <= 30


def test_a_file_that_is_not_an_image_is_refused_by_name(tmp_path: Path):
    path = tmp_path / "notes.txt"
    path.write_text("not pixels")
    with pytest.raises(ImageError, match="notes.txt is not an image"):
        to_pixels(path, (28, 28))
