"""searches: a search, its trials and the results and decisions at its rungs

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trials_started", sa.Integer(), nullable=False),
        sa.Column("results", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search")),
    )
    op.create_index(op.f("ix_search_owner"), "search", ["owner"])
    op.create_table(
        "search_trial",
        sa.Column("search_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("asked_after", sa.Integer(), nullable=False),
        sa.Column("arrival", sa.Integer(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("best_epoch", sa.Integer(), nullable=True),
        sa.Column("stopped_at_epoch", sa.Integer(), nullable=True),
        sa.Column("stop_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["search_id"],
            ["search.id"],
            name=op.f("fk_search_trial_search_id_search"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_search_trial_job_id_job"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("search_id", "number", name=op.f("pk_search_trial")),
        sa.UniqueConstraint("search_id", "arrival", name="uq_search_trial_search_id_arrival"),
    )
    op.create_index(op.f("ix_search_trial_job_id"), "search_trial", ["job_id"], unique=True)
    op.create_table(
        "search_rung",
        sa.Column("search_id", sa.String(length=32), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["search_id"],
            ["search.id"],
            name=op.f("fk_search_rung_search_id_search"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("search_id", "epoch", "number", name=op.f("pk_search_rung")),
    )


def downgrade() -> None:
    op.drop_table("search_rung")
    op.drop_index(op.f("ix_search_trial_job_id"), table_name="search_trial")
    op.drop_table("search_trial")
    op.drop_index(op.f("ix_search_owner"), table_name="search")
    op.drop_table("search")
