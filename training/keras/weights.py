"""A trained model's weights as nested lists, by the spec's layer index (small models only)."""

from __future__ import annotations

from typing import Any

import keras

from training.keras.builders import layer_name
from training.resolve import Resolution


def weights_as_lists(model: keras.Model, resolution: Resolution) -> dict[str, Any]:
    """``{"total_params", "layers": [{"index", "type", "weights": {"kernel": [[...]], ...}}]}``."""
    rows = []
    for index, layer in enumerate(resolution.spec.model.layers or []):
        built = model.get_layer(layer_name(index, layer))
        arrays = {
            variable.name: keras.ops.convert_to_numpy(variable).tolist()
            for variable in built.weights
        }
        rows.append({"index": index, "type": layer.type, "weights": arrays})
    return {"total_params": resolution.total_params, "layers": rows}
