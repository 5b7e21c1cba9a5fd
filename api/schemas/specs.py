"""What a checked spec comes back with: the resolved spec, its model summary and warnings."""

from pydantic import BaseModel, Field

from training.diagnoses import DiagnosisCode
from training.layers import LayerType
from training.spec import JobSpec
from training.vocabulary import LabelEncoding, Task


class LayerSummary(BaseModel):
    index: int = Field(description="Position in spec.model.layers.")
    type: LayerType
    output_shape: list[int] = Field(description="Shape of one row's output, batch axis left out.")
    weights: int = Field(description="Weights w: kernel entries (batch_norm: its scale, gamma).")
    biases: int = Field(description="Biases b (batch_norm: its shift, beta).")
    params: int = Field(description="All the layer's parameters, as Keras counts them.")
    trainable_params: int = Field(description="The ones gradient descent changes.")


class Execution(BaseModel):
    """How the worker ran the fit, recorded once training starts (training/keras/execution.py)."""

    steps_per_execution: int = Field(
        description="Training steps run per call into TensorFlow, chosen from the measured "
        "step time (each call about 0.15 s): fewer host round trips, the same batches."
    )
    xla: bool = Field(description="Whether Keras compiled the training step with XLA.")
    forward_ms_per_row: float = Field(description="The measurement the choice came from.")
    fused_updates: bool = Field(
        default=False,
        description="Whether the optimizer's update ran as one fused TensorFlow kernel per "
        "weight computing Keras' formula (rmsprop, adam, adamw, sgd with momentum; not under "
        "XLA), instead of Keras' several element-wise operations: the same update to float32 "
        "rounding, faster.",
    )


class ModelSummary(BaseModel):
    dataset: str
    task: Task = Field(description="classification, binary or regression.")
    label_encoding: LabelEncoding = Field(
        description="How labels reach the loss, derived from it: one_hot, integer (class "
        "indices), binary (0/1) or values (regression targets)."
    )
    class_names: list[str] = Field(
        description="The model's outputs by index (binary: [no, yes]); empty for regression."
    )
    input_shape: list[int]
    output_shape: list[int]
    layers: list[LayerSummary]
    total_params: int = Field(description="How many parameters (w and b) the model has.")
    trainable_params: int
    non_trainable_params: int = Field(description="batch_norm's moving mean and variance.")
    execution: Execution | None = Field(
        default=None, description="How the fit ran; set once the job has started training."
    )


class SpecWarningPublic(BaseModel):
    field: str
    message: str = Field(description="Why this legal spec is known to train badly.")
    code: DiagnosisCode | None = Field(
        default=None,
        description="The diagnosis this spec is heading for (docs/diagnoses.md), the same word "
        "a finished job's history uses; null on warnings stored before codes existed.",
    )


class SpecCheck(BaseModel):
    spec: JobSpec = Field(description="The spec with every derived value written out.")
    summary: ModelSummary
    warnings: list[SpecWarningPublic] = Field(
        description="Legal but known to train badly; the job would still run."
    )
