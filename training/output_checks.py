"""The output layer must fit the task: one vector per row, dense, one unit per class (one for
binary, one per target for regression), and an activation the loss can work with."""

from __future__ import annotations

from typing import Any

from training.data_info import DataInfo
from training.layers import DenseLayer
from training.problems import Problem
from training.shapes import LayerShape
from training.targets import Targets

OUTPUT_ACTIVATION = {"classification": "softmax", "binary": "sigmoid", "regression": "linear"}


def check_output(
    layers: list[Any],
    shapes: list[LayerShape],
    data: DataInfo,
    targets: Targets,
    problems: list[Problem],
) -> None:
    last, index = layers[-1], len(layers) - 1
    out_shape = shapes[-1].output_shape
    units = targets.output_units
    if len(out_shape) != 1:
        first = _first_dense_on_many_axes(layers, shapes, data.input_shape)
        where = f"before model.layers[{first}]" if first is not None else "before the output"
        problems.append(
            Problem(
                field="model.layers",
                message=f"the model's output has shape {list(out_shape)}, but {data.name} needs "
                f"one vector of {units} per row",
                found=list(out_shape),
                allowed=[units],
                fix=f'add {{"type": "flatten"}} (or a global_avg_pool2d) {where}',
            )
        )
        return
    if not isinstance(last, DenseLayer):
        problems.append(
            Problem(
                field=f"model.layers[{index}]",
                message=f"the last layer makes the output, so it must be dense; it is {last.type}",
                found=last.type,
                allowed=["dense"],
                fix=f'end with {{"type": "dense", "units": {units}, "activation": '
                f'"{OUTPUT_ACTIVATION[targets.task]}"}}',
            )
        )
        return
    if last.units != units:
        what = {
            "classification": f"{data.name} has {units} classes, one output unit per class",
            "binary": "a binary task has one output unit: the probability of yes",
            "regression": f"{data.name} has {units} number(s) to predict per row",
        }[targets.task]
        problems.append(
            Problem(
                field=f"model.layers[{index}].units",
                message=f"the output layer has {last.units} units, but {what}",
                found=last.units,
                allowed=[units],
                fix=f'set the last dense layer\'s "units" to {units}',
            )
        )
    _output_activation(last, index, targets, problems)


def _first_dense_on_many_axes(
    layers: list[Any], shapes: list[LayerShape], input_shape: tuple[int, ...]
) -> int | None:
    for index, layer in enumerate(layers):
        given = shapes[index - 1].output_shape if index else input_shape
        if isinstance(layer, DenseLayer) and len(given) > 1:
            return index
    return None


def _output_activation(
    last: DenseLayer, index: int, targets: Targets, problems: list[Problem]
) -> None:
    act, loss, task = last.activation, targets.loss, targets.task
    needs = None
    if task in ("binary", "regression") and act == "softmax":
        needs = "sigmoid" if task == "binary" else "linear"
        why = (
            "softmax over a single unit always outputs 1"
            if last.units == 1 or task == "binary"
            else "softmax makes the outputs sum to 1, which numbers to predict do not"
        )
    elif (
        task == "classification" and loss.endswith("categorical_crossentropy") and act != "softmax"
    ):
        needs, why = "softmax", f"{loss} expects class probabilities that sum to 1"
    elif task == "binary" and loss == "binary_crossentropy" and act != "sigmoid":
        needs, why = "sigmoid", "binary_crossentropy expects the probability of yes, from 0 to 1"
    if needs is not None:
        problems.append(
            Problem(
                field=f"model.layers[{index}].activation",
                message=f"the output activation is {act!r}, but {why}",
                found=act,
                allowed=[needs],
                fix=f'set the last dense layer\'s "activation" to "{needs}"',
            )
        )
