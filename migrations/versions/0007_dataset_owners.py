"""an owner on uploaded data sets; their names are unique per owner, not across owners

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dataset") as batch_op:
        # Data sets uploaded before owners existed belong to the built-in "local" owner,
        # unless their jobs say whose they are (below).
        batch_op.add_column(
            sa.Column("owner", sa.String(length=64), nullable=False, server_default="local")
        )
        batch_op.create_index(batch_op.f("ix_dataset_owner"), ["owner"])
        batch_op.drop_constraint("uq_dataset_name", type_="unique")
        batch_op.create_unique_constraint("uq_dataset_owner_name", ["owner", "name"])
    _give_uploads_to_their_jobs_owner()


DATASET = sa.table(
    "dataset", sa.column("id", sa.String), sa.column("name", sa.String), sa.column("owner")
)
JOB = sa.table("job", sa.column("owner", sa.String), sa.column("spec", sa.JSON))


def _give_uploads_to_their_jobs_owner() -> None:
    """Jobs have had owners since 0006: on a server that already ran with auth required, a
    data set that only one owner's jobs name (spec.dataset.name, its name or its id) is that
    owner's, and their jobs (and the worker, which looks it up under the job's owner) must
    find it there. One that no job names, or that several owners' jobs name, stays "local".

    The specs are read here rather than with a database's JSON operators, which differ. Names
    were unique across owners before this revision, so no two data sets can end up with the
    same owner and name."""
    bind = op.get_bind()
    uploads = bind.execute(sa.select(DATASET.c.id, DATASET.c.name)).all()
    if not uploads:
        return
    owners_naming: dict[str, set[str]] = {}  # a dataset.name a job spec holds -> job owners
    for owner, spec in bind.execute(sa.select(JOB.c.owner, JOB.c.spec)):
        dataset = spec.get("dataset") if isinstance(spec, dict) else None
        name = dataset.get("name") if isinstance(dataset, dict) else None
        if isinstance(name, str):
            owners_naming.setdefault(name, set()).add(owner)
    for dataset_id, name in uploads:
        owners = owners_naming.get(name, set()) | owners_naming.get(dataset_id, set())
        if len(owners) == 1:
            (owner,) = owners
            bind.execute(sa.update(DATASET).where(DATASET.c.id == dataset_id).values(owner=owner))


def downgrade() -> None:
    shared = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT name FROM dataset GROUP BY name HAVING count(*) > 1 ORDER BY name LIMIT 10"
            )
        )
        .scalars()
        .all()
    )
    if shared:
        # Without owners a name must be unique again; choosing whose data set loses its name
        # is not this migration's call.
        raise RuntimeError(
            f"cannot downgrade below 0007: more than one owner has a data set named "
            f"{', '.join(shared)}; rename or delete all but one of each (table dataset) first"
        )
    with op.batch_alter_table("dataset") as batch_op:
        batch_op.drop_constraint("uq_dataset_owner_name", type_="unique")
        batch_op.create_unique_constraint("uq_dataset_name", ["name"])
        batch_op.drop_index(batch_op.f("ix_dataset_owner"))
        batch_op.drop_column("owner")
