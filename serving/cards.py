"""A model card: everything prediction needs to know about a trained model, besides its weights.

``services.trained_models.card`` fills one from the model's database row; this module knows what
the card means for serving (how the input is scaled, which background images are drawn on).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings
from serving.images import Background
from serving.inputs import ModelInput
from training.builtin_datasets import DATASETS

# divide_by_255: what training.preprocessing.scale_pixels does; none: uploaded features as is.
SCALINGS = frozenset({"divide_by_255", "none"})


@dataclass(frozen=True)
class ModelCard:
    """Everything prediction needs to know about a trained model, besides its weights."""

    id: str
    task: str
    class_names: tuple[str, ...]
    input: ModelInput
    scaling: str
    onnx_path: Path
    owner: str = "local"


def make_card(
    *,
    id: str,
    task: str,
    class_names: Sequence[str],
    input_shape: Sequence[int],
    dataset: str,
    scaling: str,
    onnx_path: Path,
    owner: str,
    settings: Settings,
) -> ModelCard:
    """The card of a model trained on ``dataset``, with the server's image limits."""
    return ModelCard(
        id=id,
        task=task,
        class_names=tuple(class_names),
        input=ModelInput(
            tuple(input_shape),
            background(dataset),
            settings.max_image_pixels,
            settings.max_request_pixels,
            images=scaling != "none",
            decode_slots=settings.max_concurrent_image_decodes,
        ),
        scaling=scaling,
        onnx_path=onnx_path,
        owner=owner,
    )


def background(dataset: str) -> Background:
    """ "dark" for a built-in data set drawn light on black (an uploaded image with a light
    background is then inverted); "any" otherwise."""
    info = DATASETS.get(dataset)
    return "dark" if info is not None and info.background == "dark" else "any"
