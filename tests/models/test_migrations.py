"""The migrations build the schema the models describe, and undo it."""

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from descent import migrate
from models.db import get_engine


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'schema.db'}"
    return request.getfixturevalue("postgres_url")


def test_migrations_match_the_models_and_downgrade_cleanly(empty_database: str):
    url = empty_database
    migrate.upgrade(url)
    command.check(migrate.alembic_config(url))  # raises if the models drifted from migrations
    tables = set(inspect(get_engine(url)).get_table_names())
    assert {"job", "job_transition", "epoch", "trained_model", "job_event", "dataset"} <= tables
    migrate.downgrade(url)
    assert set(inspect(get_engine(url)).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(url)


def test_upgrading_keeps_existing_jobs_and_their_history(empty_database: str):
    """Later migrations alter the job table; on SQLite that copies the table, which must not
    cascade-delete the rows that point at it."""
    from sqlalchemy import text

    url = empty_database
    command.upgrade(migrate.alembic_config(url), "0001")
    with get_engine(url).begin() as connection:
        connection.execute(
            text(
                "INSERT INTO job (id, status, spec, created_at, updated_at) "
                "VALUES ('j1', 'succeeded', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO epoch (job_id, epoch, seconds, metrics, created_at, updated_at) "
                "VALUES ('j1', 0, 1.0, '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    migrate.upgrade(url)
    with get_engine(url).connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM job")).scalar_one() == 1
        assert connection.execute(text("SELECT count(*) FROM epoch")).scalar_one() == 1
