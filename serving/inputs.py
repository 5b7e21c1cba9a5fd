"""Turn request instances into the model's input batch, with the training preprocessing.

Three kinds of instance reach a model: pixel rows (JSON lists, or an ``.npy`` array), each
``H×W`` nested or flat, as 0-255 pixels or, with ``scale="unit"``, as 0-1 floats already
scaled the way training scales; and image files (``{"b64": ...}`` in JSON, or uploaded files),
which ``serving.images`` converts to pixels first. Pixels are then scaled by
``training.preprocessing.scale_pixels``, the function training used, so the two cannot drift.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from serving.errors import InputError
from serving.images import Background, PixelBudget, image_to_pixels
from training.preprocessing import PIXEL_MAX, scale_pixels

__all__ = [
    "InputError",
    "ModelInput",
    "Scale",
    "array_to_batch",
    "batch_to_pixels",
    "pixels_to_batch",
    "read_npy",
]

# "raw": features of an uploaded data set, which training fed to the model as they were.
Scale = Literal["pixels", "unit", "raw"]
RANGES: dict[str, tuple[float, str]] = {
    "pixels": (PIXEL_MAX, "pixel values from 0 to 255"),
    "unit": (1.0, 'values from 0 to 1 (with "scale": "unit")'),
    "raw": (math.inf, "finite numbers, the features as in the uploaded data set"),
}

NPY_HEADERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


@dataclass(frozen=True)
class ModelInput:
    """What a model's input looks like, and how image files are turned into it."""

    input_shape: tuple[int, ...]
    background: Background = "any"
    max_image_pixels: int = 40_000_000
    max_request_pixels: int = 200_000_000
    images: bool = True  # False for a model trained on an uploaded table of features


def pixels_to_batch(
    instances: list[Any], input_shape: tuple[int, ...], scale: Scale = "pixels"
) -> np.ndarray:
    """Pixel rows (nested ``H×W`` lists or flat lists) -> float32 batch in [0, 1]."""
    if not instances:
        raise InputError("instances is empty; send at least one image")
    try:
        array = np.asarray(instances, dtype=np.float64)
    except (ValueError, TypeError):
        raise InputError(
            f"instances are ragged or not numbers; {_expected(input_shape, scale)}"
        ) from None
    return array_to_batch(array, input_shape, scale)


def array_to_batch(array: np.ndarray, input_shape: tuple[int, ...], scale: Scale) -> np.ndarray:
    """A numeric array of instances (first axis) -> float32 batch, after checking it."""
    size = math.prod(input_shape)
    per_instance = array.shape[1:]
    accepted = (input_shape[0], size)  # nested rows (H×W...) or one flat row per instance
    if not per_instance or math.prod(per_instance) != size or per_instance[0] not in accepted:
        got = list(per_instance) if per_instance else "a single number"
        raise InputError(f"instances have shape {got} each; {_expected(input_shape, scale)}")
    if array.shape[0] == 0:
        raise InputError("instances is empty; send at least one image")
    if array.dtype.kind not in "biuf":
        raise InputError(f"instances hold {array.dtype} values; {_expected(input_shape, scale)}")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise InputError(f"instances hold NaN or infinite values; send {RANGES[scale][1]}")
    top, allowed = RANGES[scale]
    low, high = array.min(), array.max()
    if scale != "raw" and (low < 0 or high > top):
        hint = (
            '; these look like 0-255 pixels: leave out "scale": "unit"'
            if scale == "unit" and high <= PIXEL_MAX and low >= 0
            else ""
        )
        raise InputError(f"values range from {low:g} to {high:g}; send {allowed}{hint}")
    if scale in ("unit", "raw"):
        # Already scaled as training scales (scale_pixels maps 0-255 onto these 0-1 values),
        # or features that training used as they are.
        return np.asarray(array, dtype=np.float32).reshape((-1, *input_shape))
    return scale_pixels(array, input_shape)


def npy_to_batch(data: bytes, input_shape: tuple[int, ...], scale: Scale) -> np.ndarray:
    """The bytes of an ``.npy`` file (``numpy.save``) holding instances -> float32 batch."""
    return array_to_batch(read_npy(data), input_shape, scale)


