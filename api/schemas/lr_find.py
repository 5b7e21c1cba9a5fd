"""Learning-rate range tests (POST /v1/lr-find, GET /v1/lr-find/{id}): the request and the
answer. The answer's curve and suggestion are empty until the test has run."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.specs import SpecWarningPublic
from core.statuses import JobStatus
from services.lr_find import DEFAULTS, MAX_RATE, MAX_STEPS, MIN_RATE, MIN_STEPS
from training.spec import JobSpec


class LrFindRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    spec: JobSpec = Field(
        description="The job spec whose model and data are tested, as POST /v1/jobs takes it "
        "(its learning rate, schedule and epochs are not used)."
    )
    min_learning_rate: float = Field(
        default=DEFAULTS["min_learning_rate"],
        ge=MIN_RATE,
        le=MAX_RATE,
        description="The rate of the first step; below max_learning_rate.",
    )
    max_learning_rate: float = Field(
        default=DEFAULTS["max_learning_rate"],
        ge=MIN_RATE,
        le=MAX_RATE,
        description="The rate of the last step; the rate rises exponentially between the two.",
    )
    steps: int = Field(
        default=DEFAULTS["steps"],
        ge=MIN_STEPS,
        le=MAX_STEPS,
        description="Training steps (batches) of the sweep; it stops sooner once the loss "
        "diverges.",
    )
    keep_model: bool = Field(
        default=DEFAULTS["keep_model"],
        description="Keep the model (its weights where the smoothed loss was lowest) as a "
        "training job's; by default the test leaves no model and no file behind.",
    )


class LrFindPoint(BaseModel):
    learning_rate: float
    loss: float = Field(description="The loss smoothed (exponential moving average, beta 0.98).")
    raw_loss: float = Field(description="The loss of that step's batch.")


class LrFind(BaseModel):
    # Every field is always answered, defaults included, so the schema requires them all.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    id: str
    status: JobStatus = Field(description="As a job's: queued, running, succeeded, ...")
    min_learning_rate: float
    max_learning_rate: float
    steps: int
    keep_model: bool
    curve: list[LrFindPoint] = Field(
        default_factory=list,
        description="The loss by learning rate, at most a few hundred points; [] until done.",
    )
    suggested_learning_rate: float | None = Field(
        default=None,
        description="A tenth of the rate where the batch losses (their running median) were "
        "lowest; null until done, "
        "or when no rate can be suggested (the reason says why).",
    )
    reason: str | None = Field(default=None, description="Why this rate, or why none.")
    min_loss_learning_rate: float | None = Field(
        default=None, description="Where the batch losses (their running median) were lowest."
    )
    steepest_learning_rate: float | None = Field(
        default=None, description="Where the loss fell fastest (for context)."
    )
    steps_run: int | None = Field(
        default=None, description="Steps done: fewer than steps once the loss diverged."
    )
    warnings: list[SpecWarningPublic] = Field(
        default_factory=list,
        description="The spec's warnings, as POST /v1/jobs gives them (legal choices known to "
        "train badly).",
    )
    error: str | None = Field(default=None, description="Why the test failed, when it did.")
    model_id: str | None = Field(
        default=None, description="The kept model's id (keep_model), once the test succeeded."
    )

    @classmethod
    def of(cls, job: Any) -> LrFind:
        found = {**DEFAULTS, **(job.lr_find or {})}
        return cls(
            id=job.id,
            status=job.status,
            min_learning_rate=found["min_learning_rate"],
            max_learning_rate=found["max_learning_rate"],
            steps=found["steps"],
            keep_model=bool(found["keep_model"]),
            curve=found.get("curve") or [],
            suggested_learning_rate=found.get("suggested_learning_rate"),
            reason=found.get("reason"),
            min_loss_learning_rate=found.get("min_loss_learning_rate"),
            steepest_learning_rate=found.get("steepest_learning_rate"),
            steps_run=found.get("steps_run"),
            warnings=job.warnings or [],
            error=job.error,
            model_id=job.model_id,
        )
