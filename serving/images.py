"""Turn an image file (any size, colour or transparency) into the pixels a model was trained on.

The steps, in order (the README's "Prediction" section tells users the same):

1. **Decode** with Pillow (PNG, JPEG, GIF, BMP, WebP). Bytes that are not such an image are
   refused, and so is an image of more than ``max_pixels`` pixels: its size is read from the
   header, so a decompression bomb is refused before a single pixel is decoded. A large JPEG
   is decoded at a reduced scale straight away (``draft``); any other large image is shrunk
   by an integer factor (a box average, alpha-weighted, a band of rows at a time) to about
   8× the model's input before anything else, so that every later step, and every float
   array, is small: decoding costs the decoded image once, not a float64 copy per step.
   Only the first frame is used, and the EXIF orientation of phone photos is applied. A
   process decodes at most ``DESCENT_MAX_CONCURRENT_IMAGE_DECODES`` images at once.
2. **Transparency** is flattened onto a background that contrasts with the drawing: dark
   strokes on a transparent canvas land on white, light strokes on black.
3. **Grayscale**: ITU-R 601-2 luma, L = 0.299 R + 0.587 G + 0.114 B.
4. **Invert** (data sets of light strokes on a dark background, such as MNIST): when the
   image's border is light (median above 127), the image is inverted, so that a digit drawn
   dark on light paper becomes light on dark, as the model saw its training digits.
5. **Resize** to the model's input:
   - an image that already has the model's size is used as it is;
   - on a dark-background data set, the way MNIST itself was made: the background is levelled
     to black and the brightest stroke to white, the image is cropped to its strokes, scaled to
     fit a 20×20 box (for 28×28 input) keeping its aspect, and placed so that its centre of
     mass is at the centre of the 28×28 field;
   - otherwise (photos, such as Sign Language MNIST) the central square is cropped and resized.
"""

from __future__ import annotations

import functools
import io
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import numpy as np
from PIL import Image, ImageOps

from core.errors import TooManyRequests
from serving.errors import InputError, TooLarge

Background = Literal["dark", "any"]

FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")
LIGHT = 127  # a border whose median is above this is a light background
INK = 32  # after levelling, pixels above this count as strokes when cropping to them
MNIST_BOX = 20 / 28  # MNIST digits fit a 20×20 box inside the 28×28 field
DRAFT_FACTOR = 8  # decode large JPEGs at no less than 8× the model's input size
BAND_PIXELS = 1 << 20  # pixels converted at once while shrinking a large image
DECODE_WAIT_SECONDS = 30  # a decode waits this long for a free slot, then is refused (429)
ORIENTATION = 0x0112  # the EXIF tag


