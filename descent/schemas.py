"""What the server answers, as the client reads it: pydantic models of the API's objects.

Each keeps only the fields the client uses and ignores the rest, so a newer server does not
break an older client; ``api_object(answer)`` is the server's own JSON object, every field as
it was sent (what ``descent ... --output json`` prints).

They are written here rather than generated from the OpenAPI schema: the client needs a few
fields of each answer and must keep working against older and newer servers, which a generated
client's required fields would not (the schema is tested with a generated client instead).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from core.statuses import FINISHED


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore")
    _raw: dict[str, Any] | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_raw(cls, data: Any, handler: Any) -> Any:
        made = handler(data)
        if isinstance(data, dict):
            made._raw = data
        return made


def api_object(answer: _Response | list[Any] | dict[str, Any]) -> Any:
    """The server's JSON for an answer, every field as it was sent (the client's models keep
    only the fields they know)."""
    if isinstance(answer, list):
        return [api_object(item) for item in answer]
    if isinstance(answer, dict):
        return {key: api_object(value) for key, value in answer.items()}
    if isinstance(answer, _Response):
        return answer._raw if answer._raw is not None else answer.model_dump(mode="json")
    return answer


Item = TypeVar("Item")


class Page(_Response, Generic[Item]):
    """One page of a collection: ``next`` is the path of the next page, None on the last."""

    items: list[Item]
    total: int | None = None  # None: a server that does not count them
    limit: int | None = None
    offset: int = 0
    next: str | None = None


class Transition(_Response):
    status: str
    at: datetime


class Job(_Response):
    id: str
    name: str | None = None
    status: str
    spec: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    final_metrics: dict[str, float] | None = None
    model_id: str | None = None
    batch_id: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    transitions: list[Transition] = Field(default_factory=list)  # every status it has had

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def epochs(self) -> int:
        return int(self.spec.get("epochs", 0))


class Epoch(_Response):
    epoch: int
    loss: float | None = None
    accuracy: float | None = None
    val_loss: float | None = None
    val_accuracy: float | None = None
    learning_rate: float | None = None
    seconds: float = 0.0
    metrics: dict[str, float | None] = Field(default_factory=dict)

    def value(self, metric: str) -> float | None:
        known = getattr(self, metric, None) if metric in type(self).model_fields else None
        return known if known is not None else self.metrics.get(metric)


class Verdict(_Response):
    outcome: str
    success: bool = False
    summary: str = ""


class Diagnosis(_Response):
    code: str
    title: str = ""
    severity: str = "warning"
    since_epoch: int | None = None
    evidence: str = ""
    remedies: list[str] = Field(default_factory=list)


class History(_Response):
    job_id: str
    status: str
    epochs: list[Epoch]
    verdict: Verdict | None = None  # None: a server from before diagnoses
    diagnoses: list[Diagnosis] = Field(default_factory=list)


class BatchJob(_Response):
    id: str
    name: str | None = None
    index: int
    status: str
    varied: dict[str, Any] = Field(default_factory=dict)
    epochs: int = 0
    epochs_done: int = -1
    final_metrics: dict[str, float] | None = None
    error: str | None = None


class Standing(_Response):
    rank: int
    job_id: str
    name: str | None = None
    status: str
    varied: dict[str, Any] = Field(default_factory=dict)
    value: float
    epoch: int


class Curve(_Response):
    job_id: str
    name: str | None = None
    values: list[float | None]


class Curves(_Response):
    metric: str
    epochs: list[int]
    series: list[Curve]


class BatchSummary(_Response):
    """A batch as a list shows it: no jobs, leaderboard or curves."""

    id: str
    name: str | None = None
    status: str
    size: int
    max_parallel: int
    counts: dict[str, int] = Field(default_factory=dict)
    created_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class Batch(BatchSummary):
    metric: str
    goal: str
    leaderboard: list[Standing]
    jobs: list[BatchJob]
    curves: Curves


class JobRef(_Response):
    id: str
    name: str | None = None


class Model(_Response):
    id: str
    dataset: str
    class_names: list[str]
    input_shape: list[int]
    job: JobRef | None = None
    task: str = "classification"
    metrics: dict[str, float] = Field(default_factory=dict)
    created_at: datetime | None = None


class ModelVersion(_Response):
    name: str
    version: int
    model_id: str
    dataset: str = ""
    task: str = "classification"
    metrics: dict[str, float] = Field(default_factory=dict)
    aliases: list[str] = Field(default_factory=list)
    created_at: datetime | None = None


class ModelAlias(_Response):
    name: str
    alias: str
    version: int
    model_id: str


class LayerSummary(_Response):
    index: int
    type: str
    output_shape: list[int]
    params: int


class ModelSummary(_Response):
    dataset: str
    task: str
    input_shape: list[int]
    output_shape: list[int]
    layers: list[LayerSummary]
    total_params: int
    trainable_params: int


class SpecWarning(_Response):
    field: str
    message: str
    code: str | None = None  # the diagnosis it foretells (the history's vocabulary)


class SpecCheck(_Response):
    """``POST /v1/jobs/validate``'s answer: the resolved spec, its model and its warnings."""

    spec: dict[str, Any]
    summary: ModelSummary
    warnings: list[SpecWarning] = Field(default_factory=list)


class Dataset(_Response):
    name: str
    title: str = ""
    input_shape: list[int] = Field(default_factory=list)
    num_classes: int = 0
    class_names: list[str] = Field(default_factory=list)
    train_size: int = 0
    test_size: int = 0
    source: str = ""
    id: str | None = None
    builtin: bool = True
    task: str = "classification"
    target_size: int = 0
    feature_names: list[str] | None = None
    created_at: datetime | None = None

    @property
    def rows(self) -> int:
        return self.train_size + self.test_size


class Prediction(_Response):
    label: str
    class_index: int
    probabilities: list[float]


class PredictAnswer(_Response):
    model_id: str
    scale: str | None = None  # how the server read the numbers sent (a newer server says)
    predictions: list[Prediction]
