"""The words a job spec may use: activations, losses, metrics, tasks. Imports no TensorFlow.

Each set is a named ``Literal`` (so the OpenAPI schema holds it once, as an enum that generated
clients turn into one type, while validation and its messages stay pydantic's ``literal_error``)
and a tuple of the same values (so checks and messages can name them).
"""

from __future__ import annotations

from typing import Literal, get_args

from typing_extensions import TypeAliasType

Activation = TypeAliasType(
    "Activation",
    Literal[
        "linear",
        "relu",
        "sigmoid",
        "tanh",
        "softmax",
        "elu",
        "selu",
        "gelu",
        "swish",
        "softplus",
        "leaky_relu",
    ],
)
Loss = TypeAliasType(
    "Loss",
    Literal[
        "mse",
        "rmse",
        "mae",
        "huber",
        "binary_crossentropy",
        "categorical_crossentropy",
        "sparse_categorical_crossentropy",
    ],
)
Metric = TypeAliasType("Metric", Literal["accuracy", "mse", "rmse", "mae"])
Task = TypeAliasType("Task", Literal["classification", "binary", "regression"])
LabelEncoding = TypeAliasType("LabelEncoding", Literal["one_hot", "integer", "binary", "values"])

ACTIVATIONS: tuple[str, ...] = get_args(Activation.__value__)
LOSSES: tuple[str, ...] = get_args(Loss.__value__)
METRICS: tuple[str, ...] = get_args(Metric.__value__)
TASKS: tuple[str, ...] = get_args(Task.__value__)

# Keras' default slope for ``leaky_relu`` (keras.activations.leaky_relu).
DEFAULT_NEGATIVE_SLOPE = 0.2

REGRESSION_LOSSES = ("mse", "rmse", "mae", "huber")
CROSSENTROPY_LOSSES = ("categorical_crossentropy", "sparse_categorical_crossentropy")
REGRESSION_METRICS = ("mse", "rmse", "mae")

# The losses each task can train with.
TASK_LOSSES: dict[str, tuple[str, ...]] = {
    "classification": (*CROSSENTROPY_LOSSES, *REGRESSION_LOSSES),
    "binary": ("binary_crossentropy", *REGRESSION_LOSSES),
    "regression": REGRESSION_LOSSES,
}
DEFAULT_LOSS: dict[str, str] = {
    "classification": "categorical_crossentropy",
    "binary": "binary_crossentropy",
    "regression": "mse",
}
# Activations whose outputs are probabilities (they saturate, and sum or squash to [0, 1]).
PROBABILITY_ACTIVATIONS = ("softmax", "sigmoid")


def quoted(values: tuple[str, ...] | list[str]) -> str:
    """('a', 'b', 'c') -> "'a', 'b' or 'c'", as pydantic lists allowed values."""
    items = [f"'{v}'" for v in values]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" or {items[-1]}"
