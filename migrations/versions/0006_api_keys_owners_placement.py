"""API keys; an owner on jobs, batches and models; a job's queue and where it trained

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWNED = ("job", "batch", "trained_model")


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("admin", sa.Boolean(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_key_key_hash")),
    )
    op.create_index(op.f("ix_api_key_owner"), "api_key", ["owner"])
    for table in OWNED:
        with op.batch_alter_table(table) as batch_op:
            # Rows from before auth existed belong to the built-in "local" owner.
            batch_op.add_column(
                sa.Column("owner", sa.String(length=64), nullable=False, server_default="local")
            )
            batch_op.create_index(batch_op.f(f"ix_{table}_owner"), ["owner"])
    with op.batch_alter_table("job") as batch_op:
        batch_op.add_column(
            sa.Column("queue", sa.String(length=16), nullable=False, server_default="any")
        )
        batch_op.add_column(sa.Column("worker", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("host", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("device", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job") as batch_op:
        for column in ("device", "host", "worker", "queue"):
            batch_op.drop_column(column)
    for table in reversed(OWNED):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_owner"))
            batch_op.drop_column("owner")
    op.drop_index(op.f("ix_api_key_owner"), table_name="api_key")
    op.drop_table("api_key")
