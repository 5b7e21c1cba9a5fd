"""One worker's attempt at a job: the state that travels together through the task.

The attempt is the ``attempts`` count its claim made. Once the sweep has taken the job over,
because this worker's heartbeat was late, a later attempt owns the job: this one's writes are
refused (``services.recovery.hold``) and it stops with ``Superseded``. Every write the worker
makes for the job goes through ``Attempt.holding``, which asks that question once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from core.settings import Settings
from models.db import session_scope
from services import recovery
from services.artifacts import ArtifactStore

if TYPE_CHECKING:
    from models.db import Session


class Superseded(Exception):
    """This worker's attempt no longer holds its job: the sweep took the job over and a later
    attempt resumes it (or it ended meanwhile). The attempt stops and writes nothing more."""

    def __init__(self, job_id: str, attempt: int) -> None:
        super().__init__(f"job {job_id}: attempt {attempt} was taken over")
        self.job_id, self.attempt = job_id, attempt


class Attempt:
    """Attempt ``number`` at job ``job_id``: its settings, database and artifact store, and the
    queue the job came from (a label on the worker's metrics)."""

    def __init__(
        self,
        job_id: str,
        number: int,
        settings: Settings,
        store: ArtifactStore,
        queue: str = "any",
    ) -> None:
        self.job_id = job_id
        self.number = number
        self.queue = queue
        self.settings = settings
        self.store = store
        self.database_url = settings.resolved_database_url

    def session(self) -> AbstractContextManager[Session]:
        """A unit of work of its own: for reads, and best-effort clean-ups that need no hold."""
        return session_scope(self.database_url)

    @contextmanager
    def holding(self, **values: Any) -> Iterator[Session]:
        """A unit of work that starts by holding the job (its heartbeat, and ``values``, are
        written); raises ``Superseded``, writing nothing, once the job is no longer this
        attempt's. The hold keeps the job row locked until the commit."""
        with self.session() as session:
            if not recovery.hold(session, self.job_id, self.number, **values):
                raise Superseded(self.job_id, self.number)
            yield session

    def beat(self) -> bool:
        """Write the heartbeat alone; False (nothing written) once the job is not ours."""
        with self.session() as session:
            return recovery.hold(session, self.job_id, self.number)

    def check_held(self) -> None:
        """Raise ``Superseded`` if the job is no longer this attempt's; a read, for a stop
        before slow work (exporting, uploading) whose result would be thrown away."""
        with self.session() as session:
            if not recovery.holds(session, self.job_id, self.number):
                raise Superseded(self.job_id, self.number)
