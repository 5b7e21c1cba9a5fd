"""Resolve a spec against its data set: refuse what cannot train, fill in what is derived.

``resolve(spec, data)`` returns the resolved spec (task, loss, metrics, validation and layers
made explicit), the targets, the layer-by-layer summary and any warnings, or raises SpecError
naming every field that stops the spec from training. It imports no TensorFlow, so the API
runs it at submission and the worker runs it again before training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from training.advice import advise
from training.data_info import DataInfo
from training.layers import DenseLayer
from training.limits import DEFAULT_LIMITS, Limits
from training.optimizer_specs import peak_rate
from training.output_checks import OUTPUT_ACTIVATION, check_output
from training.problems import Problem, SpecError, SpecWarning
from training.shapes import LayerShape, activation_bytes_per_example, follow
from training.spec import JobSpec, ModelSpec, ValidationFraction, preset_layers
from training.targets import Targets, derive


@dataclass(frozen=True)
class Resolution:
    spec: JobSpec  # with every derived value written out
    data: DataInfo
    targets: Targets
    layers: list[LayerShape]
    warnings: list[SpecWarning]

    @property
    def total_params(self) -> int:
        return sum(row.params for row in self.layers)

    @property
    def trainable_params(self) -> int:
        return sum(row.trainable_params for row in self.layers)

    def summary(self) -> dict[str, Any]:
        """The model in numbers: per layer its output shape and parameters (w, b), and totals."""
        return {
            "dataset": self.data.name,
            "task": self.targets.task,
            "label_encoding": self.targets.label_encoding,
            "class_names": list(self.targets.class_names),
            "input_shape": list(self.data.input_shape),
            "output_shape": list(self.layers[-1].output_shape),
            "layers": [row.as_dict() for row in self.layers],
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.total_params - self.trainable_params,
        }


def resolve(spec: JobSpec, data: DataInfo, limits: Limits = DEFAULT_LIMITS) -> Resolution:
    problems: list[Problem] = []
    targets = derive(spec, data, problems)
    validation = _validation(spec, data, problems)
    _caps(spec, limits, problems)
    _has_features(data, problems)
    layers, shapes = _layers(spec, data, targets, limits, problems)
    if shapes is not None:
        _activation_memory(spec, data, shapes, limits, problems)
    if targets is not None and validation is not None:
        _options(spec, data, targets, validation, problems)
    if problems or targets is None or validation is None or shapes is None:
        raise SpecError(problems)
    resolved = spec.model_copy(
        update={
            "task": targets.task,
            "loss": targets.loss,
            "metrics": list(targets.metrics),
            "dataset": spec.dataset.model_copy(
                update={
                    "validation": validation,
                    "positive_classes": list(targets.positive_classes) or None,
                }
            ),
            "model": ModelSpec(layers=layers),
        }
    )
    return Resolution(resolved, data, targets, shapes, advise(resolved, data, targets))


def _validation(spec: JobSpec, data: DataInfo, problems: list[Problem]) -> Any:
    chosen = spec.dataset.validation
    if chosen is None:
        return "test" if data.test_size else "none"
    if chosen == "test" and not data.test_size:
        problems.append(
            Problem(
                field="dataset.validation",
                message=f"{data.name} has no test split to validate on",
                found="test",
                allowed=['{"fraction": f}', "none"],
                fix='hold part of the training rows out with {"fraction": 0.2}, or use "none"',
            )
        )
        return None
    if isinstance(chosen, ValidationFraction):
        rows = min(spec.dataset.limit or data.train_size, data.train_size)
        held_out = max(1, round(rows * chosen.fraction))
        if held_out >= rows:
            problems.append(
                Problem(
                    field="dataset.validation.fraction",
                    message=f"holding out {chosen.fraction} of {rows} rows leaves nothing to "
                    "train on",
                    found=chosen.fraction,
                    allowed=f"a fraction that leaves at least 1 of {rows} rows",
                    fix='use a smaller fraction, a larger dataset.limit, or "none"',
                )
            )
            return None
    return chosen


def _caps(spec: JobSpec, limits: Limits, problems: list[Problem]) -> None:
    for field, value, cap, setting in (
        ("epochs", spec.epochs, limits.max_epochs, "DESCENT_MAX_EPOCHS"),
        ("batch_size", spec.batch_size, limits.max_batch_size, "DESCENT_MAX_BATCH_SIZE"),
    ):
        if value > cap:
            problems.append(
                Problem(
                    field=field,
                    message=f"{field} {value} is above this service's cap of {cap}",
                    found=value,
                    allowed=f"1 to {cap}",
                    fix=f"use at most {cap} (the operator sets the cap with {setting})",
                )
            )


def _has_features(data: DataInfo, problems: list[Problem]) -> None:
    """A data set whose rows hold no numbers (uploaded before uploads refused them) cannot
    train: the worker would crash on it."""
    if 0 in data.input_shape:
        problems.append(
            Problem(
                field="dataset.name",
                message=f"{data.name}'s rows have shape {list(data.input_shape)}: they hold no "
                "numbers, and a data set needs at least one feature column",
                found=data.name,
                allowed="a data set whose rows hold at least one number",
                fix="upload the data set again with its feature columns, and name it here",
            )
        )


def _activation_memory(
    spec: JobSpec, data: DataInfo, shapes: list[LayerShape], limits: Limits, problems: list[Problem]
) -> None:
    """Refuses a batch whose activations alone would not fit the cap: the worker would be
    killed, or crash, mid-epoch instead of failing with advice."""
    per_example = activation_bytes_per_example(shapes, data.input_shape)
    needed = per_example * spec.batch_size
    if needed <= limits.max_activation_bytes:
        return
    fits = limits.max_activation_bytes // max(per_example, 1)
    cap = _gib(limits.max_activation_bytes)
    fix = (
        f"lower batch_size to {fits}, or use fewer filters or units, or pool or stride earlier"
        if fits >= 1
        else "use fewer filters or units, or pool or stride earlier: even one example's "
        f"activations need {_gib(per_example)}"
    )
    problems.append(
        Problem(
            field="batch_size",
            message=f"a batch of {spec.batch_size} needs about {_gib(needed)} of activation "
            f"memory to train ({_gib(per_example)} per example), above this service's cap of "
            f"{cap}",
            found=spec.batch_size,
            allowed=f"1 to {fits}" if fits >= 1 else "none with these layers",
            fix=f"{fix} (the operator sets the cap with DESCENT_MAX_ACTIVATION_BYTES)",
        )
    )


def _gib(count: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20)):
        if count >= size:
            return f"{count / size:,.1f} {unit}"
    return f"{count / 2**10:,.1f} KiB"


def _layers(
    spec: JobSpec,
    data: DataInfo,
    targets: Targets | None,
    limits: Limits,
    problems: list[Problem],
) -> tuple[list[Any], list[LayerShape] | None]:
    if spec.model.layers is not None:
        layers = list(spec.model.layers)
    elif targets is None:
        return [], None
    else:
        output = DenseLayer(
            type="dense", units=targets.output_units, activation=OUTPUT_ACTIVATION[targets.task]
        )
        preset = spec.model.preset or "dense"
        layers = preset_layers(
            preset, spec.model.activation or "relu", spec.model.negative_slope, output
        )
    if len(layers) > limits.max_layers:
        problems.append(
            Problem(
                field="model.layers",
                message=f"{len(layers)} layers is above this service's cap of {limits.max_layers}",
                found=len(layers),
                allowed=f"1 to {limits.max_layers} layers",
                fix="use fewer layers (the operator sets the cap with DESCENT_MAX_LAYERS)",
            )
        )
        return layers, None
    try:
        shapes = follow(layers, data.input_shape)
    except SpecError as error:
        problems.extend(error.problems)
        return layers, None
    total = sum(row.params for row in shapes)
    if total > limits.max_params:
        problems.append(
            Problem(
                field="model.layers",
                message=f"the model has {total:,} parameters, above this service's cap of "
                f"{limits.max_params:,}",
                found=total,
                allowed=f"at most {limits.max_params:,} parameters",
                fix="use fewer units or filters, or pool (or stride) before flattening (the "
                "operator sets the cap with DESCENT_MAX_PARAMS)",
            )
        )
    if targets is not None:
        check_output(layers, shapes, data, targets, problems)
    return layers, shapes


def _options(
    spec: JobSpec, data: DataInfo, targets: Targets, validation: Any, problems: list[Problem]
) -> None:
    names = ["loss", *targets.metrics]
    if validation != "none":
        names += [f"val_{name}" for name in names]
    for field in ("early_stopping", "reduce_on_plateau"):
        option = getattr(spec, field)
        if option is not None and option.monitor not in names:
            no_val = option.monitor.startswith("val_") and validation == "none"
            problems.append(
                Problem(
                    field=f"{field}.monitor",
                    message=f"{option.monitor!r} is not measured by this job"
                    + (" (it has no validation data)" if no_val else ""),
                    found=option.monitor,
                    allowed=names,
                    fix='monitor "loss", or set dataset.validation to {"fraction": 0.2}'
                    if no_val
                    else "monitor one of the allowed values",
                )
            )
    rate = spec.optimizer.learning_rate
    if spec.reduce_on_plateau is not None and not isinstance(rate, float | int):
        problems.append(
            Problem(
                field="reduce_on_plateau",
                message=f"reduce_on_plateau lowers a fixed learning rate, but "
                f"optimizer.learning_rate is a {rate.schedule} schedule",
                found=rate.schedule,
                allowed="a number as optimizer.learning_rate",
                fix=f"set optimizer.learning_rate to a number such as {peak_rate(rate)}, or "
                "remove reduce_on_plateau",
            )
        )
    if spec.augmentation is not None and not data.is_image:
        problems.append(
            Problem(
                field="augmentation",
                message=f"augmentation rotates, zooms, shifts and flips images, but {data.name} "
                f"rows have shape {list(data.input_shape)}",
                found=list(data.input_shape),
                allowed="image rows [height, width, channels]",
                fix="remove augmentation",
            )
        )
