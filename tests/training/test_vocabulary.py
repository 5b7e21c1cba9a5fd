"""Every word of the spec's vocabulary builds and trains one step on a small slice.

One table row per activation, loss, metric, optimizer, schedule, training option, layer,
initializer, regularizer, augmentation and task. Each row is resolved, built with the real
builders, trained for one step on 64 rows (eagerly: the graph tracing would cost a second per
row) and its parameter counts are checked against Keras' own.
"""

import json

import numpy as np
import pytest

from core.settings import PROJECT_ROOT
from training import builtin_datasets
from training.data_info import DataInfo, builtin_info
from training.layer_specs import INITIALIZERS
from training.layers import LAYER_TYPES
from training.optimizer_specs import OPTIMIZERS, SCHEDULES
from training.resolve import resolve
from training.spec import JobSpec
from training.vocabulary import ACTIVATIONS, LOSSES, METRICS, TASKS

keras = pytest.importorskip("keras")

from training.keras.augmentation import with_augmentation  # noqa: E402
from training.keras.builders import build_model, compile_model, layer_name  # noqa: E402
from training.keras.option_callbacks import option_callbacks  # noqa: E402
from training.keras.reproducibility import seed_everything  # noqa: E402
from training.prepare import encode_labels  # noqa: E402

ROWS = 64
MNIST = builtin_info("mnist")
NUMBERS = DataInfo(
    name="numbers", task="regression", input_shape=(4,), train_size=ROWS, target_size=2
)
PAIRS = DataInfo(
    name="pairs", task="classification", input_shape=(4,), train_size=ROWS, class_names=("a", "b")
)
FLATTEN = {"type": "flatten"}
OUT = {"type": "dense", "units": 10, "activation": "softmax"}


def hidden(**fields):
    """A small image model with one hidden dense layer carrying ``fields``."""
    return {"layers": [FLATTEN, {"type": "dense", "units": 8, **fields}, OUT]}


def image(*layers):
    return {"layers": [*layers, FLATTEN, OUT]}


def conv(**fields):
    return {"type": "conv2d", "filters": 2, "kernel_size": 3, **fields}


RATE = {
    "exponential_decay": {"decay_steps": 10, "decay_rate": 0.9},
    "cosine_decay": {"decay_steps": 10},
}

