"""Run a batch through a model and say what each answer means for the model's task.

- ``classification`` (softmax over the classes): ``label``, ``class_index`` and every class's
  probability, or only the ``top_k`` most likely classes when asked;
- ``binary`` (one sigmoid unit, the probability of the second class): the same, with the two
  classes' probabilities ``[1 - p, p]``;
- ``regression``: the model's output as ``value`` (a number, or a list for several outputs).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from serving.cards import ModelCard
from serving.errors import InputError
from serving.sessions import ServedModel

REGRESSION = "regression"
BINARY = "binary"


def check_top_k(card: ModelCard, top_k: int | None) -> None:
    if top_k is None:
        return
    if card.task == REGRESSION:
        raise InputError("top_k applies to classifiers; this model is a regression model")
    if not 1 <= top_k <= len(card.class_names):
        raise InputError(
            f"top_k is {top_k}; this model has {len(card.class_names)} classes, so top_k "
            f"must be 1 to {len(card.class_names)}"
        )


def predict(model: ServedModel, batch: np.ndarray, top_k: int | None = None) -> list[dict]:
    outputs = model.onnx.run(batch)
    card = model.card
    if card.task == REGRESSION:
        return regress(outputs)
    if card.task == BINARY and outputs.shape[1] == 1:
        positive = outputs[:, 0]
        outputs = np.ascontiguousarray(np.stack([1.0 - positive, positive], axis=1))
    return classify(outputs, card.class_names, top_k)


def classify(
    probabilities: np.ndarray, class_names: tuple[str, ...] | list[str], top_k: int | None = None
) -> list[dict[str, Any]]:
    """One answer per row; probabilities stay numpy rows (the API's JSON writer takes them)."""
    indices = probabilities.argmax(axis=1).tolist()
    if top_k is None:
        return [
            {"label": class_names[i], "class_index": i, "probabilities": row}
            for i, row in zip(indices, probabilities, strict=True)
        ]
    ranked = np.argsort(-probabilities, axis=1, kind="stable")[:, :top_k]
    return [
        {
            "label": class_names[i],
            "class_index": i,
            "top_k": [
                {"label": class_names[k], "class_index": k, "probability": row[k]}
                for k in order.tolist()
            ],
        }
        for i, row, order in zip(indices, probabilities, ranked, strict=True)
    ]


def regress(outputs: np.ndarray) -> list[dict[str, Any]]:
    if outputs.ndim == 2 and outputs.shape[1] == 1:
        return [{"value": value} for value in outputs[:, 0].tolist()]
    return [{"value": row} for row in outputs]
