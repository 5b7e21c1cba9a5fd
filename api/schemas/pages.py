"""One page of any collection: every list route answers in this shape.

Each collection names its own page (``class JobList(Page[JobPublic])``), so the OpenAPI schema
and the clients generated from it read ``JobList`` rather than ``Page_JobPublic_``.
"""

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    total: int = Field(description="How many items match, on every page together.")
    limit: int = Field(description="The most items a page holds (?limit=, 1-200, default 20).")
    offset: int = Field(description="How many matching items come before this page (?offset=).")
    next: str | None = Field(
        description="The path and query of the next page, filters kept; null on the last page.",
        examples=["/v1/jobs?status=failed&limit=20&offset=20"],
    )
