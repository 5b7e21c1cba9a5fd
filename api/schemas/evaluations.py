"""Where a trained model is wrong: the answer of GET /v1/jobs/{id}/evaluation."""

from pydantic import BaseModel, ConfigDict, Field

from training.vocabulary import Task


class ClassScores(BaseModel):
    """One class's scores on the evaluated rows."""

    model_config = ConfigDict(populate_by_name=True)

    class_: str = Field(alias="class", description="The class name.")
    precision: float = Field(description="Of the rows predicted this class, the share that are.")
    recall: float = Field(description="Of the rows of this class, the share predicted so.")
    f1: float = Field(description="The harmonic mean of precision and recall.")
    support: int = Field(description="How many evaluated rows are of this class.")


class Misclassified(BaseModel):
    """One of the most confident mistakes."""

    index: int = Field(description="Its place in the list, most confident first.")
    row: int = Field(description="Its row among the evaluated rows (0-based).")
    true: str = Field(description="Its class.")
    predicted: str = Field(description="The class the model predicted.")
    confidence: float = Field(description="The model's output for the predicted class.")
    image: str | None = Field(
        description="The input as the model saw it, a 0-255 PNG: "
        "/v1/jobs/{id}/evaluation/misclassified/{index}.png; null when the input is not an image."
    )


class Residuals(BaseModel):
    """Predicted minus true, over every evaluated row and output (regression)."""

    count: int
    mean: float | None = None
    std: float | None = None
    mae: float | None = Field(default=None, description="The mean absolute residual.")
    rmse: float | None = Field(default=None, description="The root mean squared residual.")
    max_abs: float | None = None
    p50_abs: float | None = Field(default=None, description="The median absolute residual.")
    p90_abs: float | None = Field(default=None, description="The 90th percentile of |residual|.")


class Evaluation(BaseModel):
    """A trained model on its job's validation rows (else the test rows), with the weights it
    keeps: for classification the confusion matrix, per-class scores and the most confident
    mistakes; for regression its residuals."""

    job_id: str
    epoch: int | None = Field(
        description="The epoch whose weights the model holds (the restored one when early "
        "stopping restored the best weights)."
    )
    split: str = Field(description='"validation", or "test" when the job held out no rows.')
    rows: int = Field(description="How many rows were evaluated.")
    task: Task
    class_names: list[str] = Field(
        description="The classes, in the matrix's order; [] for regression."
    )
    accuracy: float | None = Field(
        description="The matrix's diagonal over its total: the history's val_accuracy of "
        "`epoch` when the split is validation; null for regression."
    )
    confusion: list[list[int]] | None = Field(
        description="confusion[true][predicted]: how many rows of each class were predicted as "
        "each class; it sums to `rows`. Null for regression."
    )
    per_class: list[ClassScores] | None = Field(description="Null for regression.")
    misclassified: list[Misclassified] = Field(
        description="At most 36 misclassified rows, most confident first."
    )
    residuals: Residuals | None = Field(description="Regression only.")
