"""The fit loop's options on slices of real data: seeds, train/validation/test, early stopping,
the binary and regression tasks, the lesson's two-point line, and an export of every layer."""

from functools import partial
from pathlib import Path

import numpy as np
import pytest

from core.settings import PROJECT_ROOT
from tests.factories import job_spec_model
from training.data_info import DataInfo
from training.spec import JobSpec
from training.user_data import UserData, save

pytest.importorskip("keras")

from training.keras.export import export_model  # noqa: E402
from training.keras.fit import train  # noqa: E402
from training.keras.weights import weights_as_lists  # noqa: E402

DATA = PROJECT_ROOT / "data"
mnist_spec = partial(
    job_spec_model, limit=600, validation=0.2, units=32, dropout=0.3, epochs=2, batch_size=32,
    seed=3,
)  # fmt: skip


def history(result) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in result.history]


def quiet(*_: object) -> None:
    pass


def test_the_same_spec_and_seed_give_an_identical_history():
    first = train(mnist_spec(), DATA, quiet)
    second = train(mnist_spec(), DATA, quiet)
    assert history(first) == history(second)  # bit for bit: split, shuffle, dropout, init
    other = train(mnist_spec(seed=4), DATA, quiet)
    assert history(other) != history(first)


def test_validation_from_train_leaves_the_test_split_for_one_final_score():
    held_out = train(mnist_spec(epochs=1), DATA, quiet).final_metrics
    assert {"test_loss", "test_accuracy"} <= set(held_out)
    assert 0.2 < held_out["test_accuracy"] <= 1  # ten classes: chance is 0.1
    on_test = train(
        mnist_spec(epochs=1, validation="test"),
        DATA,
        quiet,
    ).final_metrics
    assert "test_loss" not in on_test


def test_early_stopping_stops_and_restores_the_best_epoch():
    # Improvement must beat a min_delta no loss can: training stops after the second epoch,
    # and the weights (and the final metrics) are the first epoch's.
    stop = {"monitor": "loss", "patience": 0, "min_delta": 100, "restore_best_weights": True}
    result = train(mnist_spec(epochs=10, early_stopping=stop), DATA, quiet)
    assert [row["epoch"] for row in result.history] == [0, 1, 2]
    assert result.final_metrics["stopped_epoch"] == 2
    assert result.final_metrics["restored_epoch"] == 1
    assert result.final_metrics["loss"] == result.history[1]["loss"]


def test_reduce_on_plateau_lowers_the_learning_rate():
    plateau = {"monitor": "loss", "patience": 0, "min_delta": 100, "factor": 0.5}
    result = train(mnist_spec(epochs=3, reduce_on_plateau=plateau), DATA, quiet)
    rates = [row["learning_rate"] for row in result.history]
    assert rates[0] == pytest.approx(0.001) and rates[-1] < rates[0]


def test_is_it_a_seven_learns_a_binary_answer():
    spec = mnist_spec(limit=2000, positive_classes=["7"], preset="dense", epochs=2)
    result = train(spec, DATA, quiet)
    untrained, last = result.history[0], result.history[-1]
    assert result.resolution.targets.class_names == ("not 7", "7")
    assert last["val_loss"] < untrained["val_loss"]
    assert last["val_accuracy"] > 0.95  # 9 in 10 digits are not a 7: this beats always "no"


def line(tmp_path: Path) -> UserData:
    path = tmp_path / "line.npz"
    save(path, np.array([[1.0], [2.0]], dtype=np.float32), np.array([[3.0], [5.0]], np.float32))
    info = DataInfo(name="line", task="regression", input_shape=(1,), train_size=2, target_size=1)
    return UserData(info, path)


def test_two_points_of_y_equals_mx_plus_b_give_m_2_and_b_1(tmp_path: Path):
    spec = JobSpec.model_validate(
        {
            "dataset": {"name": "line"},
            "model": {"layers": [{"type": "dense", "units": 1, "activation": "linear"}]},
            "loss": "mse",
            "optimizer": {"name": "sgd", "learning_rate": 0.1, "momentum": 0.8},
            "epochs": 100,
        }
    )
    result = train(spec, DATA, quiet, user_data=line(tmp_path))
    assert result.history[0]["epoch"] == 0 and len(result.history) == 101
    assert result.history[-1]["loss"] < 1e-4 < result.history[0]["loss"]
    (dense,) = weights_as_lists(result.model, result.resolution)["layers"]
    (m,), b = dense["weights"]["kernel"][0], dense["weights"]["bias"][0]
    assert (m, b) == (pytest.approx(2, abs=0.02), pytest.approx(1, abs=0.03))


def test_every_layer_and_activation_exports_to_onnx(tmp_path: Path):
    activations = ["linear", "relu", "sigmoid", "tanh", "elu", "selu", "gelu", "swish",
                   "softplus", "leaky_relu"]  # fmt: skip
    layers = [
        {"type": "conv2d", "filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"},
        {"type": "batch_norm"},
        {"type": "activation", "activation": "gelu"},
        {"type": "max_pool2d", "padding": "same"},
        {"type": "avg_pool2d", "pool_size": [2, 1]},
        {"type": "conv2d", "filters": 4, "kernel_size": 1, "activation": "leaky_relu"},
        {"type": "global_avg_pool2d"},
        {"type": "reshape", "target_shape": [2, 2]},
        {"type": "flatten"},
        *({"type": "dense", "units": 8, "activation": a} for a in activations),
        {"type": "dropout", "rate": 0.1},
        {"type": "dense", "units": 10, "activation": "softmax"},
    ]
    spec = mnist_spec(
        epochs=1, model={"layers": layers}, augmentation={"rotation": 10, "zoom": 0.1}
    )
    result = train(spec, DATA, quiet)
    exported = export_model(result.model, result.sample, tmp_path)
    assert exported.max_abs_diff <= 1e-5
