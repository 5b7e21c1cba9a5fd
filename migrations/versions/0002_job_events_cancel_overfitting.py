"""job events for live progress; best epoch and overfitting on jobs and epochs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_job_event_job_id_job"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_event")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_job_event_job_id_id", "job_event", ["job_id", "id"])
    # Plain ALTER TABLE (SQLite >= 3.35 and PostgreSQL): batch mode would copy the job table,
    # and dropping the old copy would cascade-delete every row that refers to a job.
    for table in ("job", "epoch"):
        op.add_column(table, sa.Column("best_epoch", sa.Integer(), nullable=True))
        op.add_column(table, sa.Column("overfitting_since", sa.Integer(), nullable=True))


def downgrade() -> None:
    for table in ("epoch", "job"):
        op.drop_column(table, "overfitting_since")
        op.drop_column(table, "best_epoch")
    op.drop_index("ix_job_event_job_id_id", table_name="job_event")
    op.drop_table("job_event")
