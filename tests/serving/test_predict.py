"""What an answer holds for each task: labels and probabilities, the top k, or a value."""

from pathlib import Path

import numpy as np
import pytest

from serving.cards import ModelCard
from serving.errors import InputError
from serving.inputs import ModelInput
from serving.predict import check_top_k, classify, predict
from serving.sessions import OnnxModel, ServedModel
from tests.serving.onnx_models import INPUT_SHAPE, binary, classifier, regression

PROBABILITIES = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]], dtype=np.float32)
NAMES = ("A", "B", "C")


def served(path: Path, task: str, names: tuple[str, ...]) -> ServedModel:
    card = ModelCard("m", task, names, ModelInput(INPUT_SHAPE), "divide_by_255", path)
    return ServedModel(card, OnnxModel(path))


def test_a_classifier_names_each_answer_and_gives_every_probability():
    answers = classify(PROBABILITIES, NAMES)
    assert [(a["label"], a["class_index"]) for a in answers] == [("B", 1), ("A", 0)]
    np.testing.assert_array_equal(answers[0]["probabilities"], PROBABILITIES[0])


def test_top_k_gives_the_most_likely_classes_first():
    answers = classify(PROBABILITIES, NAMES, top_k=2)
    assert answers[1]["label"] == "A"
    assert [(s["label"], s["class_index"]) for s in answers[1]["top_k"]] == [("A", 0), ("C", 2)]
    assert [s["probability"] for s in answers[1]["top_k"]] == pytest.approx([0.5, 0.3])
    assert "probabilities" not in answers[1]


def test_top_k_must_fit_the_classes(tmp_path: Path):
    model = served(classifier(tmp_path / "c.onnx", classes=3), "classification", NAMES)
    check_top_k(model.card, 3)
    with pytest.raises(InputError, match="must be 1 to 3"):
        check_top_k(model.card, 4)


def test_a_binary_model_gives_both_classes_probabilities(tmp_path: Path):
    model = served(binary(tmp_path / "b.onnx"), "binary", ("no", "yes"))
    batch = np.random.default_rng(0).random((5, *INPUT_SHAPE), np.float32)
    positive = model.onnx.run(batch)[:, 0]
    answers = predict(model, batch)
    for answer, p in zip(answers, positive, strict=True):
        assert answer["label"] == ("yes" if p > 0.5 else "no")
        np.testing.assert_allclose(answer["probabilities"], [1 - p, p], rtol=1e-6)


def test_a_regression_model_gives_values(tmp_path: Path):
    batch = np.random.default_rng(0).random((4, *INPUT_SHAPE), np.float32)
    one = served(regression(tmp_path / "r1.onnx"), "regression", ())
    values = [answer["value"] for answer in predict(one, batch)]
    np.testing.assert_allclose(values, one.onnx.run(batch)[:, 0], rtol=1e-6)
    assert all(set(answer) == {"value"} for answer in predict(one, batch))
    two = served(regression(tmp_path / "r2.onnx", outputs=2), "regression", ())
    assert len(predict(two, batch)[0]["value"]) == 2
    with pytest.raises(InputError, match="regression"):
        check_top_k(two.card, 1)
