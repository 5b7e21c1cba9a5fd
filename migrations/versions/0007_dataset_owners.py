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
        # Data sets uploaded before owners existed belong to the built-in "local" owner.
        batch_op.add_column(
            sa.Column("owner", sa.String(length=64), nullable=False, server_default="local")
        )
        batch_op.create_index(batch_op.f("ix_dataset_owner"), ["owner"])
        batch_op.drop_constraint("uq_dataset_name", type_="unique")
        batch_op.create_unique_constraint("uq_dataset_owner_name", ["owner", "name"])


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
