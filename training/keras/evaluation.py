"""Where a trained model is wrong: scored once after the fit on the validation rows (else the
held-out test rows) with the weights it keeps.

For classification (and binary) models: the confusion matrix (``confusion[true][predicted]``),
precision, recall, F1 and support per class, and the ``MAX_MISCLASSIFIED`` most confidently
misclassified rows, each with its input rendered as a PNG when the input is an image. Predicted
classes are decided as Keras' accuracy decides them (the largest output; a sigmoid output above
0.5), so the matrix's diagonal over its total is the accuracy the history recorded for the
epoch whose weights the model holds. For regression: a summary of the residuals.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
from PIL import Image

from training.resolve import Resolution

if TYPE_CHECKING:
    from training.keras.fit import TrainResult

MAX_MISCLASSIFIED = 36
BATCH_SIZE = 1024


@dataclass
class Evaluation:
    """The evaluation's JSON (``summary``) and one PNG per misclassified entry (or None when
    the input is not an image): the caller stores them and records where (``image_key``)."""

    summary: dict[str, Any]
    images: list[bytes | None] = field(default_factory=list)


def evaluate_result(result: TrainResult) -> Evaluation | None:
    """The trained model on its job's validation rows, else its test rows; None with neither."""
    data, resolution = result.data, result.resolution
    if data is None or resolution is None:
        return None
    if data.x_val is not None and data.y_val is not None:
        split, x, y = "validation", data.x_val, data.y_val
    elif data.x_test is not None and data.y_test is not None:
        split, x, y = "test", data.x_test, data.y_test
    else:
        return None
    return evaluate(result.model, x, y, resolution, split=split, epoch=weights_epoch(result))


def weights_epoch(result: TrainResult) -> int | None:
    """The epoch whose weights the model holds: the restored one when early stopping restored
    the best weights, else the last one trained."""
    restored = result.final_metrics.get("restored_epoch")
    if restored is not None:
        return int(restored)
    return int(result.history[-1]["epoch"]) if result.history else None


def evaluate(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    resolution: Resolution,
    *,
    split: str,
    epoch: int | None,
) -> Evaluation:
    targets = resolution.targets
    outputs = np.asarray(model.predict(x, batch_size=BATCH_SIZE, verbose=0), dtype=np.float64)
    summary: dict[str, Any] = {
        "epoch": epoch,
        "split": split,
        "rows": len(x),
        "task": targets.task,
        "class_names": list(targets.class_names),
        "accuracy": None,
        "confusion": None,
        "per_class": None,
        "misclassified": [],
        "residuals": None,
    }
    if targets.task == "regression":
        summary["residuals"] = residuals(outputs, np.asarray(y, dtype=np.float64))
        return Evaluation(summary)
    truth, predicted, confidence = _classes(outputs, y, targets.label_encoding)
    names = list(targets.class_names)
    matrix = confusion(truth, predicted, len(names))
    summary["confusion"] = matrix.tolist()
    summary["accuracy"] = float(np.trace(matrix) / max(len(x), 1))
    summary["per_class"] = per_class(matrix, names)
    wrong = np.flatnonzero(truth != predicted)
    chosen = wrong[np.argsort(-confidence[wrong], kind="stable")][:MAX_MISCLASSIFIED]
    summary["misclassified"] = [
        {
            "index": index,
            "row": int(row),
            "true": names[truth[row]],
            "predicted": names[predicted[row]],
            "confidence": float(confidence[row]),
        }
        for index, row in enumerate(chosen)
    ]
    images = [png(x[row], resolution.data.scaling) for row in chosen]
    return Evaluation(summary, images)


def _classes(
    outputs: np.ndarray, y: np.ndarray, encoding: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True and predicted class indices and the predicted class's output, per row."""
    if encoding == "binary":
        yes = outputs.reshape(len(outputs), -1)[:, 0]
        predicted = (yes > 0.5).astype(np.int64)  # keras.metrics.BinaryAccuracy's threshold
        truth = (np.asarray(y).reshape(len(y), -1)[:, 0] > 0.5).astype(np.int64)
        return truth, predicted, np.where(predicted == 1, yes, 1.0 - yes)
    predicted = np.argmax(outputs, axis=-1)
    truth = np.argmax(y, axis=-1) if encoding == "one_hot" else np.asarray(y).astype(np.int64)
    return truth.reshape(-1), predicted, outputs[np.arange(len(outputs)), predicted]


def confusion(truth: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """``matrix[t][p]``: how many rows of class ``t`` were predicted ``p``."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (truth, predicted), 1)
    return matrix


def per_class(matrix: np.ndarray, names: list[str]) -> list[dict[str, Any]]:
    """Precision, recall and F1 per class (0 where a denominator is 0), and its support."""
    scores = []
    for i, name in enumerate(names):
        hits, predicted, support = int(matrix[i, i]), int(matrix[:, i].sum()), int(matrix[i].sum())
        precision = hits / predicted if predicted else 0.0
        recall = hits / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(
            {"class": name, "precision": precision, "recall": recall, "f1": f1, "support": support}
        )
    return scores


def residuals(outputs: np.ndarray, y: np.ndarray) -> dict[str, float | int]:
    """Predicted minus true, over every row and output."""
    diff = (outputs.reshape(len(outputs), -1) - y.reshape(len(y), -1)).ravel()
    absolute = np.abs(diff)
    if not len(diff):
        return {"count": 0}
    return {
        "count": int(diff.size),
        "mean": float(diff.mean()),
        "std": float(diff.std()),
        "mae": float(absolute.mean()),
        "rmse": float(np.sqrt(np.mean(diff**2))),
        "max_abs": float(absolute.max()),
        "p50_abs": float(np.percentile(absolute, 50)),
        "p90_abs": float(np.percentile(absolute, 90)),
    }


def png(row: np.ndarray, scaling: str) -> bytes | None:
    """The input as the model saw it, in 0-255 grey or RGB; None when it is not an image of
    0-1 pixels (a table's features, or an image given unscaled)."""
    if scaling != "divide_by_255" or row.ndim != 3 or row.shape[-1] not in (1, 3):
        return None
    pixels = np.clip(np.rint(np.asarray(row, dtype=np.float64) * 255), 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
