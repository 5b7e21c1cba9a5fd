"""why it learns: layer health per epoch, a model's evaluation, learning-rate range tests

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("epoch", sa.Column("health", sa.JSON(), nullable=True))
    op.add_column("trained_model", sa.Column("evaluation", sa.JSON(), nullable=True))
    with op.batch_alter_table("job") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="train")
        )
        batch.add_column(sa.Column("lr_find", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.drop_column("lr_find")
        batch.drop_column("kind")
    op.drop_column("trained_model", "evaluation")
    op.drop_column("epoch", "health")
