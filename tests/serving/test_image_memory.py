"""A large image costs about its decoded size once, not a float64 copy per step, and the
digit in it is read as in a small one; decodes wait for one of a few slots per process."""

import io
import threading

import numpy as np
import pytest
from PIL import Image

from core.errors import TooManyRequests
from serving import images
from serving.images import decode_slot, image_to_pixels
from tests.serving.test_images import (
    MAX_PIXELS,
    SHAPE,
    assert_framed_like_mnist,
    mnist,
    similarity,
)

SIDE = 3_000  # 9 million pixels: 36 MB decoded as RGBA


def peak_rss() -> int:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM"))
    return int(line.split()[1]) * 1024


def reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as refs:  # "5": the peak starts again from now
            refs.write("5")
    except OSError:
        pytest.skip("this system does not let a process reset its peak RSS")


@pytest.fixture(scope="module")
def digit() -> np.ndarray:
    return mnist(1)[0][0]


def transparent_png(digit: np.ndarray, side: int) -> bytes:
    """The digit drawn in black on a transparent side×side canvas (a small file)."""
    strokes = Image.fromarray(digit).resize((side // 2, side // 2), Image.Resampling.BILINEAR)
    alpha = Image.new("L", (side, side))
    alpha.paste(strokes, (side // 4, side // 4))
    canvas = Image.new("RGBA", (side, side))
    canvas.putalpha(alpha)
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def large_transparent_png(digit: np.ndarray) -> bytes:
    return transparent_png(digit, SIDE)


def test_a_large_transparent_png_costs_its_decoded_size_and_reads_the_digit(
    large_transparent_png: bytes, digit: np.ndarray
):
    image_to_pixels(large_transparent_png, SHAPE, "dark", MAX_PIXELS)  # warm the code paths
    reset_peak()
    before = peak_rss()
    pixels = image_to_pixels(large_transparent_png, SHAPE, "dark", MAX_PIXELS)
    grew = peak_rss() - before
    decoded = SIDE * SIDE * 4
    assert grew < 2 * decoded, f"peak RSS grew {grew / 1e6:.0f} MB for {decoded / 1e6:.0f} MB"
    assert_framed_like_mnist(pixels)
    # Read as the same drawing at a tenth of the size is (that one is not shrunk first).
    small = image_to_pixels(transparent_png(digit, SIDE // 10), SHAPE, "dark", MAX_PIXELS)
    assert similarity(pixels, small) > 0.98
    assert np.abs(pixels.astype(int) - small).mean() < 8


def test_decodes_beyond_the_process_slots_wait_then_are_told_to_retry(monkeypatch):
    monkeypatch.setattr(images, "DECODE_WAIT_SECONDS", 0.05)
    held, release = threading.Event(), threading.Event()

    def hold_the_only_slot() -> None:
        with decode_slot(1):
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold_the_only_slot)
    holder.start()
    held.wait(5)
    try:
        with pytest.raises(TooManyRequests) as refused, decode_slot(1):
            pass
        assert "decoding 1 images already" in str(refused.value)
        with decode_slot(2):  # an app built with another setting has slots of its own
            pass
    finally:
        release.set()
        holder.join()
    with decode_slot(1):  # free again once the holder is done
        pass


def test_a_palette_image_shrunk_a_band_at_a_time_equals_it_shrunk_whole():
    image = Image.new("P", (2_000, 1_500), 0)
    image.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)
    image.info["transparency"] = 0
    image.paste(1, (600, 400, 1400, 1100))
    shrunk = images.shrink(image, (224, 224))
    whole = image.convert("RGBA").reduce(6)
    assert shrunk.size == whole.size == (334, 250)
    np.testing.assert_array_equal(np.asarray(shrunk), np.asarray(whole))
