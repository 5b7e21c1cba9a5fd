"""The migrations build the schema the models describe, and undo it."""

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from models.db import get_engine
from processes import migrate


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


def test_data_sets_keep_their_rows_and_become_unique_per_owner(empty_database: str):
    """0007 gives uploaded data sets an owner ("local" for the ones already there) and makes
    names unique per owner; going back refuses while two owners share a name."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    url = empty_database
    migrate.downgrade(url)  # the PostgreSQL database is shared by this module's tests
    command.upgrade(migrate.alembic_config(url), "0006")
    insert = (
        "INSERT INTO dataset (id, name, task, input_shape, rows, class_names, target_size, "
        "data_key, created_at, updated_at{owner}) VALUES (:id, 'points', 'regression', '[1]', "
        "2, '[]', 1, 'k', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP{value})"
    )
    with get_engine(url).begin() as connection:
        connection.execute(text(insert.format(owner="", value="")), {"id": "d1"})
    migrate.upgrade(url)
    owned = insert.format(owner=", owner", value=", :owner")
    with get_engine(url).begin() as connection:
        assert connection.execute(text("SELECT id, owner FROM dataset")).all() == [("d1", "local")]
        connection.execute(text(owned), {"id": "d2", "owner": "bob"})
    with pytest.raises(IntegrityError), get_engine(url).begin() as connection:
        connection.execute(text(owned), {"id": "d3", "owner": "bob"})
    with pytest.raises(RuntimeError, match="more than one owner has a data set named points"):
        migrate.downgrade(url, "0006")
    with get_engine(url).begin() as connection:
        connection.execute(text("DELETE FROM dataset WHERE id = 'd2'"))
    migrate.downgrade(url, "0006")
    with get_engine(url).connect() as connection:
        assert connection.execute(text("SELECT id, name FROM dataset")).all() == [("d1", "points")]
    migrate.upgrade(url)


def test_existing_uploads_go_to_the_one_owner_whose_jobs_name_them(empty_database: str):
    """On a server that ran with auth required before 0007, jobs had owners already: an upload
    that only one owner's jobs name (by name or id) becomes that owner's, so they keep it; one
    that no job names, or that several owners' jobs name, stays "local"."""
    import json

    from sqlalchemy import text

    from models.db import session_scope
    from services import datasets

    url = empty_database
    migrate.downgrade(url)  # the PostgreSQL database is shared by this module's tests
    command.upgrade(migrate.alembic_config(url), "0006")
    uploads = {"d1": "points", "d2": "shared", "d3": "unused", "d4": "lines", "d5": "mine"}
    named = [  # (job owner, what its spec's dataset.name says)
        ("alice", "points"),
        ("alice", "d1"),  # by id
        ("alice", "shared"),
        ("bob", "d2"),  # the same data set, by id, in another owner's job
        ("bob", "d4"),
        ("local", "mine"),
        ("carol", "mnist"),  # a built-in one
    ]
    with get_engine(url).begin() as connection:
        for dataset_id, name in uploads.items():
            connection.execute(
                text(
                    "INSERT INTO dataset (id, name, task, input_shape, rows, class_names, "
                    "target_size, data_key, created_at, updated_at) VALUES (:id, :name, "
                    "'regression', '[1]', 2, '[]', 1, 'k', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"id": dataset_id, "name": name},
            )
        specs = [json.dumps({"dataset": {"name": name}}) for _, name in named]
        specs += ["{}", json.dumps({"dataset": "points"}), json.dumps(["points"])]
        owners = [owner for owner, _ in named] + ["dave", "dave", "dave"]
        for number, (owner, spec) in enumerate(zip(owners, specs, strict=True)):
            connection.execute(
                text(
                    "INSERT INTO job (id, status, spec, owner, created_at, updated_at) VALUES "
                    "(:id, 'succeeded', :spec, :owner, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"id": f"j{number}", "spec": spec, "owner": owner},
            )
    migrate.upgrade(url)
    with get_engine(url).connect() as connection:
        found = dict(connection.execute(text("SELECT name, owner FROM dataset")).all())
    assert found == {
        "points": "alice",
        "shared": "local",
        "unused": "local",
        "lines": "bob",
        "mine": "local",
    }
    with session_scope(url) as session:  # what alice's jobs and requests now find
        assert datasets.get_uploaded(session, "points", "alice").id == "d1"
        assert datasets.find_uploaded(session, "points", "local") is None
