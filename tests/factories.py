"""Job specs for tests and benches: one factory instead of the same literal in every file.

``job_spec()`` is a small dense MNIST job (flatten, 64 relu units, ten softmax outputs) on the
first 2,000 training rows with a tenth held out, for two epochs. Each keyword changes one thing;
``None`` leaves that field out of the spec, so the server's default applies.
"""

from __future__ import annotations

from typing import Any, Literal

from training.spec import JobSpec

Validation = float | Literal["test", "none"]


def job_spec(
    *,
    name: str | None = None,
    dataset: str = "mnist",
    limit: int | None = 2000,
    validation: Validation | None = 0.1,
    positive_classes: list[str | int] | None = None,
    preset: Literal["dense", "cnn"] | None = None,
    units: int | tuple[int, ...] | None = 64,
    dropout: float | None = None,
    classes: int = 10,
    output: str = "softmax",
    loss: str | None = None,
    epochs: int | None = 2,
    batch_size: int | None = None,
    seed: int | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A job spec as the JSON body a client sends.

    ``units``: the relu hidden layers' widths (``None``: none, the flatten feeds the output);
    ``dropout``: a dropout layer of that rate after the hidden layers; ``classes`` and
    ``output``: the output layer's units and activation; ``preset``: a preset model instead of
    the layers. ``validation``: a fraction held out of train, ``"test"`` or ``"none"``.
    ``fields``: any other top-level field (optimizer, early_stopping, resources...), as given.
    """
    data: dict[str, Any] = {"name": dataset}
    if limit is not None:
        data["limit"] = limit
    if validation is not None:
        data["validation"] = validation if isinstance(validation, str) else {"fraction": validation}
    if positive_classes is not None:
        data["positive_classes"] = positive_classes

    spec: dict[str, Any] = {} if name is None else {"name": name}
    spec["dataset"] = data
    spec["model"] = (
        {"preset": preset} if preset else {"layers": _layers(units, dropout, classes, output)}
    )
    optional = {"loss": loss, "epochs": epochs, "batch_size": batch_size, "seed": seed}
    spec |= {key: value for key, value in optional.items() if value is not None}
    return spec | fields


def job_spec_model(**changes: Any) -> JobSpec:
    """``job_spec(**changes)``, validated: what the training code takes."""
    return JobSpec.model_validate(job_spec(**changes))


def _layers(
    units: int | tuple[int, ...] | None, dropout: float | None, classes: int, output: str
) -> list[dict[str, Any]]:
    widths = () if units is None else (units,) if isinstance(units, int) else units
    layers: list[dict[str, Any]] = [{"type": "flatten"}]
    layers += [{"type": "dense", "units": width, "activation": "relu"} for width in widths]
    if dropout is not None:
        layers.append({"type": "dropout", "rate": dropout})
    layers.append({"type": "dense", "units": classes, "activation": output})
    return layers
