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
    assert {"job", "job_transition", "epoch", "trained_model", "job_event"} <= tables
    migrate.downgrade(url)
    assert set(inspect(get_engine(url)).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(url)
