"""What the model predicts: the task, its classes, the loss, the label encoding and metrics.

All of it is derived from the data set and the few fields that decide it (``task``,
``dataset.positive_classes``, ``loss``), so nothing is asked twice; a combination that cannot
train is reported as a Problem naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass

from training.data_info import DataInfo
from training.problems import Problem
from training.spec import JobSpec
from training.vocabulary import (
    DEFAULT_LOSS,
    REGRESSION_LOSSES,
    REGRESSION_METRICS,
    TASK_LOSSES,
    quoted,
)


@dataclass(frozen=True)
class Targets:
    task: str
    loss: str
    label_encoding: str
    metrics: tuple[str, ...]
    class_names: tuple[str, ...]  # the model's outputs: its classes, or [no, yes] when binary
    positive_classes: tuple[str, ...] = ()  # binary: the data set's classes that mean yes
    output_units: int = 0


def derive(spec: JobSpec, data: DataInfo, problems: list[Problem]) -> Targets | None:
    """The targets, or None after appending what is wrong to ``problems``."""
    task = _task(spec, data, problems)
    if task is None:
        return None
    positives: tuple[str, ...] = ()
    if task == "binary":
        found = _positives(spec, data, problems)
        if found is None:
            return None
        positives = found
    loss = spec.loss or DEFAULT_LOSS[task]
    if loss not in TASK_LOSSES[task]:
        problems.append(_wrong_loss(loss, task))
        return None
    encoding = _encoding(task, loss)
    metrics = _metrics(spec, task, loss, encoding, problems)
    if metrics is None:
        return None
    if task == "classification":
        names, units = data.class_names, data.num_classes
    elif task == "binary":
        names, units = _binary_names(data, positives), 1
    else:
        names, units = (), data.target_size
    return Targets(task, loss, encoding, metrics, names, positives, units)


def _task(spec: JobSpec, data: DataInfo, problems: list[Problem]) -> str | None:
    positives = spec.dataset.positive_classes
    if data.task == "regression":
        if spec.task not in (None, "regression"):
            problems.append(
                Problem(
                    field="task",
                    message=f"{data.name} is a regression data set (numbers to predict), so it "
                    f"cannot be a {spec.task} task",
                    found=spec.task,
                    allowed=["regression"],
                    fix='remove "task", or train on a data set whose labels are classes',
                )
            )
            return None
        if positives:
            problems.append(
                Problem(
                    field="dataset.positive_classes",
                    message=f"{data.name} holds numbers, not classes, so there are no classes "
                    "to count as positive",
                    found=positives,
                    fix="remove positive_classes",
                )
            )
            return None
        return "regression"
    if spec.task == "regression":
        problems.append(
            Problem(
                field="task",
                message=f"{data.name} holds classes, not numbers to predict",
                found="regression",
                allowed=["classification", "binary"],
                fix='remove "task" (classification is the default) or upload a data set with '
                '"task": "regression"',
            )
        )
        return None
    if spec.task == "classification" and positives:
        problems.append(
            Problem(
                field="dataset.positive_classes",
                message="positive_classes makes the task binary (yes/no), but task is "
                "classification",
                found=positives,
                fix='set "task": "binary" (or leave task out), or remove positive_classes',
            )
        )
        return None
    wants_binary = spec.loss == "binary_crossentropy" and spec.task is None
    if spec.task == "binary" or positives or wants_binary:
        return "binary"
    return "classification"


def _positives(spec: JobSpec, data: DataInfo, problems: list[Problem]) -> tuple[str, ...] | None:
    names = data.class_names
    given = spec.dataset.positive_classes
    if not given:
        if len(names) == 2:
            return (names[1],)
        problems.append(
            Problem(
                field="dataset.positive_classes",
                message=f"a binary task on {data.name} needs the classes that count as yes; it "
                f"has {len(names)} classes",
                allowed=list(names),
                fix=f'e.g. "positive_classes": ["{names[-1]}"] asks "is it a {names[-1]}?"; '
                f"or, to tell all {len(names)} classes apart, use categorical_crossentropy "
                f"with {len(names)} softmax output units",
            )
        )
        return None
    unknown = [name for name in given if name not in names]
    if unknown or len(set(given)) != len(given) or len(set(given)) >= len(names):
        problems.append(
            Problem(
                field="dataset.positive_classes",
                message=(
                    f"{quoted(unknown)} {'is' if len(unknown) == 1 else 'are'} not among the "
                    f"classes of {data.name}"
                    if unknown
                    else "positive_classes must name each class once and leave at least one "
                    "class as no"
                ),
                found=given,
                allowed=list(names),
                fix="name one or more of the allowed classes, each once, but not all of them",
            )
        )
        return None
    return tuple(name for name in names if name in given)


def _binary_names(data: DataInfo, positives: tuple[str, ...]) -> tuple[str, str]:
    """The model's two answers, no first: ("not 7", "7"), or the two classes of a 2-class set."""
    if len(data.class_names) == 2:
        (negative,) = (name for name in data.class_names if name not in positives)
        return negative, positives[0]
    yes = " or ".join(positives)
    return f"not {yes}", yes


def _wrong_loss(loss: str, task: str) -> Problem:
    fixes = {
        "regression": "cross-entropy compares class probabilities; to predict numbers use "
        '"mse", "rmse", "mae" or "huber"',
        "binary": "a binary task has one sigmoid output, the probability of yes: use "
        '"binary_crossentropy" (or a regression loss)',
        "classification": "binary_crossentropy answers yes/no: name dataset.positive_classes "
        'for a binary task, or use "categorical_crossentropy" to tell the classes apart',
    }
    return Problem(
        field="loss",
        message=f"{loss} does not fit a {task} task",
        found=loss,
        allowed=list(TASK_LOSSES[task]),
        fix=fixes[task],
    )


def _encoding(task: str, loss: str) -> str:
    if task == "regression":
        return "values"
    if task == "binary":
        return "binary"
    return "integer" if loss == "sparse_categorical_crossentropy" else "one_hot"


def _metrics(
    spec: JobSpec, task: str, loss: str, encoding: str, problems: list[Problem]
) -> tuple[str, ...] | None:
    if spec.metrics is None:
        if task == "regression":
            return tuple(m for m in REGRESSION_METRICS if m != loss)
        return ("accuracy",)
    allowed = list(REGRESSION_METRICS) if task == "regression" else ["accuracy"]
    if task == "binary" or encoding == "one_hot":
        allowed = ["accuracy", *REGRESSION_METRICS]
    wrong = [m for m in spec.metrics if m not in allowed]
    if wrong:
        why = (
            "accuracy counts right classes, and a regression predicts numbers"
            if task == "regression"
            else "with sparse_categorical_crossentropy the labels are class indices, which "
            "mse, rmse and mae cannot compare with the predicted probabilities"
        )
        problems.append(
            Problem(
                field="metrics",
                message=f"{quoted(wrong)} cannot be measured here: {why}",
                found=list(spec.metrics),
                allowed=allowed,
                fix="list only allowed metrics, or leave metrics out for the defaults",
            )
        )
        return None
    return tuple(spec.metrics)


def is_regression_loss(loss: str) -> bool:
    return loss in REGRESSION_LOSSES