def read_npy(data: bytes) -> np.ndarray:
    """The array in an ``.npy`` file's bytes, without a copy; refuses objects and bad sizes."""
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        read_header = NPY_HEADERS.get(version)
        if read_header is None:
            raise ValueError(f"format version {version} is not supported")
        shape, fortran_order, dtype = read_header(stream)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as exc:
        raise InputError(
            f"the body is not an .npy file ({exc}); send the bytes numpy.save writes, "
            "an array of shape (N, 28, 28) or (N, 784)"
        ) from None
    if dtype.hasobject or dtype.kind not in "biuf":
        raise InputError(f"the .npy array holds {dtype} values; send integers or floats")
    payload = memoryview(data)[stream.tell() :]
    expected = math.prod(shape) * dtype.itemsize
    if len(payload) != expected:
        raise InputError(
            f"the .npy header says shape {list(shape)} of {dtype} ({expected:,} bytes) but "
            f"{len(payload):,} bytes follow it; the file is truncated or altered"
        )
    if not shape:
        raise InputError("the .npy array is a single number; send an array of instances")
    return np.frombuffer(payload, dtype=dtype).reshape(shape, order="F" if fortran_order else "C")


def instances_to_batch(instances: list[Any], model: ModelInput, scale: Scale) -> np.ndarray:
    """JSON instances, pixel rows and ``{"b64": ...}`` images mixed freely -> one batch."""
    if not any(isinstance(instance, dict) for instance in instances):
        return pixels_to_batch(instances, model.input_shape, scale)
    parts, budget = [], PixelBudget(model.max_request_pixels)
    for index, instance in enumerate(instances):
        try:
            if isinstance(instance, dict):
                parts.append(image_to_batch(_b64_bytes(instance), model, budget))
            else:
                parts.append(pixels_to_batch([instance], model.input_shape, scale))
        except InputError as exc:
            raise InputError(f"instances[{index}]: {exc}", fix=exc.fix) from None
    return np.concatenate(parts)


def images_to_batch(files: list[bytes], model: ModelInput) -> np.ndarray:
    _takes_images(model)
    if not files:
        raise InputError("no image files in the form; attach at least one image file")
    parts, budget = [], PixelBudget(model.max_request_pixels)
    for index, data in enumerate(files):
        try:
            parts.append(image_to_batch(data, model, budget))
        except InputError as exc:
            raise InputError(f"file {index + 1} of {len(files)}: {exc}", fix=exc.fix) from None
    return np.concatenate(parts)


def batch_to_pixels(batch: np.ndarray, model: ModelInput) -> np.ndarray:
    """A model's input batch back as what it was made from: 0-255 pixels (uint8, one channel
    dropped: ``(N, 28, 28)``) for an image model, the features as they are otherwise."""
    if not model.images:
        return batch
    pixels = np.rint(batch * PIXEL_MAX).astype(np.uint8)  # exact: scale_pixels divided by 255
    if len(model.input_shape) == 3 and model.input_shape[2] == 1:
        return pixels.reshape(len(pixels), *model.input_shape[:2])
    return pixels


def _takes_images(model: ModelInput) -> None:
    if not model.images:
        raise InputError(
            "this model was trained on an uploaded table of features, not images",
            fix=f'send {{"instances": [[...], ...]}} with {math.prod(model.input_shape)} '
            "numbers per instance",
        )


def image_to_batch(data: bytes, model: ModelInput, budget: PixelBudget) -> np.ndarray:
    _takes_images(model)
    pixels = image_to_pixels(
        data, model.input_shape, model.background, model.max_image_pixels, budget
    )
    return scale_pixels(pixels[None], model.input_shape)


def _b64_bytes(instance: dict[str, Any]) -> bytes:
    text = instance.get("b64")
    if set(instance) != {"b64"} or not isinstance(text, str):
        raise InputError(
            'an image instance must be {"b64": "<base64 of a PNG or JPEG file>"} and nothing '
            f"else; got an object with keys {sorted(instance)}"
        )
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(
            "b64 is not valid base64 (standard alphabet A-Z a-z 0-9 + /, padded with =)"
        ) from None


def _expected(input_shape: tuple[int, ...], scale: Scale) -> str:
    size, values = math.prod(input_shape), RANGES[scale][1]
    if len(input_shape) < 2:
        return f"each instance must be a list of {size} {values}"
    height, width = input_shape[0], input_shape[1]
    return f"each instance must be a {height}×{width} nested list or a flat list of {size} {values}"
