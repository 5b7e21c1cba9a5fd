from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from typing_extensions import TypeAliasType

from api.schemas.pages import Page
from core.statuses import JobStatus
from training.spec import JobSpec

Seed = Annotated[int, Field(ge=0, le=2**31 - 1)]
Values = Annotated[list[Any], Field(min_length=1, max_length=100)]
# A spec stays a plain object here: each expanded item is validated on its own, so that a bad
# one is refused naming its place in the batch. The schema still shows it as a JobSpec.
SpecObject = Annotated[dict[str, Any], BeforeValidator(lambda v: v, json_schema_input_type=JobSpec)]
Goal = TypeAliasType("Goal", Literal["min", "max"])
# A batch's status follows from its jobs' (services.batches.status_of); never "cancelling".
BatchStatus = TypeAliasType(
    "BatchStatus", Literal["queued", "running", "succeeded", "failed", "cancelled"]
)


class BatchCreate(BaseModel):
    """Either ``specs`` (a list of job specs) or ``base`` plus ``vary``; ``seeds`` repeats every
    item once per seed."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    specs: list[SpecObject] | None = Field(
        default=None, min_length=1, description="Job specs, each as POST /v1/jobs takes it."
    )
    base: SpecObject | None = Field(
        default=None,
        description="A job spec that every point of the grid starts from; each path in vary "
        "then sets one of its fields.",
    )
    vary: dict[str, Values] = Field(
        default_factory=dict,
        description='Spec fields by dotted path, each with its values: {"optimizer.name": '
        '["sgd", "adam"]}. Every combination becomes one job.',
    )
    seeds: list[Seed] | None = Field(
        default=None, min_length=1, max_length=100, description="Run every item once per seed."
    )
    max_parallel: int = Field(
        default=2, ge=1, le=64, description="At most this many of the batch's jobs run at once."
    )

    @model_validator(mode="after")
    def _one_form(self) -> "BatchCreate":
        if (self.specs is None) == (self.base is None):
            raise ValueError(
                'give exactly one of "specs" (a list of specs) or "base" (with "vary")'
            )
        if self.specs is not None and self.vary:
            raise ValueError('"vary" goes with "base"; with "specs" list each spec in full')
        return self


class BatchJob(BaseModel):
    id: str
    name: str | None
    index: int = Field(description="Its place in the batch's order.")
    status: JobStatus
    varied: dict[str, Any] = Field(description="The fields in which it differs from the others.")
    epochs: int = Field(description="Epochs it is set to train.")
    epochs_done: int = Field(description="The last epoch recorded; -1 before epoch 0.")
    final_metrics: dict[str, float] | None
    error: str | None


class Standing(BaseModel):
    rank: int
    job_id: str
    name: str | None
    status: JobStatus
    varied: dict[str, Any]
    value: float = Field(description="The job's best value of the metric over epochs 1..N.")
    epoch: int = Field(description="The epoch at which the best value was reached.")


class Curve(BaseModel):
    job_id: str
    name: str | None
    values: list[float | None] = Field(description="The metric at each epoch of Curves.epochs.")


class Curves(BaseModel):
    metric: str
    epochs: list[int]
    series: list[Curve]


class StatusCounts(BaseModel):
    """How many jobs are in each status: every status named, 0 or more."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    queued: int = 0
    running: int = 0
    cancelling: int = 0
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0


class BatchSummary(BaseModel):
    """A batch as a list shows it; ``GET /v1/batches/{id}`` adds its jobs and leaderboard."""

    id: str
    name: str | None
    status: BatchStatus = Field(
        description="queued until a job starts, running while any is unfinished; then "
        "succeeded if all did, cancelled if any was cancelled, else failed."
    )
    size: int
    max_parallel: int
    created_at: datetime
    cancelled_at: datetime | None
    counts: StatusCounts = Field(description="How many of its jobs are in each status.")


class BatchList(Page[BatchSummary]):
    """A page of batches, newest first."""


class BatchPublic(BatchSummary):
    metric: str = Field(description="The metric the leaderboard ranks by (?metric=).")
    goal: Goal = Field(description="min: lower is better (losses); max: higher (accuracies).")
    leaderboard: list[Standing] = Field(description="Best first; jobs with a trained epoch.")
    jobs: list[BatchJob]
    curves: Curves
