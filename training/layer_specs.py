"""What layer specs are made of: initializers, regularizers and the field types several layer
kinds share (the kinds themselves are in ``training.layers``). No TensorFlow.

Names and defaults follow Keras: ``"kernel_initializer": "he_normal"``,
``"kernel_regularizer": {"l2": 0.001}``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)
from typing_extensions import TypeAliasType

from training.vocabulary import Activation


class Strict(BaseModel):
    # A misspelt field is refused rather than silently ignored. As sent, a field with a default
    # may be left out; as answered (JobPublic.spec, SpecCheck.spec) every field is written out,
    # so the response schemas list them all as required. NaN and the infinities (and 1e400,
    # which JSON parsing turns into one) are refused naming the field: no Keras argument
    # takes them, and a stored spec could not hold them (JSON has no spelling for them).
    model_config = ConfigDict(
        extra="forbid", json_schema_serialization_defaults_required=True, allow_inf_nan=False
    )


# --- initializers -------------------------------------------------------------------------

InitializerName = TypeAliasType(
    "InitializerName",
    Literal[
        "glorot_uniform",
        "glorot_normal",
        "he_normal",
        "he_uniform",
        "lecun_normal",
        "lecun_uniform",
        "orthogonal",
        "zeros",
        "ones",
    ],
)
SIMPLE_INITIALIZERS: tuple[str, ...] = get_args(InitializerName.__value__)


class ConstantInitializer(Strict):
    name: Literal["constant"]
    value: float = Field(default=0.0, description="Every weight starts at this value.")


class RandomNormalInitializer(Strict):
    name: Literal["random_normal", "truncated_normal"]
    mean: float = 0.0
    stddev: float = Field(default=0.05, gt=0, description="Standard deviation of the draw.")


class RandomUniformInitializer(Strict):
    name: Literal["random_uniform"]
    minval: float = -0.05
    maxval: float = 0.05

    @model_validator(mode="after")
    def _ordered(self) -> RandomUniformInitializer:
        if self.minval >= self.maxval:
            raise ValueError(
                f"minval ({self.minval}) must be below maxval ({self.maxval}); swap them"
            )
        return self


PARAMETRIC_INITIALIZERS = ("constant", "random_normal", "truncated_normal", "random_uniform")
INITIALIZERS = (*SIMPLE_INITIALIZERS, *PARAMETRIC_INITIALIZERS)


def _initializer_tag(value: Any) -> str | None:
    name = value if isinstance(value, str) else getattr(value, "name", None)
    if isinstance(value, dict):
        name = value.get("name")
    return name if isinstance(name, str) else None


def _plain_initializer(value: Any) -> Any:
    # {"name": "he_normal"} is the same as "he_normal".
    if isinstance(value, dict) and set(value) == {"name"} and value["name"] in SIMPLE_INITIALIZERS:
        return value["name"]
    return value


# Each name is its own tag, so that an unknown name is refused listing every allowed one; each
# name's member is the whole InitializerName set, so that the schema holds the names as one enum
# (a generated client then reads the default "zeros" as a name, not as a mismatched const).
_initializer_members = tuple(Annotated[InitializerName, Tag(n)] for n in SIMPLE_INITIALIZERS) + (
    Annotated[ConstantInitializer, Tag("constant")],
    Annotated[RandomNormalInitializer, Tag("random_normal")],
    Annotated[RandomNormalInitializer, Tag("truncated_normal")],
    Annotated[RandomUniformInitializer, Tag("random_uniform")],
)
Initializer = Annotated[
    Union[_initializer_members],  # type: ignore[valid-type]  # noqa: UP007
    Discriminator(_initializer_tag),
    BeforeValidator(_plain_initializer),
    Field(
        description='A name ("glorot_uniform", "he_normal", "zeros", "ones", ...) or an object '
        'with arguments: {"name": "constant", "value": 0.1}, {"name": "random_normal", '
        '"mean": 0, "stddev": 0.05}, {"name": "random_uniform", "minval": -0.05, "maxval": 0.05}.'
    ),
]

# --- regularizers -------------------------------------------------------------------------

DEFAULT_REGULARIZATION = 0.01  # Keras' default factor for L1 and L2


class Regularizer(Strict):
    """Adds ``l1 * sum(|w|) + l2 * sum(w²)`` to the loss."""

    l1: float = Field(default=0.0, ge=0, description="L1 factor (sum of absolute weights).")
    l2: float = Field(default=0.0, ge=0, description="L2 factor (sum of squared weights).")

    @model_validator(mode="after")
    def _something(self) -> Regularizer:
        if self.l1 == 0 and self.l2 == 0:
            raise ValueError('give "l1" or "l2" a factor above 0, e.g. {"l2": 0.01}, or omit it')
        return self


RegularizerName = TypeAliasType("RegularizerName", Literal["l1", "l2", "l1_l2"])


def _named_regularizer(value: Any) -> Any:
    # Keras accepts "l1", "l2" and "l1_l2" with a factor of 0.01.
    names = {"l1": ("l1",), "l2": ("l2",), "l1_l2": ("l1", "l2")}
    if isinstance(value, str):
        if value not in names:
            raise ValueError(
                f"{value!r} is not a regularizer; use 'l1', 'l2', 'l1_l2' or factors such as "
                '{"l2": 0.001}'
            )
        return {key: DEFAULT_REGULARIZATION for key in names[value]}
    return value


RegularizerField = Annotated[
    Regularizer | None,
    BeforeValidator(
        _named_regularizer,
        json_schema_input_type=Union[Regularizer, RegularizerName, None],  # noqa: UP007
    ),
    Field(description='{"l1": f, "l2": f}, or "l1" / "l2" / "l1_l2" for a factor of 0.01.'),
]

# --- fields several layer kinds share ---------------------------------------------------


def _pair(value: Any) -> Any:
    return (value, value) if isinstance(value, int) and not isinstance(value, bool) else value


Size = Annotated[int, Field(ge=1, le=4_096)]
Pair = Annotated[
    tuple[Size, Size],
    BeforeValidator(_pair, json_schema_input_type=Union[Size, tuple[Size, Size]]),  # noqa: UP007
]
ActivationField = Annotated[
    Activation,
    Field(
        description="The function applied to the layer's outputs (linear means none).",
        examples=["relu"],
    ),
]
Slope = Annotated[
    float | None,
    Field(ge=0, lt=1, description="Slope for negative inputs; only with leaky_relu (default 0.2)."),
]
UseBias = Annotated[bool, Field(description="Whether the layer adds a bias b to w·x.")]
Padding = Annotated[
    TypeAliasType("Padding", Literal["valid", "same"]),
    Field(description='"valid": no padding (the image shrinks); "same": keeps height and width.'),
]
