"""Optimizers and learning-rate schedules, with Keras' names and defaults. No TensorFlow.

``{"name": "sgd", "learning_rate": 0.1, "momentum": 0.9}`` or, with a schedule,
``{"name": "adam", "learning_rate": {"schedule": "cosine_decay", "initial_learning_rate":
0.001, "decay_steps": 1000}}``. Schedules count steps (batches), as Keras does.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union, get_args

from pydantic import Discriminator, Field, Tag, field_validator, model_validator
from typing_extensions import TypeAliasType

from training.layer_specs import Strict

MAX_LEARNING_RATE = 10.0

Rate = Annotated[float, Field(gt=0, le=MAX_LEARNING_RATE)]


class ExponentialDecay(Strict):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``."""

    schedule: Literal["exponential_decay"]
    initial_learning_rate: Rate
    decay_steps: int = Field(ge=1, description="Steps (batches) per decay_rate factor.")
    decay_rate: float = Field(gt=0, description="Factor applied every decay_steps steps.")
    staircase: bool = Field(default=False, description="Decay in whole steps of decay_steps.")


class CosineDecay(Strict):
    """Half a cosine from ``initial_learning_rate`` down to ``alpha`` times it."""

    schedule: Literal["cosine_decay"]
    initial_learning_rate: Rate
    decay_steps: int = Field(ge=1, description="Steps (batches) over which to decay.")
    alpha: float = Field(default=0.0, ge=0, le=1, description="Final rate as a share of initial.")


class PiecewiseConstant(Strict):
    """``values[i]`` until step ``boundaries[i]``, then the next value."""

    schedule: Literal["piecewise_constant"]
    boundaries: list[int] = Field(
        min_length=1, max_length=1_024, description="Increasing step numbers."
    )
    values: list[Rate] = Field(
        min_length=2, max_length=1_025, description="One more value than boundaries."
    )

    @field_validator("boundaries")
    @classmethod
    def _increasing(cls, boundaries: list[int]) -> list[int]:
        if (
            any(b <= a for a, b in zip(boundaries, boundaries[1:], strict=False))
            or boundaries[0] < 1
        ):
            raise ValueError(f"boundaries {boundaries} must be step numbers above 0, increasing")
        return boundaries

    @model_validator(mode="after")
    def _one_more_value(self) -> PiecewiseConstant:
        if len(self.values) != len(self.boundaries) + 1:
            raise ValueError(
                f"{len(self.boundaries)} boundaries need {len(self.boundaries) + 1} values "
                f"(one before each boundary and one after the last), not {len(self.values)}"
            )
        return self


Schedule = ExponentialDecay | CosineDecay | PiecewiseConstant
SCHEDULES = ("exponential_decay", "cosine_decay", "piecewise_constant")


def _rate_tag(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "number"
    if isinstance(value, dict):
        return value.get("schedule")
    return getattr(value, "schedule", "number")


LearningRate = Annotated[
    Union[  # noqa: UP007
        Annotated[Rate, Tag("number")],
        Annotated[ExponentialDecay, Tag("exponential_decay")],
        Annotated[CosineDecay, Tag("cosine_decay")],
        Annotated[PiecewiseConstant, Tag("piecewise_constant")],
    ],
    Discriminator(_rate_tag),
    Field(
        description="A number, or a schedule: exponential_decay, cosine_decay or "
        "piecewise_constant (steps are batches)."
    ),
]


def peak_rate(rate: float | Schedule) -> float:
    """The largest rate a schedule reaches (all three start at or hold their largest value)."""
    if isinstance(rate, float | int):
        return float(rate)
    if isinstance(rate, PiecewiseConstant):
        return max(rate.values)
    return rate.initial_learning_rate


Beta = Annotated[float, Field(gt=0, lt=1)]
Epsilon = Annotated[float, Field(gt=0, description="Added to denominators for stability.")]
Clip = Annotated[
    float | None, Field(default=None, gt=0, description="Clip each gradient to this norm/value.")
]


class SGD(Strict):
    name: Literal["sgd"]
    learning_rate: LearningRate = 0.01
    momentum: float = Field(default=0.0, ge=0, lt=1, description="Share of the last step kept.")
    nesterov: bool = Field(default=False, description="Nesterov momentum.")
    clipnorm: Clip = None
    clipvalue: Clip = None


class Adam(Strict):
    name: Literal["adam"]
    learning_rate: LearningRate = 0.001
    beta_1: Beta = 0.9
    beta_2: Beta = 0.999
    epsilon: Epsilon = 1e-7
    amsgrad: bool = False
    clipnorm: Clip = None
    clipvalue: Clip = None


class AdamW(Strict):
    name: Literal["adamw"]
    learning_rate: LearningRate = 0.001
    weight_decay: float = Field(default=0.004, ge=0, description="Decoupled weight decay.")
    beta_1: Beta = 0.9
    beta_2: Beta = 0.999
    epsilon: Epsilon = 1e-7
    amsgrad: bool = False
    clipnorm: Clip = None
    clipvalue: Clip = None


class Adagrad(Strict):
    name: Literal["adagrad"]
    learning_rate: LearningRate = 0.001
    initial_accumulator_value: float = Field(default=0.1, ge=0)
    epsilon: Epsilon = 1e-7
    clipnorm: Clip = None
    clipvalue: Clip = None


class RMSprop(Strict):
    name: Literal["rmsprop"]
    learning_rate: LearningRate = 0.001
    rho: float = Field(default=0.9, gt=0, lt=1, description="Decay of the squared-gradient mean.")
    momentum: float = Field(default=0.0, ge=0, lt=1)
    epsilon: Epsilon = 1e-7
    centered: bool = False
    clipnorm: Clip = None
    clipvalue: Clip = None


class Nadam(Strict):
    name: Literal["nadam"]
    learning_rate: LearningRate = 0.001
    beta_1: Beta = 0.9
    beta_2: Beta = 0.999
    epsilon: Epsilon = 1e-7
    clipnorm: Clip = None
    clipvalue: Clip = None


OptimizerName = TypeAliasType(
    "OptimizerName", Literal["sgd", "adam", "adamw", "adagrad", "rmsprop", "nadam"]
)
OPTIMIZERS: tuple[str, ...] = get_args(OptimizerName.__value__)
OptimizerSpec = Annotated[
    SGD | Adam | AdamW | Adagrad | RMSprop | Nadam,
    Field(
        discriminator="name",
        description="sgd, adam, adamw, adagrad, rmsprop or nadam with Keras' arguments and "
        "defaults; name defaults to adam.",
    ),
]


def default_name(value: Any) -> Any:
    """``"sgd"`` is ``{"name": "sgd"}``, as in Keras; an object without a name is Adam."""
    if isinstance(value, str):
        return {"name": value}
    if isinstance(value, dict) and "name" not in value:
        return {"name": "adam", **value}
    return value
