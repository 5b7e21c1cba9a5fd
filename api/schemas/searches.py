"""A search as submitted and as read: the contract the page's search view and the CLI use."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from typing_extensions import TypeAliasType

from api.schemas.batches import SpecObject
from api.schemas.pages import Page
from core.statuses import JobStatus

SearchStatus = TypeAliasType("SearchStatus", Literal["running", "succeeded", "failed", "cancelled"])
Direction = TypeAliasType("Direction", Literal["minimize", "maximize"])
Number = Annotated[float, Field(allow_inf_nan=False)]
Whole = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    choice: list[Any] = Field(min_length=1, max_length=100, description="The values to try.")


class Uniform(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uniform: list[Number] = Field(min_length=2, max_length=2, description="[low, high]")


class LogUniform(BaseModel):
    model_config = ConfigDict(extra="forbid")
    loguniform: list[Number] = Field(
        min_length=2, max_length=2, description="[low, high], low > 0; sampled on a log scale."
    )


class IntRange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    int: list[Whole] = Field(min_length=2, max_length=2, description="[low, high], both included.")


Range = Choice | Uniform | LogUniform | IntRange


class Sampler(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["grid", "random", "tpe"] = Field(
        default="random",
        description="grid: every combination of the choices, in a seeded order; random: "
        "Optuna's RandomSampler; tpe: Optuna's TPESampler (Bayesian), told each result.",
    )
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class EarlyStopping(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["none", "median", "asha"] = Field(
        default="none",
        description="asha: at each rung keep the top 1/reduction_factor of the trials that "
        "reached it; median: stop a trial worse than the median of the others at a rung.",
    )
    reduction_factor: int = Field(default=3, ge=2, le=100)
    rungs: list[Annotated[int, Field(ge=1)]] | None = Field(
        default=None,
        max_length=100,
        description="The epochs at which trials are judged. Default: 1, 3, 9... below the "
        "trial's epochs for asha; every epoch for median.",
    )


class SearchCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "mnist lr x batch",
                    "base": {"dataset": {"name": "mnist"}, "epochs": 9},
                    "space": {
                        "optimizer.learning_rate": {"loguniform": [0.0001, 0.1]},
                        "batch_size": {"choice": [32, 64, 128]},
                    },
                    "metric": "val_accuracy",
                    "sampler": {"type": "random", "seed": 7},
                    "max_trials": 9,
                    "max_parallel": 2,
                    "early_stopping": {"type": "asha", "reduction_factor": 3},
                }
            ]
        },
    )

    name: str | None = Field(default=None, max_length=200)
    base: SpecObject = Field(description="The job spec each trial starts from.")
    space: dict[str, Range] = Field(
        min_length=1,
        max_length=32,
        description='Spec fields by dotted path, each with its range: {"choice": [...]}, '
        '{"uniform": [a, b]}, {"loguniform": [a, b]} or {"int": [a, b]}.',
    )
    metric: str = Field(
        default="val_loss",
        pattern=r"^[a-z][a-z0-9_]*$",
        max_length=64,
        description="A history metric: val_loss, val_accuracy, loss, accuracy, ...",
    )
    direction: Direction | None = Field(
        default=None, description="Default: maximize for an accuracy, else minimize."
    )
    sampler: Sampler = Field(default_factory=Sampler)
    max_trials: int | None = Field(
        default=None, ge=1, le=500, description="Required, except for a grid (its size)."
    )
    max_parallel: int = Field(default=2, ge=1, le=64)
    max_epochs_total: int | None = Field(
        default=None, ge=1, le=1_000_000, description="Stop starting and running trials "
        "once the trials have trained this many epochs in all."
    )  # fmt: skip
    early_stopping: EarlyStopping = Field(default_factory=EarlyStopping)

    @model_validator(mode="after")
    def _trials(self) -> "SearchCreate":
        if self.max_trials is None and self.sampler.type != "grid":
            raise ValueError("max_trials is required with the random and tpe samplers")
        return self


class Trial(BaseModel):
    number: int
    job_id: str
    params: dict[str, Any] = Field(description="Its value of each path of the space.")
    status: JobStatus | None = Field(description="Its job's status.")
    value: float | None = Field(description="Its best value of the metric so far.")
    best_epoch: int | None
    epochs_done: int = Field(description="The last epoch recorded; -1 before epoch 0.")
    stopped_early: bool
    stopped_at_epoch: int | None
    stop_reason: str | None = Field(examples=["stopped early at epoch 3: below the rung's median"])


class Best(BaseModel):
    number: int
    job_id: str
    value: float
    best_epoch: int | None
    params: dict[str, Any]


class Budget(BaseModel):
    max_trials: int
    trials_started: int
    max_parallel: int
    max_epochs_total: int | None
    epochs_spent: int = Field(description="Epochs its trials have trained (epoch 0 is free).")
    epochs_per_trial: int


class SearchPublic(BaseModel):
    id: str
    name: str | None
    status: SearchStatus
    error: str | None
    metric: str
    direction: Direction
    sampler: Sampler
    early_stopping: EarlyStopping
    space: dict[str, Any]
    budget: Budget
    trials: list[Trial] = Field(description="In the order they were started.")
    best: Best | None
    arrival_order: list[int] = Field(description="Trial numbers in the order results arrived.")
    created_at: datetime
    finished_at: datetime | None


class SearchList(Page[SearchPublic]):
    """A page of searches, newest first."""


class Leaderboard(BaseModel):
    metric: str
    direction: Direction
    trials: list[Trial] = Field(description="Trials with a value, best first.")
