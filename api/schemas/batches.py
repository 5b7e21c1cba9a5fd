from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Seed = Annotated[int, Field(ge=0, le=2**31 - 1)]
Values = Annotated[list[Any], Field(min_length=1, max_length=100)]


class BatchCreate(BaseModel):
    """Either ``specs`` (a list of job specs) or ``base`` plus ``vary``; ``seeds`` repeats every
    item once per seed."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "optimizers",
                    "base": {
                        "dataset": {"name": "mnist", "limit": 2000},
                        "model": {"preset": "dense"},
                        "epochs": 3,
                    },
                    "vary": {
                        "optimizer.name": ["sgd", "adagrad", "rmsprop", "adam"],
                        "optimizer.learning_rate": [0.1, 0.01, 0.001],
                    },
                    "seeds": [0],
                    "max_parallel": 2,
                }
            ]
        },
    )

    name: str | None = Field(default=None, max_length=200)
    specs: list[dict[str, Any]] | None = Field(
        default=None, min_length=1, description="Job specs, each as POST /v1/jobs takes it."
    )
    base: dict[str, Any] | None = Field(
        default=None, description="A job spec that every point of the grid starts from."
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
    status: str
    varied: dict[str, Any] = Field(description="The fields in which it differs from the others.")
    epochs: int = Field(description="Epochs it is set to train.")
    epochs_done: int = Field(description="The last epoch recorded; -1 before epoch 0.")
    final_metrics: dict[str, float] | None
    error: str | None


class Standing(BaseModel):
    rank: int
    job_id: str
    name: str | None
    status: str
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


class BatchPublic(BaseModel):
    id: str
    name: str | None
    status: str = Field(description="queued, running, succeeded, failed or cancelled")
    size: int
    max_parallel: int
    created_at: datetime
    cancelled_at: datetime | None
    counts: dict[str, int] = Field(description="How many of its jobs are in each status.")
    metric: str = Field(description="The metric the leaderboard ranks by (?metric=).")
    goal: Literal["min", "max"]
    leaderboard: list[Standing] = Field(description="Best first; jobs with a trained epoch.")
    jobs: list[BatchJob]
    curves: Curves
