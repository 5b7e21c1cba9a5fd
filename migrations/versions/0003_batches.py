"""batches: many jobs submitted at once, run at most max_parallel at a time

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "batch",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("max_parallel", sa.Integer(), nullable=False),
        sa.Column("dispatched", sa.Integer(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch")),
    )
    with op.batch_alter_table("job") as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("batch_index", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_job_batch_id"), ["batch_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_job_batch_id_batch"), "batch", ["batch_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("job") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_job_batch_id_batch"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_job_batch_id"))
        batch_op.drop_column("batch_index")
        batch_op.drop_column("batch_id")
    op.drop_table("batch")
