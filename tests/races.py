"""Make a race happen on purpose: another session commits a change at a chosen statement of the
code under test, as a worker or the recovery sweep could at that moment on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from core.settings import Settings
from models.db import get_engine, session_scope


def statement(start: str, *, containing: str = "", nth: int = 1) -> Callable[[str], bool]:
    """Picks the ``nth`` SQL statement that starts with ``start`` (and contains ``containing``),
    both case-insensitive."""
    seen: list[str] = []

    def picks(sql: str) -> bool:
        text = sql.lstrip().upper()
        if not (text.startswith(start.upper()) and containing.upper() in text):
            return False
        seen.append(sql)
        return len(seen) == nth

    return picks


@contextmanager
def committed(
    change: Callable[[Session], Any],
    *,
    before: Callable[[str], bool] | None = None,
    after: Callable[[str], bool] | None = None,
) -> Iterator[None]:
    """Within the block, ``change(session)`` commits once from a session of its own: just
    before the statement ``before`` picks runs, or just after the one ``after`` picks has run.
    Fails the test if that statement never ran."""
    picks = before or after
    assert picks is not None and (before is None or after is None)
    url = Settings().resolved_database_url
    engine = get_engine(url)
    done: list[bool] = []

    def commit_change(_conn, _cursor, sql: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if not done and picks(sql):
            done.append(True)  # first: the change's own statements must not trigger it again
            with session_scope(url) as other:
                change(other)

    name = "before_cursor_execute" if before is not None else "after_cursor_execute"
    event.listen(engine, name, commit_change)
    try:
        yield
    finally:
        event.remove(engine, name, commit_change)
    assert done, "the statement the change was to race with never ran"
