"""Pictures for image tests: a digit drawn the way people draw, and a decompression bomb."""

import struct
import zlib

import numpy as np
from PIL import Image


def drawn_on_paper(digit: np.ndarray, canvas=(420, 600), ink=(20, 30, 90)) -> np.ndarray:
    """The digit enlarged 10×, drawn in dark ink on cream paper, off centre on a wide canvas."""
    strokes = np.asarray(Image.fromarray(digit).resize((280, 280), Image.Resampling.BICUBIC))
    page = np.empty((*canvas, 3), dtype=np.float64)
    page[:] = (245, 240, 225)
    coverage = strokes[..., None] / 255.0
    region = page[60:340, 240:520]
    page[60:340, 240:520] = region * (1 - coverage) + np.array(ink) * coverage
    return page.astype(np.uint8)


def bomb_png(width: int, height: int) -> bytes:
    """A valid PNG header announcing a huge image, followed by almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )
