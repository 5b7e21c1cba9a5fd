"""A prediction request's instances, in each form they arrive in -> the model's answers.

Pixel rows and ``{"b64": ...}`` images (a JSON body), an ``.npy`` array, or image files: each
is checked against the per-request limit and the model's ``top_k``, turned into the model's
input batch and run. The answer is a plain structure (numpy rows included) that the API writes
as JSON; it says which scale the numbers sent were read on (``serving.scales``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from serving.errors import InputError, TooLarge
from serving.inputs import (
    Batch,
    Scale,
    ScaleOption,
    array_to_batch,
    batch_to_pixels,
    images_to_batch,
    instances_to_batch,
    read_npy,
)
from serving.predict import check_top_k, predict
from serving.sessions import ServedModel


def from_instances(
    model: ServedModel,
    instances: list[Any],
    *,
    limit: int,
    top_k: int | None,
    scale: ScaleOption | None,
    include_input: bool = False,
) -> dict[str, Any]:
    """Pixel rows and base64 images, as a JSON body holds them."""
    check_count(len(instances), limit)
    check_top_k(model.card, top_k)
    batch = instances_to_batch(instances, model.card.input, input_scale(model, scale))
    return answer(model, batch, top_k, include_input)


def from_npy(
    model: ServedModel,
    data: bytes,
    *,
    limit: int,
    top_k: int | None,
    scale: ScaleOption | None,
    include_input: bool = False,
) -> dict[str, Any]:
    """An array of instances, as ``numpy.save`` writes it."""
    check_top_k(model.card, top_k)
    array = read_npy(data)
    check_count(len(array), limit)
    batch = array_to_batch(array, model.card.input.input_shape, input_scale(model, scale))
    return answer(model, batch, top_k, include_input)


def from_images(
    model: ServedModel,
    files: list[bytes],
    *,
    top_k: int | None,
    scale: ScaleOption | None = None,
    include_input: bool = False,
) -> dict[str, Any]:
    """Image files, one instance each (their number is capped as they are read); they are
    0-255 pixels by nature, so ``"unit"`` is refused rather than ignored."""
    if scale == "unit":
        raise InputError(
            'image files are decoded to 0-255 pixels; "scale": "unit" applies to arrays of '
            "0-1 values",
            fix='leave out scale (or send "auto" or "pixels") with image files',
        )
    check_top_k(model.card, top_k)
    return answer(model, images_to_batch(files, model.card.input), top_k, include_input)


def answer(
    model: ServedModel, batch: Batch, top_k: int | None, include_input: bool = False
) -> dict[str, Any]:
    """The model's answer to each instance of the batch, and the scale the batch was read on;
    with ``include_input``, each answer also holds what the model was given."""
    check_finite_input(batch.values)
    predictions = predict(model, batch.values, top_k)
    check_finite_output(predictions)
    if include_input:
        # What the model was given, e.g. an image file after its conversion (the web page shows
        # it): 0-255 pixels for an image model, the features as they are otherwise.
        seen = batch_to_pixels(batch.values, model.card.input)
        for prediction, pixels in zip(predictions, seen, strict=True):
            prediction["input"] = pixels
    return {"model_id": model.card.id, "scale": batch.scale, "predictions": predictions}


FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_finite_input(values: np.ndarray) -> None:
    """Refuse instances that hold a number float32 cannot (above ~3.4e38, or NaN/infinite once
    read): the model would answer NaN or an infinity, which JSON cannot carry."""
    finite = np.isfinite(values.reshape(len(values), -1)).all(axis=1)
    if not finite.all():
        rows = np.flatnonzero(~finite)[:5].tolist()
        raise InputError(
            f"instances {rows} hold numbers that are not finite as float32 (NaN, an infinity, "
            f"or beyond ±{FLOAT32_MAX:.3g}), so the model cannot answer them",
            fix="send finite numbers on the scale the model was trained on",
        )


def check_finite_output(predictions: list[dict[str, Any]]) -> None:
    """Refuse to answer NaN or an infinity (a regression of 1e300 overflows float32): JSON
    has no number for them, and ``null`` with a 200 would pass for an answer."""
    rows = [index for index, answer in enumerate(predictions) if not _finite(answer)][:5]
    if rows:
        raise InputError(
            f"the model's output for instances {rows} is not a finite number (NaN, or beyond "
            f"float32's ±{FLOAT32_MAX:.3g}): their inputs are far outside what it was trained on",
            fix="send inputs on the scale and in the range of the model's training data",
        )


def run_finite(model: ServedModel, batch: np.ndarray) -> np.ndarray:
    """The model's raw output for ``batch``, refused (like ``check_finite_output``) where it is
    NaN or an infinity: the inference protocols answer raw tensors, which JSON cannot carry
    them in."""
    outputs = model.onnx.run(batch)
    if not np.isfinite(outputs).all():
        raise InputError(
            "the model's output is not finite (NaN, or beyond float32's range): the input is "
            "far outside what it was trained on",
            fix="send inputs on the scale and in the range of the model's training data",
        )
    return outputs


def _finite(answer: dict[str, Any]) -> bool:
    numbers: list[Any] = [answer.get("value"), answer.get("probabilities")]
    numbers += [rank.get("probability") for rank in answer.get("top_k") or []]
    return all(
        bool(np.isfinite(np.asarray(number, dtype=np.float64)).all())
        for number in numbers
        if number is not None
    )


def input_scale(model: ServedModel, requested: ScaleOption | None) -> ScaleOption | Scale:
    """Features of an uploaded data set go in as they are; images as the request says."""
    if model.card.scaling != "none":
        return requested or "auto"
    if requested not in (None, "auto"):
        raise InputError(
            f'"scale": "{requested}" applies to pixels; this model was trained on an uploaded '
            "table of features, which it takes as they were uploaded",
            fix='leave out "scale" (or send "auto")',
        )
    return "raw"


def check_count(count: int, limit: int) -> None:
    if count > limit:
        raise too_many_instances(count, limit)


def too_many_instances(count: int, limit: int) -> TooLarge:
    return TooLarge(
        f"{count:,} instances sent; at most {limit:,} are accepted per request "
        "(DESCENT_MAX_INSTANCES_PER_REQUEST)",
        fix=f"split the instances into requests of at most {limit:,}",
    )
