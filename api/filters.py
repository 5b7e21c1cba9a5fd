"""The filters a list of jobs takes as query parameters, for ``GET /v1/jobs`` and a batch's jobs."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Depends, Query

from core.statuses import JobStatus
from services.jobs import JobFilter, JobSort

Statuses = Annotated[
    list[JobStatus] | None,
    Query(description="Only jobs in these statuses; repeat it for several (?status=a&status=b)."),
]
Name = Annotated[
    str | None,
    Query(max_length=200, description="Only jobs whose name contains this, in any case."),
]
Dataset = Annotated[
    str | None,
    Query(max_length=200, description="Only jobs on this data set (a name, or an upload's id)."),
]
Sort = Annotated[
    JobSort,
    Query(description="The order: created_at, name or status; a leading - reverses it."),
]


def job_filter(
    status: Statuses = None,
    name: Name = None,
    dataset: Dataset = None,
    batch_id: Annotated[
        str | None, Query(max_length=64, description="Only the jobs of this batch.")
    ] = None,
    kind: Annotated[
        Literal["train", "lr_find"] | None,
        Query(description='Only training jobs ("train") or learning-rate range tests ("lr_find").'),
    ] = None,
    created_after: Annotated[
        datetime | None,
        Query(description="Only jobs created at or after this time (ISO 8601; UTC if no zone)."),
    ] = None,
    created_before: Annotated[
        datetime | None,
        Query(description="Only jobs created before this time (ISO 8601; UTC if no zone)."),
    ] = None,
    sort: Sort = JobSort.newest,
) -> JobFilter:
    return JobFilter(
        status=status or (),
        name=name,
        dataset=dataset,
        batch_id=batch_id,
        kind=kind,
        created_after=_utc(created_after),
        created_before=_utc(created_before),
        sort=sort,
    )


def batch_job_filter(
    status: Statuses = None,
    name: Name = None,
    dataset: Dataset = None,
    sort: Annotated[
        JobSort | None,
        Query(description="As for GET /v1/jobs; by default the batch's own order."),
    ] = None,
) -> JobFilter:
    return JobFilter(status=status or (), name=name, dataset=dataset, sort=sort)


def _utc(moment: datetime | None) -> datetime | None:
    """A time sent without a zone is read as UTC, the zone every time in the API is given in."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


JobFilterDep = Annotated[JobFilter, Depends(job_filter)]
BatchJobFilterDep = Annotated[JobFilter, Depends(batch_job_filter)]
