"""The Open Inference Protocol v2's tensors (Triton, KServe, MLServer): an ``infer`` request's
body -> the model's input batch, and the model's output -> the answer's body.

A request is a JSON object, optionally followed by raw tensor bytes (Triton's binary tensor
data extension, which ``tritonclient`` uses by default): the ``Inference-Header-Content-Length``
header says how many bytes the JSON takes, and each input whose ``parameters`` hold
``binary_data_size`` takes that many of the bytes after it, in order (little-endian,
row-major). Those bytes are read in place (``np.frombuffer``), never copied into lists.

What the numbers mean follows the datatype:

- floating-point tensors (``FP32``, ``FP64``, ``FP16``) are the model's raw input, as Triton
  hands them to a model: for an image model, pixels already divided by 255 (0-1);
- integer tensors (``UINT8``, the others too) are 0-255 pixels for an image model, scaled by
  ``training.preprocessing.scale_pixels``, the function training used; a model trained on an
  uploaded table takes them as the features they are.

The answer holds the model's raw output tensor (a classifier's probabilities), as JSON
``data`` or, where asked, as binary after the JSON; or, with Triton's classification
extension, the top classes as ``"<probability>:<index>:<label>"`` strings.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from serving.answers import check_count, check_finite_input, run_finite
from serving.errors import InputError
from serving.inputs import fits
from serving.sessions import ServedModel, TensorSpec
from training.preprocessing import PIXEL_MAX, scale_pixels

# The protocol's datatypes this server reads, as numpy's little-endian dtypes.
DTYPES: dict[str, np.dtype] = {
    name: np.dtype(code)
    for name, code in {
        "FP32": "<f4",
        "FP64": "<f8",
        "FP16": "<f2",
        "UINT8": "u1",
        "UINT16": "<u2",
        "UINT32": "<u4",
        "UINT64": "<u8",
        "INT8": "i1",
        "INT16": "<i2",
        "INT32": "<i4",
        "INT64": "<i8",
    }.items()
}
# ONNX Runtime's type names -> the protocol's, for model metadata.
ONNX_TYPES = {
    "tensor(float)": "FP32",
    "tensor(double)": "FP64",
    "tensor(float16)": "FP16",
    "tensor(uint8)": "UINT8",
    "tensor(int32)": "INT32",
    "tensor(int64)": "INT64",
    "tensor(string)": "BYTES",
    "tensor(bool)": "BOOL",
}


@dataclass(frozen=True)
class Answer:
    """An infer answer's body; ``header_length`` is the JSON's size when binary data follows."""

    body: bytes
    header_length: int | None
    instances: int


def describe(spec: TensorSpec) -> dict[str, Any]:
    """An input or output as model metadata lists it: -1 for an axis of any length."""
    return {
        "name": spec.name,
        "datatype": ONNX_TYPES.get(spec.type, spec.type),
        "shape": [-1 if n is None else n for n in spec.shape],
    }


def infer(
    model: ServedModel,
    body: bytes,
    header_length: str | None,
    *,
    model_name: str,
    model_version: str,
    limit: int,
) -> Answer:
    """The answer to one infer request: read its tensor, run the model, write its outputs."""
    request, binary = split(body, header_length)
    inputs = request.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise InputError(
            'the request has no "inputs"; send {"inputs": [{"name", "shape", "datatype", "data"}]}'
        )
    expected = model.onnx.inputs[0]
    tensor = _only_input(inputs, expected)
    batch = to_batch(model, tensor, binary, limit)
    outputs = run_finite(model, batch)  # JSON has no number for NaN; null would pass as one
    header: dict[str, Any] = {"model_name": model_name, "model_version": model_version}
    if "id" in request:
        header["id"] = request["id"]
    header["outputs"], raw = write_outputs(model, request, outputs)
    content = orjson.dumps(header, option=orjson.OPT_SERIALIZE_NUMPY)
    if not raw:
        return Answer(content, None, len(batch))
    return Answer(b"".join([content, *raw]), len(content), len(batch))


def split(body: bytes, header_length: str | None) -> tuple[dict[str, Any], memoryview]:
    """The request's JSON object and the binary tensor data after it (empty without any)."""
    view = memoryview(body)
    size = len(body)
    if header_length is not None:
        length = header_length.strip()
        if not (length.isascii() and length.isdigit()) or not 0 < int(length) <= len(body):
            raise InputError(
                f"Inference-Header-Content-Length is {header_length!r}; it must be the size in "
                f"bytes of the JSON that starts the body (1 to {len(body):,} here)"
            )
        size = int(length)
    try:
        request = orjson.loads(view[:size])
    except orjson.JSONDecodeError as exc:
        hint = (
            "; a body with binary tensor data after its JSON needs the header "
            "Inference-Header-Content-Length: <size of the JSON>"
            if header_length is None
            else ""
        )
        raise InputError(f"the request's JSON cannot be read ({exc}){hint}") from None
    if not isinstance(request, dict):
        raise InputError('the request must be a JSON object, {"inputs": [...]}')
    return request, view[size:]


