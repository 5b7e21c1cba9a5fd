"""Warnings for specs that are legal but known to train badly. The job still runs.

Each is a lesson the spec is about to teach the hard way: probabilities trained with a
regression loss ("RMSE for probabilities?"), many sigmoid layers (vanishing gradients), a
learning rate that diverges, stacked layers without a nonlinearity, bounded regression outputs,
mirrored digits. A warning about one layer alone is its kind's (``Layer.advise``).

Each warning's ``code`` is the diagnosis (training/diagnoses.py) the spec is heading for, so the
form's warning and the finished job's diagnosis use one word: many sigmoids ->
``vanishing_gradients``, too high a rate -> ``diverged``, probabilities with a regression loss ->
``not_learning``, stacked linear layers, out-of-reach outputs and wrong examples ->
``underfitting``.
"""

from __future__ import annotations

from typing import Any

from training.data_info import DataInfo
from training.layers import ActivationLayer
from training.optimizer_specs import peak_rate
from training.problems import SpecWarning
from training.spec import JobSpec
from training.targets import Targets, is_regression_loss
from training.vocabulary import PROBABILITY_ACTIVATIONS

MANY_SIGMOID_LAYERS = 3
SGD_RATE_LIMIT = 1.0
ADAPTIVE_RATE_LIMIT = 0.1
OUTPUT_RANGES = {"sigmoid": "(0, 1)", "tanh": "(-1, 1)", "relu": "[0, ∞)", "softplus": "(0, ∞)"}


def advise(spec: JobSpec, data: DataInfo, targets: Targets) -> list[SpecWarning]:
    layers: list[Any] = list(spec.model.layers or [])
    found = [
        *_probabilities_with_regression_loss(layers, targets),
        *_many_sigmoids(layers),
        *_stacked_linear(layers),
        *_bounded_regression(layers, targets),
        *_learning_rate(spec),
        *_mirrored_symbols(spec, data),
        *(w for i, layer in enumerate(layers) for w in layer.advise(f"model.layers[{i}]")),
    ]
    return found


def _probabilities_with_regression_loss(layers: list[Any], targets: Targets) -> list[SpecWarning]:
    last = layers[-1]
    if targets.task == "regression" or not is_regression_loss(targets.loss):
        return []
    if last.activation not in PROBABILITY_ACTIVATIONS:
        return []
    better = "binary_crossentropy" if targets.task == "binary" else "categorical_crossentropy"
    return [
        SpecWarning(
            code="not_learning",
            field="loss",
            message=f"{last.activation} outputs are probabilities, and {targets.loss} on "
            f"probabilities learns slowly: its gradient shrinks as {last.activation} saturates, "
            f"so a confident wrong answer is barely corrected. {better} punishes it in "
            f'proportion to how wrong it is; prefer it (the lesson\'s "RMSE for probabilities?")',
        )
    ]


def _hidden(layers: list[Any]) -> list[tuple[int, Any]]:
    # The hidden layers with an activation function (dense, conv2d, activation).
    return [(i, layer) for i, layer in enumerate(layers[:-1]) if hasattr(layer, "activation")]


def _many_sigmoids(layers: list[Any]) -> list[SpecWarning]:
    sigmoid = [i for i, layer in _hidden(layers) if layer.activation == "sigmoid"]
    if len(sigmoid) < MANY_SIGMOID_LAYERS:
        return []
    return [
        SpecWarning(
            code="vanishing_gradients",
            field="model.layers",
            message=f"{len(sigmoid)} hidden layers ({', '.join(map(str, sigmoid))}) use sigmoid, "
            "whose slope is at most 0.25: the gradient shrinks at every such layer on its way "
            "back, so the first layers barely learn (vanishing gradients). relu (with "
            "he_normal initial weights) keeps it alive",
        )
    ]


def _stacked_linear(layers: list[Any]) -> list[SpecWarning]:
    weighted = [layer for layer in layers if layer.weighted]
    hidden = _hidden(layers)
    if len(weighted) < 2 or any(layer.activation != "linear" for _, layer in hidden):
        return []
    if any(isinstance(layer, ActivationLayer) for layer in layers):
        return []
    return [
        SpecWarning(
            code="underfitting",
            field="model.layers",
            message=f"none of the {len(hidden)} hidden layers has a nonlinear activation, so "
            "the stack computes one linear function, no more than a single layer could; give "
            'hidden layers an activation such as "relu"',
        )
    ]


def _bounded_regression(layers: list[Any], targets: Targets) -> list[SpecWarning]:
    last = layers[-1]
    if targets.task != "regression" or last.activation not in OUTPUT_RANGES:
        return []
    return [
        SpecWarning(
            code="underfitting",
            field=f"model.layers[{len(layers) - 1}].activation",
            message=f"a {last.activation} output can only predict values in "
            f"{OUTPUT_RANGES[last.activation]}; targets outside that range are out of reach. "
            'Regression outputs are usually "linear"',
        )
    ]


def _learning_rate(spec: JobSpec) -> list[SpecWarning]:
    rate, name = peak_rate(spec.optimizer.learning_rate), spec.optimizer.name
    limit = SGD_RATE_LIMIT if name == "sgd" else ADAPTIVE_RATE_LIMIT
    if rate <= limit:
        return []
    typical = "0.001 to 0.1" if name == "sgd" else "1e-4 to 1e-2"
    return [
        SpecWarning(
            code="diverged",
            field="optimizer.learning_rate",
            message=f"a learning rate of {rate} for {name} is above {limit}: steps this large "
            f"usually overshoot the minimum and the loss grows or turns to NaN (diverges); "
            f"{name} usually trains with {typical}",
        )
    ]


def _mirrored_symbols(spec: JobSpec, data: DataInfo) -> list[SpecWarning]:
    augmentation = spec.augmentation
    if augmentation is None or augmentation.flip == "none" or not data.builtin:
        return []
    return [
        SpecWarning(
            code="underfitting",
            field="augmentation.flip",
            message=f"{data.name} holds digits or hand signs, which mirrored are other symbols "
            "(or none): flipping teaches the model wrong examples; leave flip at none",
        )
    ]
