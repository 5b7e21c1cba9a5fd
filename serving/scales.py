"""Which scale the numbers of a prediction request are on: 0-255 pixels or 0-1 values.

An image model was trained on pixels divided by 255 (``training.preprocessing.scale_pixels``),
so it takes either the 0-255 pixels (scaled here as training scaled them) or values already
divided by 255 (``"unit"``, what a Keras user has after ``x / 255``). A request may say which
(``"scale": "pixels"`` or ``"unit"``); by default (``"auto"``) the values say it, and a request
whose values could be read either way, or neither, is refused rather than guessed:

- any value below 0 or above 255 (standardised values, say): refused, neither scale fits;
- any value above 1: ``pixels``; but if one instance's values all lie within 0-1 with
  fractions while others go above 1, the request mixes the two scales and is refused;
- every value within 0-1, some with fractions: ``unit``;
- every value 0: ``pixels`` (a blank image is the same on both scales);
- every value 0 or 1 and some 1 (a binarised digit): refused, as it is a black-and-white
  image as 0-1 values but an all but black one as pixels; the refusal says to send
  ``"scale": "unit"`` or ``"pixels"``.

A model trained on an uploaded table of features takes them as they were (``raw``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from core.errors import Problem
from serving.errors import InputError
from training.preprocessing import PIXEL_MAX

# How a request's numbers were read; the answer says which.
Scale = Literal["pixels", "unit", "raw"]
# What a request may ask for.
ScaleOption = Literal["auto", "pixels", "unit"]
SCALE_OPTIONS: tuple[ScaleOption, ...] = ("auto", "pixels", "unit")

RANGES: dict[str, tuple[float, str]] = {
    "auto": (PIXEL_MAX, "pixel values from 0 to 255 (or 0 to 1, already divided by 255)"),
    "pixels": (PIXEL_MAX, "pixel values from 0 to 255"),
    "unit": (1.0, 'values from 0 to 1 (with "scale": "unit")'),
    "raw": (math.inf, "finite numbers, the features as in the uploaded data set"),
}
CHOOSE = 'send "scale": "unit" for values from 0 to 1 or "scale": "pixels" for 0-255 pixels'


def read_scale(
    array: np.ndarray, requested: ScaleOption | Scale, positions: Sequence[int] | None = None
) -> Scale:
    """The scale ``array`` (instances along the first axis) is read on; refuses values that
    fit neither the requested scale nor, with ``"auto"``, exactly one of the two. An error
    names instances by their ``positions`` in the request (default: 0, 1, ...)."""
    low, high = float(array.min()), float(array.max())
    if not (math.isfinite(low) and math.isfinite(high)):  # a NaN makes both NaN
        raise InputError(f"instances hold NaN or infinite values; send {RANGES[requested][1]}")
    if requested == "raw":
        return "raw"
    if requested != "auto":
        check_range(low, high, requested)
        return requested
    if low < 0 or high > PIXEL_MAX:
        raise scale_error(
            f"values range from {low:g} to {high:g}; send pixel values from 0 to 255, or "
            "values from 0 to 1 (x / 255)",
            found=[low, high],
            fix='send 0-255 pixels, or 0-1 values (x / 255) with "scale": "unit"; the model '
            "divides pixels by 255 itself, as in training, so do not standardise them",
        )
    if high > 1:
        mixed = [positions[i] if positions else i for i in unit_like(array)]
        if mixed:
            shown = ", ".join(map(str, mixed[:5])) + (", ..." if len(mixed) > 5 else "")
            raise scale_error(
                f"instances {shown} hold values from 0 to 1 with fractions, and others "
                f"0-255 pixels (up to {high:g}); one request takes one scale",
                found=mixed[:20],
                field="instances",
                fix="multiply the 0-1 instances by 255, or send them in a request of their own "
                'with "scale": "unit"',
            )
        return "pixels"
    if has_fractions(array):
        return "unit"
    if high == 0:
        return "pixels"  # all black: the same image on either scale
    raise scale_error(
        "every value is 0 or 1: as 0-1 values that is a black-and-white image, as 0-255 "
        "pixels an all but black one",
        found=[0, 1],
        fix=CHOOSE + ' (a binarised image with 1 for ink: "unit")',
    )


def check_range(low: float, high: float, scale: Scale) -> None:
    top, allowed = RANGES[scale]
    if low >= 0 and high <= top:
        return
    hint = (
        '; these look like 0-255 pixels: leave out "scale": "unit"'
        if scale == "unit" and high <= PIXEL_MAX and low >= 0
        else ""
    )
    raise InputError(f"values range from {low:g} to {high:g}; send {allowed}{hint}")


def unit_like(array: np.ndarray) -> list[int]:
    """Indices of the instances whose values all lie within 0-1, some with fractions."""
    if array.dtype.kind != "f" or len(array) < 2:
        return []
    rows = array.reshape(len(array), -1)
    small = np.flatnonzero(rows.max(axis=1) <= 1)
    return [int(i) for i in small if has_fractions(rows[i])]


def has_fractions(array: np.ndarray, block: int = 1 << 16) -> bool:
    """Whether any value is not a whole number; 0-1 values show it in their first block."""
    if array.dtype.kind != "f":
        return False
    flat = array.reshape(-1)
    return any(
        bool((part != np.trunc(part)).any())
        for part in (flat[start : start + block] for start in range(0, flat.size, block))
    )


def scale_error(detail: str, *, found: object, fix: str, field: str = "scale") -> InputError:
    """A 422 whose one error item names the field to change (``scale``, or ``instances``)."""
    allowed = list(SCALE_OPTIONS) if field == "scale" else None
    item = Problem(field=field, message=detail, found=found, allowed=allowed, fix=fix)
    return InputError(detail, fix=fix, errors=[item.as_dict()])