def _only_input(inputs: list[Any], expected: TensorSpec) -> dict[str, Any]:
    names = [tensor.get("name") if isinstance(tensor, dict) else None for tensor in inputs]
    if len(inputs) != 1 or names[0] != expected.name:
        raise InputError(
            f"the request's inputs are {names}; this model takes one input, {expected.name!r}",
            fix=f'send "inputs": [{{"name": "{expected.name}", ...}}] (GET the model\'s '
            "metadata, /v2/models/NAME, for its inputs)",
        )
    return inputs[0]


def to_batch(
    model: ServedModel, tensor: dict[str, Any], binary: memoryview, limit: int
) -> np.ndarray:
    """One input tensor -> the model's float32 input batch ``(N, *input_shape)``."""
    input_shape = model.card.input.input_shape
    datatype, shape = tensor.get("datatype"), tensor.get("shape")
    dtype = DTYPES.get(datatype) if isinstance(datatype, str) else None
    if dtype is None:
        raise InputError(
            f"datatype {datatype!r} is not one this server reads; send FP32 (the model's raw "
            "input) or UINT8 (0-255 pixels), or another of " + ", ".join(DTYPES)
        )
    _check_shape(shape, input_shape)
    check_count(shape[0], limit)
    array = _values(tensor, dtype, shape, binary)
    if dtype.kind == "f" or model.card.scaling == "none":
        # The model's raw input (or a table's features), taken as they are once float32.
        batch = array.astype(np.float32, copy=False).reshape((-1, *input_shape))
        check_finite_input(batch)
        return batch
    if dtype != np.uint8 and array.size and (array.min() < 0 or array.max() > PIXEL_MAX):
        raise InputError(
            f"{datatype} values are read as 0-255 pixels; these run from {array.min()} to "
            f"{array.max()}",
            fix="send pixels from 0 to 255, or FP32 values the model takes as they are",
        )
    return scale_pixels(array, input_shape)


def _check_shape(shape: Any, input_shape: tuple[int, ...]) -> None:
    expected = [-1, *input_shape]
    if (
        not isinstance(shape, list)
        or not shape
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
    ):
        raise InputError(f"the input's shape is {shape!r}; send a list such as {expected}")
    if not fits(tuple(shape[1:]), input_shape) or len(shape) < 2:
        hint = (
            "; it looks like one instance without the batch axis: put 1 in front"
            if fits(tuple(shape), input_shape)
            else ""
        )
        raise InputError(
            f"the input's shape is {shape}; this model takes {expected} (N instances of "
            f"{list(input_shape)}, or {math.prod(input_shape)} numbers each){hint}"
        )
    if shape[0] == 0:
        raise InputError("the input holds no instances (its shape starts with 0); send one")


