"""A job's statuses, and the ones it moves no more from: the one list the server, the Python
client, the test harness and (through ``GET /v1/statuses``) the page read."""

from __future__ import annotations

import enum


class JobStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    cancelling = "cancelling"  # a cancel was asked for; the worker stops within one batch
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def finished(self) -> bool:
        return self.value in FINISHED


# Plain strings, so a status read from JSON or a database row is looked up as it is.
FINISHED = frozenset({JobStatus.succeeded.value, JobStatus.failed.value, JobStatus.cancelled.value})
