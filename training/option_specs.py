"""Training options beyond the loop's basics: early stopping, reduce-on-plateau, augmentation.

Names and defaults follow ``keras.callbacks.EarlyStopping`` and ``ReduceLROnPlateau``, which
get these fields as their keyword arguments: a field added to either must be one. A monitor
is ``loss``, ``val_loss``, a metric (``accuracy``, ``mae``, ...) or ``val_`` and a metric.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from typing_extensions import TypeAliasType

from training.layer_specs import Strict

Monitor = Field(
    default="val_loss",
    pattern=r"^(val_)?[a-z_]+$",
    description='What to watch: "loss", "val_loss", a metric or "val_" and a metric.',
)


class EarlyStoppingSpec(Strict):
    """Stop when the monitored value has not improved for ``patience`` epochs."""

    monitor: str = Monitor
    patience: int = Field(default=0, ge=0, le=1_000, description="Epochs without improvement.")
    min_delta: float = Field(default=0.0, ge=0, description="Smallest change that counts.")
    restore_best_weights: bool = Field(
        default=False, description="When stopping, go back to the best epoch's weights."
    )


class ReduceOnPlateauSpec(Strict):
    """Multiply the learning rate by ``factor`` when the monitored value stops improving."""

    monitor: str = Monitor
    factor: float = Field(default=0.1, gt=0, lt=1, description="new rate = rate * factor")
    patience: int = Field(default=10, ge=0, le=1_000, description="Epochs without improvement.")
    min_delta: float = Field(default=0.0001, ge=0, description="Smallest change that counts.")
    cooldown: int = Field(default=0, ge=0, description="Epochs to wait after a reduction.")
    min_lr: float = Field(default=0.0, ge=0, description="The rate never goes below this.")


Flip = TypeAliasType("Flip", Literal["none", "horizontal", "vertical", "horizontal_and_vertical"])


class AugmentationSpec(Strict):
    """Random changes to training images, drawn anew each epoch; validation images are untouched."""

    rotation: float = Field(default=0, ge=0, le=180, description="Up to ± this many degrees.")
    zoom: float = Field(default=0, ge=0, lt=1, description="Up to ± this share (0.1 = 10%).")
    translation: float = Field(
        default=0, ge=0, lt=1, description="Shift up to ± this share of height and width."
    )
    flip: Flip = Field(default="none", description="Mirror images at random.")

    @model_validator(mode="after")
    def _something(self) -> AugmentationSpec:
        if not (self.rotation or self.zoom or self.translation or self.flip != "none"):
            raise ValueError(
                "augmentation changes nothing; set rotation (degrees), zoom, translation or flip, "
                "or leave augmentation out"
            )
        return self
