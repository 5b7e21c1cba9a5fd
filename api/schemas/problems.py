"""The one error body (RFC 9457 problem details), as named schemas for the OpenAPI document.

api/errors.py writes these bodies; api/openapi.py documents every error response with
``Problem``. Optional members are left out of a body, never sent as null.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# A spec refused at submission, as POST /v1/jobs answers it.
EXAMPLE: dict[str, Any] = {
    "type": "/problems/spec_invalid",
    "title": "Invalid job spec",
    "status": 422,
    "detail": "model.layers[1].units: Input should be greater than or equal to 1",
    "instance": "/v1/jobs",
    "code": "spec_invalid",
    "fix": "correct the fields listed in errors; GET /docs shows the schema and allowed values",
    "errors": [
        {
            "field": "model.layers[1].units",
            "message": "Input should be greater than or equal to 1",
            "type": "greater_than_equal",
            "found": 0,
            "allowed": ">= 1",
            "fix": "use a value >= 1",
        }
    ],
}


class ProblemItem(BaseModel):
    """One bad field (in a batch, of one item): what is wrong with it and how to fix it."""

    # A refusal may add what it knows (the job_id and status of a job that uses a data set).
    model_config = ConfigDict(extra="allow")

    field: str = Field(
        description='Where: a dotted path into the body ("model.layers[1].units"), a query '
        'parameter\'s name, or "body".'
    )
    message: str = Field(description="What is wrong with it.")
    type: str | None = Field(
        default=None, description='The kind of check that failed, e.g. "missing", "enum".'
    )
    found: Any = Field(default=None, description="The value sent (shortened if long).")
    allowed: Any = Field(
        default=None, description="What is allowed: a list of values, a bound or a rule."
    )
    fix: str | None = Field(default=None, description="How to fix it.")
    item: int | None = Field(
        default=None, description="In a batch: the 0-based position of the item in the batch."
    )
    name: str | None = Field(default=None, description="In a batch: the item's job name.")


class Problem(BaseModel):
    """Every error: what happened, its stable code, and how to fix it (RFC 9457)."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    type: str = Field(
        description="A URI reference to a page that explains this kind of problem: "
        "/problems/{code}.",
        json_schema_extra={"format": "uri-reference"},
    )
    title: str = Field(
        description="A short summary of the kind: the same for every problem of a code."
    )
    status: int = Field(description="The HTTP status code.", ge=400, le=599)
    detail: str = Field(description="What went wrong with this request, in words.")
    instance: str = Field(description="The path of the request that failed.")
    code: str = Field(
        description="A stable, snake_case name of the kind of problem to branch on (e.g. "
        "spec_invalid, job_not_found, job_finished, model_not_ready, payload_too_large); "
        "/problems lists every code. New codes may be added: treat an unknown one by its "
        "status."
    )
    fix: str | None = Field(default=None, description="How to fix it, where there is a fix.")
    errors: list[ProblemItem] | None = Field(
        default=None, description="One entry per bad field or batch item, where there are any."
    )
