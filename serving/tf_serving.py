"""TensorFlow Serving's REST bodies -> Descent's models: the protocol without the HTTP.

Reads the JSON bodies TF Serving's clients send (``:predict`` in row or columnar form,
``:classify`` and ``:regress`` with ``examples``), turns them into the model's input batch with
the helpers Descent's own prediction uses (``serving.inputs``: shapes, pixels, image files),
runs the ONNX session and writes TF Serving's answers; and describes a model as TF Serving's
``signature_def``. api/routes/tf_serving.py serves it over HTTP.

The numbers sent are the model's raw input, as TF Serving takes them: float32 values already
scaled as training scaled them. ``"scale": "pixels"`` opts in to 0-255 pixels (TF Serving
ignores fields it does not know, so such a body is still a TF Serving body).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import orjson

from serving.answers import check_count, run_finite
from serving.errors import InputError
from serving.inputs import Batch, array_to_batch, fits, instances_to_batch
from serving.predict import BINARY, REGRESSION
from serving.sessions import ServedModel, TensorSpec

SIGNATURE = "serving_default"
PREDICT_METHOD = "tensorflow/serving/predict"
# ONNX Runtime's element types as TensorFlow's DataType names.
DTYPES = {
    "tensor(float)": "DT_FLOAT",
    "tensor(double)": "DT_DOUBLE",
    "tensor(float16)": "DT_HALF",
    "tensor(uint8)": "DT_UINT8",
    "tensor(int8)": "DT_INT8",
    "tensor(int32)": "DT_INT32",
    "tensor(int64)": "DT_INT64",
    "tensor(bool)": "DT_BOOL",
    "tensor(string)": "DT_STRING",
}
SCALES = ("raw", "pixels")


def signature_def(model: ServedModel) -> dict[str, Any]:
    """The model's one signature, ``serving_default``: the ONNX graph's inputs and outputs,
    the batch axis (or any axis of any length) written as ``-1``."""
    return {
        "inputs": {spec.name: tensor_info(spec) for spec in model.onnx.inputs},
        "outputs": {spec.name: tensor_info(spec) for spec in model.onnx.outputs},
        "method_name": PREDICT_METHOD,
    }


def tensor_info(spec: TensorSpec) -> dict[str, Any]:
    return {
        "dtype": DTYPES.get(spec.type, "DT_INVALID"),
        "tensor_shape": {
            "dim": [{"size": str(-1 if size is None else size)} for size in spec.shape],
            "unknown_rank": False,
        },
        "name": spec.name,
    }


Handler = Callable[[ServedModel, dict[str, Any], int], tuple[dict[str, Any], int]]


def answer(handler: Handler, model: ServedModel, body: bytes, limit: int) -> tuple[bytes, int]:
    """The JSON answer to ``body`` and how many instances it answers (for the metrics); a
    body of more than ``limit`` instances is refused (413)."""
    answered, instances = handler(model, parse(body), limit)
    return orjson.dumps(answered, option=orjson.OPT_SERIALIZE_NUMPY), instances


def answer_predict(
    model: ServedModel, payload: dict[str, Any], limit: int
) -> tuple[dict[str, Any], int]:
    """``instances`` (rows) answer ``predictions``; ``inputs`` (columns) answer ``outputs``:
    the output tensor as the ONNX graph gives it (a classifier's probabilities)."""
    check_signature(payload)
    input_name = model.onnx.inputs[0].name
    if ("instances" in payload) == ("inputs" in payload):
        raise InputError(
            "the body must hold exactly one of 'instances' (row format) or 'inputs' (columnar "
            f"format); it holds {sorted(payload) or 'neither'}",
            fix=f'send {{"instances": [instance, ...]}} or {{"inputs": {{"{input_name}": '
            "[instance, ...]}}",
        )
    if "instances" in payload:
        rows = payload["instances"]
        if not isinstance(rows, list):
            raise InputError("'instances' must be a list, one item per instance")
        rows = [unwrap(row, input_name, f"instances[{i}]") for i, row in enumerate(rows)]
        key = "predictions"
    else:
        rows = unwrap(payload["inputs"], input_name, "inputs")
        if not isinstance(rows, list):
            raise InputError(
                "'inputs' must be a tensor whose first axis is the batch, or "
                f'{{"{input_name}": tensor}}'
            )
        key = "outputs"
    batch = to_batch(model, rows, payload, limit)
    return {key: run_finite(model, batch.values)}, len(rows)


def answer_classify(
    model: ServedModel, payload: dict[str, Any], limit: int
) -> tuple[dict[str, Any], int]:
    """Each example's classes with their scores, ``[[label, score], ...]`` in class order."""
    if model.card.task == REGRESSION:
        raise InputError(
            "this model is a regression model; it answers :regress and :predict, not :classify"
        )
    outputs = run_finite(model, examples_batch(model, payload, limit).values)
    if model.card.task == BINARY and outputs.shape[1] == 1:
        outputs = np.concatenate([1.0 - outputs, outputs], axis=1)
    names = model.card.class_names
    results = [
        [[name, score] for name, score in zip(names, row, strict=True)] for row in outputs.tolist()
    ]
    return {"results": results}, len(results)


def answer_regress(
    model: ServedModel, payload: dict[str, Any], limit: int
) -> tuple[dict[str, Any], int]:
    """One value per example (a list of values for a model with several outputs)."""
    if model.card.task != REGRESSION:
        raise InputError(
            f"this model is a {model.card.task} model; it answers :classify and :predict, not "
            ":regress"
        )
    outputs = run_finite(model, examples_batch(model, payload, limit).values)
    results = outputs[:, 0] if outputs.ndim == 2 and outputs.shape[1] == 1 else outputs
    return {"results": results}, len(results)


def examples_batch(model: ServedModel, payload: dict[str, Any], limit: int) -> Batch:
    """``examples``: one ``{"<input name>": [values...]}`` object per example, as TF Serving's
    Classify and Regress take them (a ``tf.Example``'s features are flat lists)."""
    check_signature(payload)
    input_name = model.onnx.inputs[0].name
    if "context" in payload:
        raise InputError(
            f"'context' is not taken: this model has one feature, {input_name!r}, which each "
            "example holds",
            fix="leave out 'context' and send the feature in every example",
        )
    examples = payload.get("examples")
    if not isinstance(examples, list):
        raise InputError(
            "the body must hold 'examples', a list of objects, one per example",
            fix=f'send {{"examples": [{{"{input_name}": [values...]}}, ...]}}',
        )
    rows = []
    for index, example in enumerate(examples):
        if not isinstance(example, dict) or set(example) != {input_name}:
            found = sorted(example) if isinstance(example, dict) else type(example).__name__
            raise InputError(
                f"examples[{index}] must be an object with one feature, {input_name!r} (the "
                f"model's input); got {found}"
            )
        rows.append(example[input_name])
    return to_batch(model, rows, payload, limit)


# Reading a body ----------------------------------------------------------------------------


def parse(body: bytes) -> dict[str, Any]:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        hint = (
            "; NaN and Infinity are not accepted: send finite values"
            if any(token in body for token in (b"NaN", b"Infinity"))
            else ""
        )
        raise InputError(f"the body is not valid JSON ({exc}){hint}") from None
    if not isinstance(payload, dict):
        raise InputError(
            f"the body is a JSON {type(payload).__name__}; send a JSON object such as "
            '{"instances": [...]}'
        )
    return payload


def check_signature(payload: dict[str, Any]) -> None:
    name = payload.get("signature_name", "")
    if name not in ("", SIGNATURE):
        raise InputError(
            f"signature_name is {name!r}; this model has one signature, {SIGNATURE!r}",
            fix=f'leave out signature_name, or send "signature_name": "{SIGNATURE}"',
        )


def unwrap(value: Any, input_name: str, where: str) -> Any:
    """A value given by its input's name, ``{"<input name>": value}``, as the value; an image
    ``{"b64": ...}`` (for a model whose input is not named ``b64``) is left as it is."""
    if not isinstance(value, dict) or (set(value) == {"b64"} and input_name != "b64"):
        return value
    if set(value) != {input_name}:
        raise InputError(
            f"{where} is an object with keys {sorted(value)}; this model has one input, "
            f'{input_name!r}: send {{"{input_name}": value}}, the value alone, or '
            '{"b64": "<base64 of a PNG or JPEG>"}'
        )
    return value[input_name]


def to_batch(model: ServedModel, rows: list[Any], payload: dict[str, Any], limit: int) -> Batch:
    """Instances (nested lists, flat lists or ``{"b64": ...}`` images) -> the model's input
    batch: taken as they are (raw), or as 0-255 pixels with ``"scale": "pixels"``."""
    scale = payload.get("scale", "raw")
    if scale not in SCALES:
        raise InputError(
            f"scale is {scale!r}; send 'raw' (the default: values as the model takes them) or "
            "'pixels' (0-255 pixels, scaled as training scaled them)"
        )
    if scale == "pixels" and not model.card.input.images:
        raise InputError(
            '"scale": "pixels" applies to image models; this one takes the features of an '
            "uploaded table as they are",
            fix='leave out "scale"',
        )
    if not rows:
        raise InputError("no instances; send at least one")
    if any(isinstance(row, dict) for row in rows):  # image files among them: count, then decode
        check_count(len(rows), limit)
        return instances_to_batch(rows, model.card.input, scale)
    shape = model.card.input.input_shape
    try:
        with np.errstate(over="ignore"):  # a number beyond float32's range: inf, refused below
            array = np.asarray(rows, dtype=np.float32)
    except (ValueError, TypeError):
        raise InputError(f"the instances are ragged or not numbers; {expected(shape)}") from None
    if array.ndim < 2 or not fits(array.shape[1:], shape):
        found = list(array.shape[1:]) if array.ndim >= 2 else "a single number"
        detail = f"each instance has shape {found}; {expected(shape)}"
        if fits(array.shape, shape):
            raise InputError(
                f"{detail}; the values sent look like one instance without the batch axis",
                fix="wrap the instance in a list: [instance] (for a numpy array x, x[None])",
            )
        raise InputError(detail)
    check_count(len(array), limit)  # after the shape: one instance sent bare is no batch
    if not np.isfinite(array).all():
        raise InputError(
            "the instances hold NaN, infinite values or numbers beyond float32's range; send "
            "finite float32 values"
        )
    return array_to_batch(array, shape, scale)


def expected(shape: tuple[int, ...]) -> str:
    dims = "×".join(map(str, shape))
    flat = int(np.prod(shape))
    squeezed = "×".join(str(n) for n in shape if n != 1)
    also = f", {squeezed}" if squeezed != dims and squeezed != str(flat) else ""
    return f"the model takes instances of shape {dims}{also} or {flat} values flat"
