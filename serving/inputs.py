"""Turn request instances into the model's input batch, with the training preprocessing.

Three kinds of instance reach a model: pixel rows (JSON lists, or an ``.npy`` array), each
``H×W`` nested (``H×W×1`` and ``1×H×W`` too) or flat, as 0-255 pixels or 0-1 values already
divided by 255 (``serving.scales`` says which, or refuses to guess); and image files
(``{"b64": ...}`` in JSON, or uploaded files), which ``serving.images`` converts to 0-255
pixels. Pixels are then scaled by ``training.preprocessing.scale_pixels``, the function
training used, so the two cannot drift.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from serving.errors import InputError
from serving.images import Background, PixelBudget, image_to_pixels
from serving.scales import RANGES, Scale, ScaleOption, read_scale
from training.preprocessing import PIXEL_MAX, scale_pixels

__all__ = [
    "Batch",
    "InputError",
    "ModelInput",
    "Scale",
    "ScaleOption",
    "array_to_batch",
    "batch_to_pixels",
    "pixels_to_batch",
    "read_npy",
]

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
    decode_slots: int = 4  # images one process decodes at once (serving.images.decode_slot)


@dataclass(frozen=True)
class Batch:
    """A model's input batch, float32 ``(N, *input_shape)``, and the scale it was read on."""

    values: np.ndarray
    scale: Scale


def pixels_to_batch(
    instances: list[Any], input_shape: tuple[int, ...], scale: ScaleOption | Scale = "auto"
) -> Batch:
    """Pixel rows (nested ``H×W`` lists or flat lists) -> float32 batch in [0, 1]."""
    return array_to_batch(rows_to_array(instances, input_shape, scale), input_shape, scale)


def rows_to_array(
    instances: list[Any], input_shape: tuple[int, ...], scale: ScaleOption | Scale
) -> np.ndarray:
    if not instances:
        raise InputError("instances is empty; send at least one image")
    try:
        return np.asarray(instances, dtype=np.float64)
    except (ValueError, TypeError):
        raise InputError(
            f"instances are ragged or not numbers; {_expected(input_shape, scale)}"
        ) from None


def array_to_batch(
    array: np.ndarray,
    input_shape: tuple[int, ...],
    scale: ScaleOption | Scale,
    positions: Sequence[int] | None = None,
) -> Batch:
    """A numeric array of instances (first axis) -> float32 batch, after checking it;
    ``positions`` are the instances' indices in the request, where they are not 0, 1, ..."""
    check_instances(array, input_shape, scale)
    read = read_scale(array, scale, positions)
    if read in ("unit", "raw"):
        # Already scaled as training scales (scale_pixels maps 0-255 onto these 0-1 values),
        # or features that training used as they are.
        return Batch(np.asarray(array, dtype=np.float32).reshape((-1, *input_shape)), read)
    return Batch(scale_pixels(array, input_shape), read)


def check_instances(
    array: np.ndarray, input_shape: tuple[int, ...], scale: ScaleOption | Scale
) -> None:
    """Refuses an array whose instances do not have the model's shape, saying what to send."""
    per_instance = array.shape[1:]
    if not per_instance or not fits(per_instance, input_shape):
        got = list(per_instance) if per_instance else "a single number"
        detail = f"instances have shape {got} each; {_expected(input_shape, scale)}"
        if array.ndim and fits(array.shape, input_shape):
            raise InputError(
                f"{detail}; they look like one instance of shape {list(array.shape)} without "
                "the list of instances around it",
                fix='send a list of instances, {"instances": [instance]} (for a numpy array '
                "x of one instance, x[None])",
            )
        raise InputError(detail)
    if array.shape[0] == 0:
        raise InputError("instances is empty; send at least one image")
    if array.dtype.kind not in "biuf":
        raise InputError(f"instances hold {array.dtype} values; {_expected(input_shape, scale)}")


def fits(shape: tuple[int, ...], input_shape: tuple[int, ...]) -> bool:
    """One instance of the model's shape: that shape, flat, or with axes of length 1 added or
    left out (``28×28``, ``28×28×1``, ``1×28×28``, ``784``: the same numbers in the same
    order)."""
    size = math.prod(input_shape)
    if math.prod(shape) != size:
        return False
    squeezed = tuple(n for n in shape if n != 1)
    return squeezed in (tuple(n for n in input_shape if n != 1), (size,))


def npy_to_batch(data: bytes, input_shape: tuple[int, ...], scale: ScaleOption | Scale) -> Batch:
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


def instances_to_batch(
    instances: list[Any], model: ModelInput, scale: ScaleOption | Scale = "auto"
) -> Batch:
    """JSON instances, pixel rows and ``{"b64": ...}`` images mixed freely -> one batch. The
    pixel rows are read on one scale together; images are 0-255 pixels by nature."""
    if not any(isinstance(instance, dict) for instance in instances):
        return pixels_to_batch(instances, model.input_shape, scale)
    parts: dict[int, np.ndarray] = {}
    rows: dict[int, np.ndarray] = {}
    budget = PixelBudget(model.max_request_pixels)
    for index, instance in enumerate(instances):
        try:
            if isinstance(instance, dict):
                parts[index] = image_to_batch(_b64_bytes(instance), model, budget)
            else:
                rows[index] = rows_to_array([instance], model.input_shape, scale)
                check_instances(rows[index], model.input_shape, scale)
        except InputError as exc:
            raise InputError(f"instances[{index}]: {exc}", fix=exc.fix, errors=exc.errors) from None
    read: Scale = "pixels"
    if rows:
        # Stacked, so that the rows are read on one scale (per row, 0-1 rows could pass as
        # 0-255 ones); each keeps its own shape until the batch is reshaped.
        flat = np.concatenate([row.reshape(1, -1) for row in rows.values()])
        batch = array_to_batch(flat, model.input_shape, scale, positions=list(rows))
        parts.update(zip(rows, (values[None] for values in batch.values), strict=True))
        read = batch.scale
    return Batch(np.concatenate([parts[index] for index in range(len(instances))]), read)


def images_to_batch(files: list[bytes], model: ModelInput) -> Batch:
    """Image files, decoded to 0-255 pixels and scaled as training scaled them."""
    _takes_images(model)
    if not files:
        raise InputError("no image files in the form; attach at least one image file")
    parts, budget = [], PixelBudget(model.max_request_pixels)
    for index, data in enumerate(files):
        try:
            parts.append(image_to_batch(data, model, budget))
        except InputError as exc:
            raise InputError(f"file {index + 1} of {len(files)}: {exc}", fix=exc.fix) from None
    return Batch(np.concatenate(parts), "pixels")


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
        data,
        model.input_shape,
        model.background,
        model.max_image_pixels,
        budget,
        model.decode_slots,
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


def _expected(input_shape: tuple[int, ...], scale: ScaleOption | Scale) -> str:
    size, values = math.prod(input_shape), RANGES[scale][1]
    if len(input_shape) < 2:
        return f"each instance must be a list of {size} {values}"
    height, width = input_shape[0], input_shape[1]
    return (
        f"each instance must be a {height}×{width} nested list (or {height}×{width}×1) or a "
        f"flat list of {size} {values}"
    )
