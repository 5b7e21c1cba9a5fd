"""Turn an upload (a JSON body or a CSV file) into checked arrays, or say what is wrong.

Rows become float32 features; labels become class indices (classification) or numbers
(regression). Every refusal names the field, what was found and how to fix it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import InvalidInput
from training.builtin_datasets import DATASETS

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


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
        "x": [list(upload.x.shape), hashlib.sha256(upload.x.tobytes()).hexdigest()],
        "y": [list(upload.y.shape), hashlib.sha256(upload.y.tobytes()).hexdigest()],
    }


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
    if name in DATASETS:
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


def from_csv(name: str, task: str, text: str, target: str | None) -> Upload:
    """A CSV upload with a header row; ``target`` names the label column (default the last)."""
    check_name(name)
    rows = [row for row in csv.reader(io.StringIO(text)) if row]
    if len(rows) < 2:
        raise refuse("file", "the CSV needs a header row and at least one data row", "add them")
    header = [cell.strip() for cell in rows[0]]
    if all(_is_number(cell) for cell in header):
        raise refuse(
            "file",
            "the first row holds numbers, but it must name the columns",
            "add a header row such as x,y",
            found=rows[0],
        )
    column = target if target is not None else header[-1]
    if column not in header:
        raise refuse(
            "target",
            f"{column!r} is not a column of the CSV",
            f"name one of {header}",
            found=column,
        )
    at = header.index(column)
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise refuse(
                "file",
                f"line {number} has {len(row)} cells, the header {len(header)}",
                "give every row one cell per column",
            )
    features = [[row[i] for i in range(len(header)) if i != at] for row in rows[1:]]
    labels = [row[at].strip() for row in rows[1:]]
    names = [cell for i, cell in enumerate(header) if i != at]
    if not names:
        raise refuse("file", "the CSV has no feature column besides the target", "add one")
    for i, cell in ((i, cell) for row in features for i, cell in enumerate(row)):
        if not _is_number(cell):
            raise refuse(
                "file",
                f"column {names[i]!r} holds {cell!r}, which is not a number",
                "features must be numbers; encode categories as numbers first",
            )
    x = np.asarray(features, dtype=np.float64)
    if task == "regression":
        if not all(_is_number(label) for label in labels):
            raise refuse(
                "target",
                f"column {column!r} holds text, but a regression predicts numbers",
                'use "task": "classification", or choose a numeric target column',
            )
        y: Any = [float(label) for label in labels]
    elif all(_is_number(label) and float(label).is_integer() for label in labels):
        y = [int(float(label)) for label in labels]  # class numbers, ordered as numbers
    else:
        y = labels
    upload = from_rows(name, task, x, y)
    return Upload(**{**upload.__dict__, "feature_names": names})


def _features(x: Any) -> np.ndarray:
    try:
        array = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
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
    if not np.isfinite(array).all():
        raise refuse("x", "x holds NaN or infinite values", "replace them with numbers")
    return array.astype(np.float32)


def _numbers(y: Any) -> np.ndarray:
    try:
        array = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
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
    if len(set(names)) < 2:
        raise refuse(
            "y",
            f"y holds a single class ({names[0] if names else 'none'}): there is nothing to "
            "tell apart",
            'give at least two classes, or use "task": "regression" for numbers',
        )
    return indices, names


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
    except (TypeError, ValueError):
        return False


def _is_integral(label: Any) -> bool:
    if isinstance(label, bool):
        return False
    if isinstance(label, int):
        return True
    return isinstance(label, float) and label.is_integer()
