"""The model registry's bodies: names, their versions and aliases (services/registry.py)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.examples import CREATED, FINAL_METRICS, FINISHED, JOB_ID
from api.schemas.pages import Page
from training.vocabulary import Task

NAME = "mnist-digits"

VERSION_EXAMPLE: dict[str, Any] = {
    "name": NAME,
    "version": 2,
    "model_id": JOB_ID,
    "dataset": "mnist",
    "task": "classification",
    "metrics": FINAL_METRICS,
    "aliases": ["production"],
    "created_at": FINISHED,
}


class VersionCreate(BaseModel):
    """The trained model to register as the name's next version."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"model_id": JOB_ID}]}
    )

    model_id: str = Field(
        min_length=1,
        max_length=200,
        description="The trained model's id (its job's id), or a reference to one "
        "(NAME, NAME@ALIAS, NAME/versions/N). Its job must have succeeded.",
    )


class AliasUpdate(BaseModel):
    """The version an alias is to point at."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"version": 2}]})

    version: int = Field(ge=1, le=999_999_999, description="A version of the name.")


class ModelVersionPublic(BaseModel):
    """A version of a name: the trained model it is, and the aliases pointing at it."""

    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [VERSION_EXAMPLE]}
    )

    name: str
    version: int = Field(description="Counts up from 1 per name; never reused.")
    model_id: str = Field(description="The trained model (the id of the job that trained it).")
    dataset: str
    task: Task
    metrics: dict[str, float] = Field(description="The model's final epoch's metrics.")
    aliases: list[str] = Field(description="The aliases pointing at this version.")
    created_at: datetime = Field(description="When it was registered.")


class RegisteredModelPublic(BaseModel):
    """A name: how many versions it has, its latest, and where its aliases point."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "name": NAME,
                    "latest_version": 2,
                    "versions": 2,
                    "aliases": {"production": 2, "staging": 2},
                    "created_at": CREATED,
                    "updated_at": FINISHED,
                }
            ]
        },
    )

    name: str
    latest_version: int | None = Field(
        description="The highest version: what NAME alone (or NAME@latest) serves."
    )
    versions: int = Field(description="How many versions the name has.")
    aliases: dict[str, int] = Field(description="Each alias and the version it points at.")
    created_at: datetime
    updated_at: datetime = Field(description="When a version was last registered.")


class AliasPublic(BaseModel):
    """An alias, the version it now points at, and that version's trained model."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": NAME, "alias": "production", "version": 2, "model_id": JOB_ID,
                 "updated_at": FINISHED}
            ]
        }
    )  # fmt: skip

    name: str
    alias: str
    version: int
    model_id: str = Field(description="What NAME@ALIAS now serves.")
    updated_at: datetime = Field(description="When it was last moved.")


class RegisteredModelList(Page[RegisteredModelPublic]):
    """A page of model names."""


class ModelVersionList(Page[ModelVersionPublic]):
    """A page of a name's versions, newest first."""