TABLE: list[tuple[str, dict, DataInfo]] = [
    *(
        (f"activation {a}", {"model": hidden(activation=a)}, MNIST)
        for a in ACTIVATIONS
        if a != "leaky_relu"
    ),
    (
        "activation leaky_relu",
        {"model": hidden(activation="leaky_relu", negative_slope=0.1)},
        MNIST,
    ),
    *((f"loss {loss} on classes", {"loss": loss, "model": hidden()}, MNIST) for loss in LOSSES[:4]),
    ("loss categorical_crossentropy", {"loss": "categorical_crossentropy"}, MNIST),
    ("loss sparse_categorical_crossentropy", {"loss": "sparse_categorical_crossentropy"}, MNIST),
    (
        "loss binary_crossentropy (is it a 7?)",
        {
            "dataset": {"name": "mnist", "positive_classes": ["7"], "validation": 0.25},
            "loss": "binary_crossentropy",
            "model": {"preset": "dense"},
        },
        MNIST,
    ),
    *(
        (f"loss {loss} on numbers", {"loss": loss}, NUMBERS)
        for loss in ("mse", "rmse", "mae", "huber")
    ),
    *((f"metric {m}", {"metrics": [m], "model": hidden()}, MNIST) for m in METRICS),
    ("metrics of a regression", {"metrics": ["mse", "rmse", "mae"]}, NUMBERS),
    ("task classification", {"task": "classification"}, MNIST),
    ("task binary on a two-class set", {"task": "binary"}, PAIRS),
    ("task regression", {"task": "regression"}, NUMBERS),
    ("optimizer sgd", {"optimizer": {"name": "sgd", "momentum": 0.9, "nesterov": True}}, MNIST),
    (
        "optimizer adam",
        {"optimizer": {"name": "adam", "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-6}},
        MNIST,
    ),
    ("optimizer adamw", {"optimizer": {"name": "adamw", "weight_decay": 0.01}}, MNIST),
    ("optimizer adagrad", {"optimizer": {"name": "adagrad", "learning_rate": 0.01}}, MNIST),
    ("optimizer rmsprop", {"optimizer": {"name": "rmsprop", "rho": 0.8, "momentum": 0.5}}, MNIST),
    ("optimizer nadam", {"optimizer": {"name": "nadam"}}, MNIST),
    ("clipnorm", {"optimizer": {"name": "sgd", "clipnorm": 1.0}}, MNIST),
    ("clipvalue", {"optimizer": {"name": "rmsprop", "clipvalue": 0.5}}, MNIST),
    *(
        (
            f"schedule {name}",
            {
                "optimizer": {
                    "learning_rate": {"schedule": name, "initial_learning_rate": 0.01, **args}
                }
            },
            MNIST,
        )
        for name, args in RATE.items()
    ),
    (
        "schedule piecewise_constant",
        {
            "optimizer": {
                "learning_rate": {
                    "schedule": "piecewise_constant",
                    "boundaries": [1],
                    "values": [0.01, 0.001],
                }
            }
        },
        MNIST,
    ),
    ("reduce_on_plateau", {"reduce_on_plateau": {"monitor": "val_loss", "patience": 0}}, MNIST),
    (
        "early_stopping",
        {"early_stopping": {"monitor": "val_accuracy", "restore_best_weights": True}},
        MNIST,
    ),
    ("no shuffle", {"shuffle": False}, MNIST),
    ("layer dense without bias", {"model": hidden(activation="relu", use_bias=False)}, MNIST),
    ("layer conv2d", {"model": image(conv(strides=2, padding="same", activation="relu"))}, MNIST),
    ("layer max_pool2d", {"model": image(conv(), {"type": "max_pool2d", "pool_size": 2})}, MNIST),
    (
        "layer avg_pool2d",
        {"model": image({"type": "avg_pool2d", "pool_size": [2, 3], "padding": "same"})},
        MNIST,
    ),
    ("layer global_avg_pool2d", {"model": image(conv(), {"type": "global_avg_pool2d"})}, MNIST),
    ("layer reshape", {"model": image({"type": "reshape", "target_shape": [14, 56, 1]})}, MNIST),
    ("layer dropout", {"model": image({"type": "dropout", "rate": 0.5})}, MNIST),
    ("layer gaussian_noise", {"model": image({"type": "gaussian_noise", "stddev": 0.1})}, MNIST),
    ("layer batch_norm", {"model": image(conv(), {"type": "batch_norm", "momentum": 0.9})}, MNIST),
    (
        "layer activation",
        {"model": image(conv(), {"type": "activation", "activation": "elu"})},
        MNIST,
    ),
    (
        "reshape flat rows into an image",
        {
            "model": {
                "layers": [
                    {"type": "reshape", "target_shape": [2, 2, 1]},
                    conv(kernel_size=2),
                    FLATTEN,
                    {"type": "dense", "units": 2},
                ]
            }
        },
        NUMBERS,
    ),
    *(
        (
            f"initializer {name}",
            {"model": hidden(kernel_initializer=name, bias_initializer=name)},
            MNIST,
        )
        for name in INITIALIZERS[:6]
    ),
    ("initializer orthogonal", {"model": hidden(kernel_initializer="orthogonal")}, MNIST),
    (
        "initializers zeros and ones",
        {"model": hidden(kernel_initializer="zeros", bias_initializer="ones")},
        MNIST,
    ),
    (
        "initializer constant",
        {"model": hidden(bias_initializer={"name": "constant", "value": 0.1})},
        MNIST,
    ),
    *(
        (
            f"initializer {name}",
            {"model": hidden(kernel_initializer={"name": name, "stddev": 0.1})},
            MNIST,
        )
        for name in ("random_normal", "truncated_normal")
    ),
    (
        "initializer random_uniform",
        {
            "model": hidden(
                kernel_initializer={"name": "random_uniform", "minval": -0.1, "maxval": 0.1}
            )
        },
        MNIST,
    ),
    ("regularizer l1", {"model": hidden(kernel_regularizer={"l1": 0.01})}, MNIST),
    (
        "regularizer l2",
        {"model": hidden(kernel_regularizer="l2", bias_regularizer={"l2": 0.1})},
        MNIST,
    ),
    ("regularizer l1_l2", {"model": image(conv(kernel_regularizer="l1_l2"))}, MNIST),
    ("augmentation rotation", {"augmentation": {"rotation": 15}}, MNIST),
    ("augmentation zoom", {"augmentation": {"zoom": 0.1}}, MNIST),
    ("augmentation translation", {"augmentation": {"translation": 0.1}}, MNIST),
    ("augmentation flip", {"augmentation": {"flip": "horizontal_and_vertical"}}, MNIST),
    ("preset dense", {"model": {"preset": "dense", "activation": "tanh"}}, MNIST),
    ("preset cnn", {"model": {"preset": "cnn"}}, MNIST),
]


@pytest.fixture(scope="module")
def slices() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    mnist = builtin_datasets.load("mnist", PROJECT_ROOT / "data", limit=ROWS)
    x = rng.normal(size=(ROWS, 4)).astype(np.float32)
    return {
        "mnist": (mnist.x_train, mnist.y_train),
        "numbers": (x, x[:, :2] * 2 + 1),
        "pairs": (x, (x[:, 0] > 0).astype(np.int64)),
    }


def spec_for(overrides: dict, data: DataInfo) -> JobSpec:
    if data is MNIST:
        default_model: dict = {
            "layers": [FLATTEN, {"type": "dense", "units": 8, "activation": "relu"}, OUT]
        }
    else:
        units, activation = (1, "sigmoid") if data is PAIRS else (2, "linear")
        default_model = {"layers": [{"type": "dense", "units": units, "activation": activation}]}
    body = {"dataset": {"name": data.name}, "model": default_model, "batch_size": ROWS}
    if data is MNIST:
        body["dataset"]["validation"] = 0.25
    return JobSpec.model_validate({**body, **overrides})


@pytest.mark.parametrize(
    ("overrides", "data"), [row[1:] for row in TABLE], ids=[row[0] for row in TABLE]
)
def test_each_word_builds_and_trains_one_step(overrides, data, slices):
    seed_everything(0)
    resolution = resolve(spec_for(overrides, data), data)
    x, labels = slices[data.name]
    y = labels if data.task == "regression" else encode_labels(resolution, labels)
    model = build_model(resolution)
    spec = resolution.spec
    trainer = with_augmentation(model, spec.augmentation, 0) if spec.augmentation else model
    compile_model(trainer, resolution, run_eagerly=True)
    history = trainer.fit(
        x,
        y,
        batch_size=ROWS,
        epochs=1,
        # Only the options that watch val_* need validation data; it costs an evaluation.
        validation_data=(x, y) if spec.early_stopping or spec.reduce_on_plateau else None,
        shuffle=spec.shuffle,
        callbacks=option_callbacks(spec),
        verbose=0,
    )
    assert np.isfinite(history.history["loss"][0])
    assert set(resolution.targets.metrics) <= set(history.history)
    for row, layer in zip(resolution.layers, spec.model.layers, strict=True):
        built = model.get_layer(layer_name(row.index, layer))
        assert built.count_params() == row.params, layer.type
        assert tuple(built.output.shape[1:]) == row.output_shape, layer.type


def test_the_table_covers_the_whole_vocabulary():
    used = json.dumps([row[1] for row in TABLE]) + json.dumps(
        [spec_for(row[1], row[2]).model_dump(mode="json") for row in TABLE]
    )
    vocabulary = {
        *ACTIVATIONS,
        *LOSSES,
        *METRICS,
        *TASKS,
        *OPTIMIZERS,
        *SCHEDULES,
        *LAYER_TYPES,
        *INITIALIZERS,
    }
    missing = sorted(word for word in vocabulary if f'"{word}"' not in used)
    assert missing == []
