"""Image files to the pixel lists prediction takes: grayscale 0-255 at the model's size.

The data sets are light strokes on a dark background (MNIST) or photos (ASL); a photo or a
drawing of a dark digit on white paper is inverted when its border is lighter than mid-grey,
so that the model sees what it was trained on.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

LIGHT_BACKGROUND = 128


class ImageError(ValueError):
    """The file cannot be read as an image."""


def to_pixels(path: Path, size: tuple[int, int], *, invert: bool | None = None) -> list[list[int]]:
    """``height × width`` rows of 0-255 ints. ``invert=None`` decides from the border."""
    try:
        with Image.open(path) as image:
            gray = ImageOps.exif_transpose(image).convert("L")
    except FileNotFoundError:
        raise ImageError(f"{path} does not exist") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageError(f"{path} is not an image Pillow can read ({exc})") from None
    height, width = size
    # Pad to the model's aspect ratio with the background colour, then scale: nothing is cut.
    background = _border_mean(gray)
    fitted = ImageOps.pad(gray, (width, height), method=Image.Resampling.LANCZOS,
                          color=round(background))  # fmt: skip
    if invert if invert is not None else background >= LIGHT_BACKGROUND:
        fitted = ImageOps.invert(fitted)
    data = list(fitted.getdata())
    return [data[row * width : (row + 1) * width] for row in range(height)]


def _border_mean(image: Image.Image) -> float:
    width, height = image.size
    pixels = image.load()
    assert pixels is not None
    border = [pixels[x, y] for x in range(width) for y in (0, height - 1)]
    border += [pixels[x, y] for y in range(height) for x in (0, width - 1)]
    return sum(float(p) for p in border) / len(border)  # type: ignore[arg-type]