class PixelBudget:
    """The pixels one request may decode in all, so that many images cannot add up to a bomb."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.left = total

    def spend(self, pixels: int) -> None:
        if pixels > self.left:
            raise TooLarge(
                f"the request's images hold more than {self.total:,} pixels in all; at most "
                f"{self.total:,} are decoded per request (DESCENT_MAX_REQUEST_PIXELS)",
                fix="send fewer or smaller images per request",
            )
        self.left -= pixels


def image_to_pixels(
    data: bytes,
    input_shape: tuple[int, ...],
    background: Background,
    max_pixels: int,
    budget: PixelBudget | None = None,
    slots: int = 4,
) -> np.ndarray:
    """Image file bytes -> uint8 pixels of shape (height, width), ready for ``scale_pixels``.
    ``slots``: how many images this process decodes at once (the setting)."""
    height, width = input_shape[0], input_shape[1]
    if len(input_shape) == 3 and input_shape[2] != 1:
        raise InputError(
            f"this model takes {input_shape[2]}-channel input; image files are converted to "
            "grayscale, so send its instances as pixel arrays instead"
        )
    draft_size = (width * DRAFT_FACTOR, height * DRAFT_FACTOR)
    with decode_slot(slots):
        image = decode(data, max_pixels, draft_size, budget)
    gray = grayscale(image)
    if background == "dark":
        if np.median(border(gray)) > LIGHT:
            gray = 255.0 - gray
        if gray.shape != (height, width):
            gray = fit_like_mnist(gray, height, width)
    elif gray.shape != (height, width):
        gray = crop_and_resize(gray, height, width)
    return np.clip(np.rint(gray), 0, 255).astype(np.uint8)


def decode(
    data: bytes, max_pixels: int, draft_size: tuple[int, int], budget: PixelBudget | None = None
) -> Image.Image:
    """Decoded first frame, EXIF orientation applied; refuses non-images and oversized ones."""
    if not data:
        raise InputError("the image is empty (0 bytes); send a PNG, JPEG, GIF, BMP or WebP file")
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError as exc:
        raise InputError(
            f"the image is far too large to decode ({exc}); at most {max_pixels:,} pixels "
            "are accepted: send a smaller image"
        ) from None
    except (Image.UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InputError(
            f"the {len(data):,} bytes sent are not a PNG, JPEG, GIF, BMP or WebP image "
            f"(they start with {data[:8]!r}); send an image file"
        ) from None
    width, height = image.size
    if width * height > max_pixels:
        raise InputError(
            f"the image is {width}×{height} = {width * height:,} pixels; at most "
            f"{max_pixels:,} are accepted (DESCENT_MAX_IMAGE_PIXELS): send a smaller image"
        )
    if budget is not None:
        budget.spend(width * height)
    try:
        image.draft("L", draft_size)  # JPEG only: decode at 1/2, 1/4 or 1/8 scale
        image.load()
        if image.getexif().get(ORIENTATION, 1) != 1:
            image = ImageOps.exif_transpose(image)  # (without a tag, it would copy the image)
        return shrink(image, draft_size)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InputError(
            f"the {image.format} image could not be decoded ({exc}); is the file complete?"
        ) from None


def shrink(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``image`` reduced by the largest integer factor that keeps it at least ``size``
    (a box average; Pillow weights colours by alpha), a band of rows at a time, so that no
    full-size copy is made in another mode; as it is when it is no larger than that."""
    factor = min(image.width // size[0], image.height // size[1])
    # A long, thin image: shrunk further, to no more pixels than four of ``size``.
    factor = max(factor, math.ceil(math.sqrt(image.width * image.height / (4 * size[0] * size[1]))))
    if factor <= 1:
        return image
    mode = (
        "RGBA"
        if image.has_transparency_data
        else "L"
        if image.mode in ("1", "L", "I", "I;16", "F")
        else "RGB"
    )
    small = Image.new(mode, (math.ceil(image.width / factor), math.ceil(image.height / factor)))
    band = factor * max(1, BAND_PIXELS // (factor * image.width))
    for top in range(0, image.height, band):
        piece = image.crop((0, top, image.width, min(image.height, top + band)))
        small.paste(piece.convert(mode).reduce(factor), (0, top // factor))
    return small


@functools.cache
def _slots(count: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(count)


@contextmanager
def decode_slot(count: int) -> Iterator[None]:
    """One of this process's ``count`` image-decoding slots: a decode holds a full-size image
    for a moment, so only ``count`` run at once; the others wait, up to
    ``DECODE_WAIT_SECONDS``, then are told to retry (429). One set of slots per count, so an
    app built with another setting has its own."""
    slots = _slots(count)
    if not slots.acquire(timeout=DECODE_WAIT_SECONDS):
        raise TooManyRequests(
            f"this server is decoding {count} images already, and none finished within "
            f"{DECODE_WAIT_SECONDS} s",
            fix="retry in a moment, or send smaller images (or pixel arrays)",
            retry_after=2,
        )
    try:
        yield
    finally:
        slots.release()


def grayscale(image: Image.Image) -> np.ndarray:
    """Luma as float in 0-255; transparency flattened onto a background opposite to the ink."""
    if not image.has_transparency_data:
        return np.asarray(image.convert("L"), dtype=np.float64)
    rgba = image.convert("RGBA")
    luma = np.asarray(rgba.convert("L"), dtype=np.float64)
    alpha = np.asarray(rgba.getchannel("A"), dtype=np.float64) / 255.0
    coverage = alpha.sum()
    ink = (luma * alpha).sum() / coverage if coverage else 0.0
    behind = 255.0 if ink <= LIGHT else 0.0
    return luma * alpha + behind * (1.0 - alpha)


def border(gray: np.ndarray) -> np.ndarray:
    return np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])


def fit_like_mnist(gray: np.ndarray, height: int, width: int) -> np.ndarray:
    """Level, crop to the strokes, fit a 20×20 box, centre by mass (light strokes on dark)."""
    floor = float(np.percentile(border(gray), 90))  # paper texture falls below it
    peak = float(gray.max())
    if peak <= floor:
        return np.zeros((height, width))  # a blank image: nothing drawn
    levelled = np.clip((gray - floor) * (255.0 / (peak - floor)), 0.0, 255.0)
    rows = np.flatnonzero((levelled > INK).any(axis=1))
    cols = np.flatnonzero((levelled > INK).any(axis=0))
    strokes = levelled[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]

    box_h, box_w = max(1, round(height * MNIST_BOX)), max(1, round(width * MNIST_BOX))
    scale = min(box_h / strokes.shape[0], box_w / strokes.shape[1])
    size = (max(1, round(strokes.shape[1] * scale)), max(1, round(strokes.shape[0] * scale)))
    digit = resize(strokes, size)

    total = digit.sum()
    if total > 0:
        cy = (digit.sum(axis=1) @ np.arange(digit.shape[0])) / total
        cx = (digit.sum(axis=0) @ np.arange(digit.shape[1])) / total
    else:
        cy, cx = (digit.shape[0] - 1) / 2, (digit.shape[1] - 1) / 2
    top = int(np.clip(round((height - 1) / 2 - cy), 0, height - digit.shape[0]))
    left = int(np.clip(round((width - 1) / 2 - cx), 0, width - digit.shape[1]))
    field = np.zeros((height, width))
    field[top : top + digit.shape[0], left : left + digit.shape[1]] = digit
    return field


def crop_and_resize(gray: np.ndarray, height: int, width: int) -> np.ndarray:
    """The central region with the model's aspect ratio, resized to the model's input."""
    rows, cols = gray.shape
    aspect = width / height
    crop_w = min(cols, round(rows * aspect))
    crop_h = min(rows, round(crop_w / aspect))
    top, left = (rows - crop_h) // 2, (cols - crop_w) // 2
    return resize(gray[top : top + crop_h, left : left + crop_w], (width, height))


def resize(gray: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Antialiased (Lanczos) resize of a float image to ``size`` = (width, height)."""
    image = Image.fromarray(np.clip(np.rint(gray), 0, 255).astype(np.uint8))
    resized = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return np.asarray(resized, dtype=np.float64)
