"""the model registry: names per owner, their numbered versions and their aliases

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registered_model",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registered_model")),
        sa.UniqueConstraint("owner", "name", name="uq_registered_model_owner_name"),
    )
    op.create_index(op.f("ix_registered_model_owner"), "registered_model", ["owner"])
    op.create_table(
        "model_version",
        sa.Column("registered_model_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["registered_model_id"],
            ["registered_model.id"],
            name=op.f("fk_model_version_registered_model_id_registered_model"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["trained_model.id"],
            name=op.f("fk_model_version_model_id_trained_model"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("registered_model_id", "version", name=op.f("pk_model_version")),
    )
    op.create_index(op.f("ix_model_version_model_id"), "model_version", ["model_id"])
    op.create_table(
        "model_alias",
        sa.Column("registered_model_id", sa.String(length=32), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["registered_model_id"],
            ["registered_model.id"],
            name=op.f("fk_model_alias_registered_model_id_registered_model"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registered_model_id", "version"],
            ["model_version.registered_model_id", "model_version.version"],
            name=op.f("fk_model_alias_registered_model_id_model_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("registered_model_id", "alias", name=op.f("pk_model_alias")),
    )


def downgrade() -> None:
    op.drop_table("model_alias")
    op.drop_index(op.f("ix_model_version_model_id"), table_name="model_version")
    op.drop_table("model_version")
    op.drop_index(op.f("ix_registered_model_owner"), table_name="registered_model")
    op.drop_table("registered_model")
