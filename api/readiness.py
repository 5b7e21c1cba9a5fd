"""What ``GET /readyz`` asks: can this server reach the database, the broker and the store?

Each part is checked in a thread (a driver that blocks never holds up the event loop), all at
once, and each is given ``seconds``; one that runs past its time is reported as such and left
to end on its own. A part whose last check is still running is not asked again meanwhile: the
next probe waits on that same check, so a part that hangs (a firewall dropping packets) holds
one thread, however often the probe asks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from core import logs
from core.errors import Problem, Unavailable
from services.artifacts import ArtifactStore
from services.queue import Broker

CHECK_SECONDS = 2.0
MAX_ERROR_CHARS = 300

FIXES = {
    "database": "check DESCENT_DATABASE_URL and that the database is up",
    "broker": "check DESCENT_BROKER_URL and that the broker (Redis) is up",
    "artifact_store": "check DESCENT_ARTIFACT_STORE and its settings (the bucket exists, the "
    "endpoint answers; or the artifacts folder is writable)",
}


class Readiness:
    """One app's parts and the checks of them under way."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        broker: Broker,
        store: ArtifactStore,
        seconds: float = CHECK_SECONDS,
    ) -> None:
        def database() -> None:
            with sessions() as session:
                session.execute(text("SELECT 1"))

        self.seconds = seconds
        self.parts: dict[str, Callable[[], None]] = {
            "database": database,
            "broker": lambda: broker.check(self.seconds),
            "artifact_store": lambda: store.check(),
        }
        self._running: dict[str, asyncio.Future[None]] = {}

    async def failures(self) -> dict[str, str]:
        """Each part that did not answer in time, with what went wrong; empty when all did."""
        answers = await asyncio.gather(*(self._answer(name) for name in self.parts))
        return {name: error for name, error in zip(self.parts, answers, strict=True) if error}

    async def _answer(self, name: str) -> str | None:
        running = self._running.get(name)
        # (A check under way on another event loop, a test client's earlier one, is left.)
        if (
            running is None
            or running.done()
            or running.get_loop() is not asyncio.get_running_loop()
        ):
            running = asyncio.ensure_future(asyncio.to_thread(self.parts[name]))
            running.add_done_callback(_retrieve)
            self._running[name] = running
        try:
            await asyncio.wait_for(asyncio.shield(running), self.seconds)
        except TimeoutError:
            return f"no answer within {self.seconds:g} s"
        except Exception as exc:
            return describe(exc)
        return None


def _retrieve(check: asyncio.Future[None]) -> None:
    # A check that ended after its probe had answered: its error was reported as a timeout.
    if not check.cancelled():
        check.exception()


def describe(exc: BaseException) -> str:
    """The error's first line, the driver's own where a library wrapped it; no passwords."""
    cause = getattr(exc, "orig", None) or exc  # SQLAlchemy keeps the driver's error there
    words = (str(cause).strip().splitlines() or ["no message"])[0]
    return logs.redact(f"{type(cause).__name__}: {words}")[:MAX_ERROR_CHARS]


def not_ready(failed: dict[str, str]) -> Unavailable:
    """The 503 naming each part that failed and what it said."""
    return Unavailable(
        f"not ready: {', '.join(failed)} did not answer ("
        + "; ".join(f"{name}: {error}" for name, error in failed.items())
        + ")",
        fix="check that each part named is up and reachable with the server's settings "
        "(docs/operations.md: Health and readiness); the server's log says more",
        errors=[Problem(name, error, fix=FIXES[name]).as_dict() for name, error in failed.items()],
        code="not_ready",
    )
