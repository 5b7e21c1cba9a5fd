from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypeAliasType

from api.schemas.pages import Page

DatasetTask = TypeAliasType("DatasetTask", Literal["classification", "regression"])


class DatasetPublic(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    name: str
    title: str
    input_shape: list[int] = Field(description="Shape of one row of x.")
    num_classes: int = Field(description="0 for a regression data set.")
    class_names: list[str]
    train_size: int
    test_size: int = Field(description="0 when the data set has no test split.")
    source: str
    id: str | None = Field(default=None, description="An uploaded data set's id; null if built in.")
    builtin: bool = True
    task: DatasetTask = Field(default="classification", description="classification or regression.")
    target_size: int = Field(default=0, description="Regression: numbers to predict per row.")
    feature_names: list[str] | None = Field(
        default=None, description="A CSV upload's feature columns, in the order rows hold them."
    )
    created_at: datetime | None = None


class DatasetList(Page[DatasetPublic]):
    """A page of data sets: the built-in ones first, then uploads, oldest first."""


class DatasetCreate(BaseModel):
    """A small data set as JSON: the rows ``x`` and their labels ``y``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "line", "task": "regression", "x": [[1], [2]], "y": [3, 5]}]
        },
    )

    name: str = Field(
        description="Unique among your data sets; your jobs name it in dataset.name. "
        "Letters, digits, _ . -"
    )
    # Inline, not the named DatasetTask: the upload route writes this schema into its body
    # by hand (it also takes multipart), where a reference to a definition would dangle.
    task: Literal["classification", "regression"]
    x: list[Any] = Field(
        min_length=1,
        description="One row per example: a list of numbers (or nested lists, e.g. an image).",
    )
    y: list[Any] = Field(
        min_length=1,
        description="One label per row: numbers (or lists of numbers) for regression; class "
        "names, class indices or one-hot rows for classification.",
    )
    class_names: list[str] | None = Field(
        default=None, description="Classification: names for class indices 0, 1, ... in y."
    )
