"""The evaluation after training: its numbers agree with Keras' and with the history, and its
gallery shows the inputs as the model saw them."""

import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest

from core.settings import PROJECT_ROOT
from tests.factories import job_spec_model
from training.data_info import DataInfo
from training.user_data import UserData, save

pytest.importorskip("keras")

from PIL import Image  # noqa: E402

from training.keras.evaluation import (  # noqa: E402
    MAX_MISCLASSIFIED,
    evaluate,
    evaluate_result,
    weights_epoch,
)
from training.keras.fit import TrainResult, train  # noqa: E402

DATA = PROJECT_ROOT / "data"


def quiet(*_: object) -> None:
    pass


@pytest.fixture(scope="module")
def mnist() -> TrainResult:
    # Ten units and one epoch: a model that still gets plenty wrong, for the gallery.
    spec = job_spec_model(limit=600, validation=0.25, units=10, epochs=1, batch_size=32)
    return train(spec, DATA, quiet, health=False)


def test_the_confusion_matrix_sums_to_the_rows_and_its_diagonal_is_the_recorded_accuracy(
    mnist: TrainResult,
):
    evaluation = evaluate_result(mnist)
    assert evaluation is not None
    summary = evaluation.summary
    assert (summary["split"], summary["rows"], summary["epoch"]) == ("validation", 150, 1)
    assert (summary["task"], summary["class_names"]) == ("classification", list("0123456789"))
    matrix = np.array(summary["confusion"])
    assert matrix.shape == (10, 10) and matrix.sum() == 150
    assert summary["accuracy"] == np.trace(matrix) / 150
    assert summary["accuracy"] == pytest.approx(mnist.history[-1]["val_accuracy"], abs=1e-6)
    data = mnist.data
    assert data is not None
    scores = mnist.model.evaluate(data.x_val, data.y_val, verbose=0, return_dict=True)
    assert summary["accuracy"] == pytest.approx(scores["accuracy"], abs=1e-6)
    assert [row["support"] for row in summary["per_class"]] == matrix.sum(axis=1).tolist()
    seven = summary["per_class"][7]
    assert seven["recall"] == matrix[7, 7] / matrix[7].sum()
    assert seven["precision"] == matrix[7, 7] / matrix[:, 7].sum()
    assert summary["residuals"] is None


def test_the_gallery_holds_the_most_confident_mistakes_as_the_model_saw_them(
    mnist: TrainResult,
):
    evaluation = evaluate_result(mnist)
    assert evaluation is not None
    wrong = evaluation.summary["misclassified"]
    mistakes = 150 - np.trace(np.array(evaluation.summary["confusion"]))
    assert len(wrong) == min(MAX_MISCLASSIFIED, mistakes) == len(evaluation.images)
    assert [entry["index"] for entry in wrong] == list(range(len(wrong)))
    confidences = [entry["confidence"] for entry in wrong]
    assert confidences == sorted(confidences, reverse=True)
    data = mnist.data
    assert data is not None
    shown = []
    for entry, picture in zip(wrong, evaluation.images, strict=True):
        assert entry["true"] != entry["predicted"]
        assert entry["true"] == str(int(np.argmax(data.y_val[entry["row"]])))
        assert picture is not None
        image = Image.open(io.BytesIO(picture))
        assert (image.format, image.mode, image.size) == ("PNG", "L", (28, 28))
        shown.append(np.asarray(image, dtype=np.float32)[..., None] / 255)
        np.testing.assert_array_equal(shown[-1], data.x_val[entry["row"]])
    answers = mnist.model.predict(np.stack(shown), verbose=0)
    assert [str(i) for i in np.argmax(answers, axis=1)] == [e["predicted"] for e in wrong]
    assert answers.max(axis=1).tolist() == pytest.approx(confidences, rel=1e-5)


def test_without_validation_rows_the_test_split_is_evaluated(mnist: TrainResult):
    assert mnist.data is not None
    no_validation = dataclasses.replace(mnist.data, x_val=None, y_val=None)
    evaluation = evaluate_result(dataclasses.replace(mnist, data=no_validation))
    assert evaluation is not None
    assert (evaluation.summary["split"], evaluation.summary["rows"]) == ("test", 10_000)
    assert np.array(evaluation.summary["confusion"]).sum() == 10_000
    neither = dataclasses.replace(no_validation, x_test=None, y_test=None)
    assert evaluate_result(dataclasses.replace(mnist, data=neither)) is None


def test_the_epoch_is_the_one_early_stopping_restored(mnist: TrainResult):
    history = [{"epoch": e} for e in range(6)]
    restored = dataclasses.replace(mnist, history=history, final_metrics={"restored_epoch": 3.0})
    assert weights_epoch(restored) == 3
    assert weights_epoch(dataclasses.replace(mnist, history=history, final_metrics={})) == 5


def test_a_binary_model_is_scored_with_kerass_threshold():
    spec = job_spec_model(
        limit=400, validation=0.25, units=8, epochs=1, classes=1, output="sigmoid",
        positive_classes=["7"], loss="binary_crossentropy",
    )  # fmt: skip
    result = train(spec, DATA, quiet, health=False)
    evaluation = evaluate_result(result)
    assert evaluation is not None
    summary = evaluation.summary
    assert (summary["task"], summary["class_names"]) == ("binary", ["not 7", "7"])
    assert np.array(summary["confusion"]).sum() == 100
    assert summary["accuracy"] == pytest.approx(result.history[-1]["val_accuracy"], abs=1e-6)
    assert all(0.5 <= entry["confidence"] <= 1 for entry in summary["misclassified"])


def test_a_regression_model_gets_its_residuals(tmp_path: Path):
    x = np.linspace(-1, 1, 40, dtype=np.float32).reshape(-1, 1)
    y = (2 * x + 1).astype(np.float32)
    path = tmp_path / "line.npz"
    save(path, x, y)
    info = DataInfo(name="line", task="regression", input_shape=(1,), train_size=40, target_size=1)
    spec = job_spec_model(
        dataset="line", limit=None, validation=0.25, loss="mse", epochs=1,
        model={"layers": [{"type": "dense", "units": 1}]},
    )  # fmt: skip
    result = train(spec, DATA, quiet, user_data=UserData(info, path), health=False)
    evaluation = evaluate_result(result)
    assert evaluation is not None
    summary = evaluation.summary
    assert (summary["task"], summary["class_names"], summary["rows"]) == ("regression", [], 10)
    assert summary["confusion"] is summary["accuracy"] is summary["per_class"] is None
    assert summary["misclassified"] == [] and evaluation.images == []
    data = result.data
    assert data is not None and data.x_val is not None and data.y_val is not None
    diff = (result.model.predict(data.x_val, verbose=0) - data.y_val).ravel()
    residuals = summary["residuals"]
    assert residuals["count"] == 10
    assert residuals["mean"] == pytest.approx(float(diff.mean()), rel=1e-5)
    assert residuals["rmse"] == pytest.approx(float(np.sqrt(np.mean(diff**2))), rel=1e-5)
    assert residuals["max_abs"] == pytest.approx(float(np.abs(diff).max()), rel=1e-5)
    assert residuals["rmse"] == pytest.approx(result.history[-1]["val_loss"] ** 0.5, rel=1e-4)
    assert residuals["p50_abs"] <= residuals["p90_abs"] <= residuals["max_abs"]
    direct = evaluate(
        result.model, data.x_val, data.y_val, result.resolution, split="validation", epoch=1
    )
    assert direct.summary == summary
