from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from api.schemas.pages import Page
from api.schemas.specs import ModelSummary, SpecWarningPublic
from core.statuses import JobStatus
from training.diagnoses import DiagnosisCode, Outcome, Severity
from training.spec import Accelerator, JobSpec


class TransitionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: JobStatus
    at: datetime


class JobPublic(BaseModel):
    # Every field is always answered, defaults included, so the schema requires them all.
    model_config = ConfigDict(
        from_attributes=True, json_schema_serialization_defaults_required=True
    )

    id: str
    name: str | None
    kind: Literal["train", "lr_find"] = Field(
        default="train",
        description='"train", or "lr_find": a learning-rate range test (GET /v1/lr-find/{id}).',
    )
    status: JobStatus = Field(
        description="queued, running, cancelling (stopping within one batch), succeeded, "
        "failed or cancelled"
    )
    spec: JobSpec = Field(description="The resolved spec: every derived value written out.")
    summary: ModelSummary | None = Field(
        default=None, description="Per layer its output shape and parameters, and the totals."
    )
    warnings: list[SpecWarningPublic] = Field(
        default_factory=list, description="Legal choices known to train badly."
    )
    error: str | None = Field(description="Why the job failed, when it did.")
    final_metrics: dict[str, float] | None = Field(
        description="The last epoch's metrics (the best epoch's when early stopping restored "
        "it, with restored_epoch and stopped_epoch), and test_* scores when the test split was "
        "held out of validation."
    )
    model_id: str | None = Field(
        description="The trained model's id, once the job succeeded (or was cancelled while "
        "running: its last weights are kept)."
    )
    best_epoch: int | None = Field(
        default=None, description="The epoch with the lowest validation loss so far."
    )
    attempts: int = Field(
        default=0,
        description="How many times a worker has started the job; more than 1 means a worker "
        "died and the job was resumed from its last checkpoint.",
    )
    checkpoint_epoch: int | None = Field(
        default=None,
        description="The last epoch checkpointed (the resume point while the job runs; the "
        "checkpoints are deleted once the job's model is stored).",
    )
    overfitting_since: int | None = Field(
        default=None,
        description="Set when validation loss rose for DESCENT_OVERFITTING_PATIENCE epochs in a "
        "row while training loss fell: the first of those epochs.",
    )
    batch_id: str | None = Field(default=None, description="The batch it was submitted in.")
    queue: Accelerator = Field(
        default="any", description="gpu, cpu or any (resources.accelerator)."
    )
    queue_position: int | None = Field(
        default=None,
        description="While queued (GET /v1/jobs/{id} only): 1 = next in its queue to start.",
    )
    worker: str | None = Field(default=None, description="The Celery worker that trained it.")
    host: str | None = Field(default=None, description="The machine that trained it.")
    device: str | None = Field(default=None, description='"cpu" or "gpu:N".')
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    transitions: list[TransitionPublic] = Field(description="Every status change with its time.")

    @field_validator("warnings", "attempts", mode="before")
    @classmethod
    def _null_as_empty(cls, value: Any, info: ValidationInfo) -> Any:
        """A NULL column (a row not yet flushed, or from before the column was filled) reads
        as no warnings and no attempts."""
        if value is not None:
            return value
        return [] if info.field_name == "warnings" else 0


class JobList(Page[JobPublic]):
    """A page of jobs."""


class LayerHealth(BaseModel):
    """One trainable layer's health at the end of an epoch, measured on a fixed sample of 256
    training rows (docs/diagnoses.md)."""

    index: int = Field(description="The layer's position in the spec's model.layers.")
    layer: str = Field(description="The Keras layer's name, <type>_<index>, e.g. dense_2.")
    type: str = Field(description="The spec layer type: dense, conv2d, batch_norm.")
    activation: str | None = Field(
        description="The activation on its output (its own, or an activation layer's right "
        "after it); null for none."
    )
    weight_norm: float | None = Field(description="L2 norm of its trainable weights.")
    gradient_norm: float | None = Field(
        description="L2 norm of the loss's gradient with respect to its weights."
    )
    update_ratio: float | None = Field(
        description="||w - w_previous_epoch|| / ||w_previous_epoch||; null at epoch 0."
    )
    dead_fraction: float | None = Field(
        description="relu only: share of units whose output is 0 on every sample row."
    )
    saturated_fraction: float | None = Field(
        description="sigmoid/tanh only: share of units pinned within 2% of a limit on at "
        "least 90% of the sample rows."
    )


class EpochPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True, json_schema_serialization_defaults_required=True
    )

    epoch: int = Field(description="0 is the untrained model, evaluated before the first step.")
    loss: float | None
    accuracy: float | None
    val_loss: float | None
    val_accuracy: float | None
    learning_rate: float | None
    seconds: float
    metrics: dict[str, float | None] = Field(description="Any further metric, by name.")
    best_epoch: int | None = Field(default=None, description="The best epoch as of this one.")
    overfitting_since: int | None = Field(
        default=None, description="The job's overfitting flag as of this epoch."
    )
    health: list[LayerHealth] | None = Field(
        default=None,
        description="Layer health on a fixed sample of training rows: per trainable layer its "
        "weight and gradient norms, update ratio, and dead or saturated units (docs/diagnoses.md).",
    )


class VerdictPublic(BaseModel):
    outcome: Outcome = Field(
        description="healthy, overfitting, underfitting or unhealthy (a warning diagnosis) for a "
        "finished job; diverged or not_learning whenever those are diagnosed; otherwise "
        "in_progress, failed or cancelled."
    )
    success: bool = Field(
        description="True only when the job succeeded and nothing of severity error (diverged, "
        "not_learning) was diagnosed: the only verdict shown as a success."
    )
    summary: str = Field(description="One plain sentence.")


class DiagnosisPublic(BaseModel):
    code: DiagnosisCode
    title: str
    severity: Severity = Field(
        description="error: the run failed to learn; warning: it learned, "
        "with a problem worth fixing."
    )
    since_epoch: int | None = Field(description="The epoch it began (or was first seen).")
    evidence: str = Field(description="What in the history shows it, with the numbers.")
    numbers: dict[str, float | int | str | bool | None] = Field(
        description="The evidence's numbers by name, for charts and scripts."
    )
    remedies: list[str] = Field(description="What to try, most likely first, with spec fields.")


class History(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    job_id: str
    status: JobStatus
    best_epoch: int | None = None
    overfitting_since: int | None = None
    epochs: list[EpochPublic]
    verdict: VerdictPublic = Field(
        description="How the run went, in one word and one sentence (docs/diagnoses.md)."
    )
    diagnoses: list[DiagnosisPublic] = Field(
        default_factory=list,
        description="Why it learns, or doesn't: each problem found in the history and layer "
        "health, with its evidence and remedies; errors first.",
    )
