"""Turn an upload (a JSON body or a CSV file) into checked arrays, or say what is wrong.

Rows become float32 features; labels become class indices (classification) or numbers
(regression). Every refusal names the field, what was found and how to fix it.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from core.errors import InvalidInput
from services import csv_uploads
from training.builtin_datasets import DATASETS

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")  # \Z: no trailing newline


@dataclass(frozen=True)
class Upload:
    name: str
    task: str
    x: np.ndarray  # float32, (rows, *input_shape)
    y: np.ndarray  # int64 class indices, or float32 (rows, target_size)
    class_names: list[str]
    target_size: int
    feature_names: list[str] | None = None


def fingerprint(upload: Upload) -> dict[str, Any]:
    """What makes two uploads the same one (for Idempotency-Key): the name, the task and
    the rows, whatever form (JSON or CSV, any multipart boundary) carried them."""
    return {
        "name": upload.name,
        "task": upload.task,
        "class_names": upload.class_names,
        "feature_names": upload.feature_names,
        "x": [list(upload.x.shape), _digest(upload.x)],
        "y": [list(upload.y.shape), _digest(upload.y)],
    }


def _digest(array: np.ndarray) -> str:
    # Hashed in place: tobytes() would copy the whole array.
    return hashlib.sha256(np.ascontiguousarray(array).data).hexdigest()


def refuse(field: str, message: str, fix: str, found: Any = None) -> InvalidInput:
    error: dict[str, Any] = {"field": field, "message": message, "fix": fix}
    if found is not None:
        error["found"] = found
    return InvalidInput(f"{field}: {message}", fix=fix, errors=[error], code="dataset_invalid")


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise refuse(
            "name",
            f"{name!r} is not a usable data set name",
            "use 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit",
            found=name,
        )
    if name.lower() in {known.lower() for known in DATASETS}:  # "MNIST" beside "mnist"
        raise refuse("name", f"{name!r} is a built-in data set", "choose another name", found=name)
    return name


def from_rows(name: str, task: str, x: Any, y: Any, class_names: list[str] | None = None) -> Upload:
    """A JSON upload: ``x`` a list of rows (each a list of numbers, or nested), ``y`` labels."""
    check_name(name)
    features = _features(x)
    if len(y) != len(features):
        raise refuse(
            "y",
            f"y holds {len(y)} labels for {len(features)} rows of x",
            "give one label per row of x",
        )
    if task == "regression":
        targets = _numbers(y)
        return Upload(name, task, features, targets, [], targets.shape[1])
    indices, names = _classes(y, class_names)
    return Upload(name, task, features, indices, names, 0)


def from_csv(name: str, task: str, file: IO[bytes], target: str | None) -> Upload:
    """A CSV upload with a header row; ``target`` names the label column (default the last).

    ``file`` is read as a stream (services.csv_uploads), never held whole in memory."""
    check_name(name)
    table = csv_uploads.read(file, task, target, refuse)
    if task == "regression":
        return Upload(name, task, table.x, table.targets, [], 1, table.feature_names)
    indices, names = _codes_to_classes(table.codes, table.labels)
    return Upload(name, task, table.x, indices, names, 0, table.feature_names)


def _codes_to_classes(codes: np.ndarray, labels: list[str]) -> tuple[np.ndarray, list[str]]:
    """Class indices ordered as ``_classes`` orders them: class numbers as numbers (1, 2, 10),
    other labels as text; ``codes`` index ``labels`` in the order they were first seen."""
    keys: list[Any] = labels
    if all(_is_number(label) and float(label).is_integer() for label in labels):
        keys = [int(float(label)) for label in labels]  # "1" and "1.0" are one class
    ordered = sorted(set(keys))
    _at_least_two([str(key) for key in ordered])
    lookup = {key: i for i, key in enumerate(ordered)}
    remap = np.asarray([lookup[key] for key in keys], dtype=np.int64)
    return remap[codes], [str(key) for key in ordered]


def _features(x: Any) -> np.ndarray:
    """x as float32, straight from the parsed lists (no float64 copy in between)."""
    try:
        with np.errstate(over="ignore"):  # 1e300 becomes inf here, and is refused below
            array = np.asarray(x, dtype=np.float32)
    except (TypeError, ValueError, OverflowError):  # 10**400 too
        raise refuse(
            "x",
            "x holds rows of different lengths or values that are not numbers",
            "give x as a list of rows, each a list of the same count of numbers: [[1], [2]]",
        ) from None
    if array.ndim < 2 or len(array) == 0:
        raise refuse(
            "x",
            f"x must be a non-empty list of rows, each a list of numbers; it has shape "
            f"{list(array.shape)}",
            "wrap each row in a list, e.g. [[1], [2]] for two rows of one feature",
        )
    if 0 in array.shape:
        raise refuse(
            "x",
            f"x has shape {list(array.shape)}: its rows hold no numbers, and a data set needs "
            "at least one feature column",
            "give each row the numbers the model should learn from, e.g. [[1], [2]]",
            found=list(array.shape),
        )
    finite = np.isfinite(array)
    if not finite.all():
        first = np.unravel_index(int(np.argmin(finite)), array.shape)
        where = "".join(f"[{int(i)}]" for i in first)
        raise refuse(
            "x",
            f"x{where} is {float(array[first])}: x holds NaN, infinite values or "
            f"numbers beyond float32's range (±{float(np.finfo(np.float32).max):.3g})",
            "replace them with finite numbers",
            found=f"x{where}",
        )
    return array


def _numbers(y: Any) -> np.ndarray:
    try:
        array = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):  # 10**400 too
        raise refuse(
            "y",
            "a regression's y must be numbers (or lists of numbers, one per target)",
            'give numbers, or use "task": "classification" for labels',
        ) from None
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2 or not np.isfinite(array).all():
        raise refuse("y", "y must be finite numbers, one per row or one list per row", "fix y")
    return array.astype(np.float32)


def _classes(y: list[Any], class_names: list[str] | None) -> tuple[np.ndarray, list[str]]:
    labels = list(y)
    if labels and all(isinstance(label, list) for label in labels):
        labels = _from_one_hot(labels)
    integral = all(_is_integral(label) for label in labels)
    if class_names is not None:
        if not integral or any(not 0 <= int(label) < len(class_names) for label in labels):
            raise refuse(
                "y",
                f"with class_names, y must hold class indices from 0 to {len(class_names) - 1}",
                "give indices into class_names, or leave class_names out",
            )
        indices = np.asarray([int(label) for label in labels], dtype=np.int64)
        names = [str(name) for name in class_names]
    else:
        keys = [int(label) for label in labels] if integral else [str(label) for label in labels]
        ordered = sorted(set(keys))
        lookup = {key: i for i, key in enumerate(ordered)}
        indices = np.asarray([lookup[key] for key in keys], dtype=np.int64)
        names = [str(key) for key in ordered]
    _at_least_two(names)
    return indices, names


def _at_least_two(names: list[str]) -> None:
    if len(set(names)) < 2:
        raise refuse(
            "y",
            f"y holds a single class ({names[0] if names else 'none'}): there is nothing to "
            "tell apart",
            'give at least two classes, or use "task": "regression" for numbers',
        )


def _from_one_hot(rows: list[list[Any]]) -> list[int]:
    array = np.asarray(rows, dtype=np.float64)
    if array.ndim != 2 or not np.isin(array, (0, 1)).all() or not (array.sum(axis=1) == 1).all():
        raise refuse(
            "y",
            "y rows must be one-hot (a single 1 per row) when y holds lists",
            "give one label per row (a class name or index), or one-hot rows",
        )
    return [int(i) for i in array.argmax(axis=1)]


def _is_number(text: Any) -> bool:
    try:
        return math.isfinite(float(text))
    except (TypeError, ValueError, OverflowError):  # 10**400 too
        return False


def _is_integral(label: Any) -> bool:
    if isinstance(label, bool):
        return False
    if isinstance(label, int):
        return True
    return isinstance(label, float) and label.is_integer()