def _values(
    tensor: dict[str, Any], dtype: np.dtype, shape: list[int], binary: memoryview
) -> np.ndarray:
    """The tensor's values, flat: from the binary data (no copy) or the JSON ``data``."""
    count = math.prod(shape)
    parameters = tensor.get("parameters") or {}
    size = parameters.get("binary_data_size") if isinstance(parameters, dict) else None
    if size is not None:
        expected = count * dtype.itemsize
        if size != expected or len(binary) != size:
            raise InputError(
                f"binary_data_size is {size!r} and {len(binary):,} bytes follow the JSON; "
                f"shape {shape} of {tensor['datatype']} takes {expected:,} bytes"
            )
        return np.frombuffer(binary, dtype=dtype)
    if len(binary):
        raise InputError(
            f"{len(binary):,} bytes follow the JSON but no input has binary_data_size",
            fix="give the input parameters.binary_data_size, or send its values in data",
        )
    if "data" not in tensor:
        raise InputError(
            "the input has neither data nor parameters.binary_data_size; send its values"
        )
    try:
        values = np.asarray(tensor["data"], dtype=np.float64).reshape(-1)
    except (ValueError, TypeError):
        raise InputError("the input's data is ragged or not all numbers") from None
    if values.size != count:
        raise InputError(
            f"the input's data holds {values.size:,} numbers; shape {shape} takes {count:,}"
        )
    if dtype.kind == "f":
        return values
    info = np.iinfo(dtype)
    if not (
        np.all(values == np.rint(values)) and values.min() >= info.min and values.max() <= info.max
    ):
        raise InputError(
            f"{tensor['datatype']} data must be whole numbers from {info.min} to {info.max}"
        )
    return values.astype(dtype)


def write_outputs(
    model: ServedModel, request: dict[str, Any], output: np.ndarray
) -> tuple[list[dict[str, Any]], list[bytes]]:
    """The answer's outputs, and the binary data that follows the JSON (in their order)."""
    spec = model.onnx.outputs[0]
    parameters = request.get("parameters") or {}
    binary_default = bool(isinstance(parameters, dict) and parameters.get("binary_data_output"))
    wanted = request.get("outputs")
    if wanted is None:
        wanted = [{"name": spec.name}]
    if not isinstance(wanted, list) or not all(isinstance(w, dict) for w in wanted):
        raise InputError('"outputs" must be a list of {"name": ...} objects')
    described, raw = [], []
    for requested in wanted:
        if requested.get("name") != spec.name:
            raise InputError(
                f"the request asks for output {requested.get('name')!r}; this model has one "
                f"output, {spec.name!r}"
            )
        options = requested.get("parameters") or {}
        if not isinstance(options, dict):
            raise InputError(f"output {spec.name!r}: parameters must be an object")
        binary = bool(options.get("binary_data", binary_default))
        count = options.get("classification")
        tensor, datatype = (
            (output, describe(spec)["datatype"])
            if not count
            else (classify(model, output, count), "BYTES")
        )
        entry: dict[str, Any] = {
            "name": spec.name,
            "datatype": datatype,
            "shape": list(tensor.shape),
        }
        if binary:
            data = to_bytes(tensor)
            entry["parameters"] = {"binary_data_size": len(data)}
            raw.append(data)
        else:
            entry["data"] = tensor.ravel().tolist() if datatype == "BYTES" else tensor.reshape(-1)
        described.append(entry)
    return described, raw


def classify(model: ServedModel, output: np.ndarray, count: Any) -> np.ndarray:
    """Triton's classification extension: each instance's ``count`` likeliest classes as
    ``"<probability>:<index>:<label>"``, most likely first."""
    names = model.card.class_names
    if model.card.task == "regression" or not names:
        raise InputError("classification applies to classifiers; this model is a regression model")
    if output.shape[1] == 1 and len(names) == 2:  # one sigmoid unit: the second class's
        output = np.concatenate([1.0 - output, output], axis=1)
    classes = output.shape[1]
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= classes:
        raise InputError(
            f"classification is {count!r}; this model has {classes} classes, so ask for 1 "
            f"to {classes}"
        )
    ranked = np.argsort(-output, axis=1, kind="stable")[:, :count].tolist()
    strings = [
        [f"{row[i]:f}:{i}:{names[i]}" for i in order]
        for row, order in zip(output, ranked, strict=True)
    ]
    return np.array(strings, dtype=object)


def to_bytes(tensor: np.ndarray) -> bytes:
    """A tensor as the binary extension writes it: raw little-endian values, or for BYTES each
    string's length (4 bytes) then its UTF-8 bytes."""
    if tensor.dtype != object:
        return np.ascontiguousarray(tensor, dtype="<f4").tobytes()
    parts = []
    for text in tensor.ravel():
        encoded = text.encode()
        parts += [struct.pack("<I", len(encoded)), encoded]
    return b"".join(parts)
