"""An answer says how the numbers sent were read, and a scale that cannot apply is refused."""

from pathlib import Path

import numpy as np
import pytest

from serving import answers
from serving.cards import ModelCard
from serving.errors import InputError
from serving.inputs import ModelInput
from serving.sessions import OnnxModel, ServedModel
from tests.serving.onnx_models import INPUT_SHAPE, classifier

NAMES = tuple(str(digit) for digit in range(10))


def served(tmp_path: Path, *, images: bool) -> ServedModel:
    path = classifier(tmp_path / "c.onnx")
    scaling = "divide_by_255" if images else "none"
    card = ModelCard(
        "m", "classification", NAMES, ModelInput(INPUT_SHAPE, images=images), scaling, path
    )
    return ServedModel(card, OnnxModel(path))


def ask(model: ServedModel, instances: list, scale: str | None) -> dict:
    return answers.from_instances(model, instances, limit=10, top_k=None, scale=scale)


def test_the_answer_says_the_scale_the_values_were_read_on(tmp_path: Path):
    model = served(tmp_path, images=True)
    pixels = np.arange(784).reshape(1, 784) % 256
    assert ask(model, pixels.tolist(), None)["scale"] == "pixels"
    assert ask(model, (pixels / 255).tolist(), None)["scale"] == "unit"
    assert ask(model, (pixels / 255).tolist(), "pixels")["scale"] == "pixels"


def test_features_of_an_uploaded_table_go_in_as_they_are_and_take_no_pixel_scale(tmp_path):
    model = served(tmp_path, images=False)
    features = [[-2.5] * 784]
    assert ask(model, features, None)["scale"] == "raw"
    assert ask(model, features, "auto")["scale"] == "raw"
    with pytest.raises(InputError, match="uploaded table of features") as caught:
        ask(model, features, "unit")
    assert 'leave out "scale"' in caught.value.fix
