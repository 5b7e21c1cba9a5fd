"""Run a batch through a model and name the answers with the model's class names."""

from __future__ import annotations

from typing import Any

import numpy as np

from serving.sessions import OnnxModel


def classify(model: OnnxModel, batch: np.ndarray, class_names: list[str]) -> list[dict[str, Any]]:
    probabilities = model.run(batch)
    indices = np.argmax(probabilities, axis=1)
    return [
        {"label": class_names[i], "class_index": int(i), "probabilities": row.tolist()}
        for i, row in zip(indices, probabilities, strict=True)
    ]
