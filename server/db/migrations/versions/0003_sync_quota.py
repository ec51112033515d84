"""sync: per-device daily quota counters; the full size of each record's body (a rejected one keeps a prefix)

Revision ID: 0003_sync_quota
Revises: 0002_accounts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_sync_quota"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("devices", sa.Column("quota_day", sa.Integer(), server_default="0", nullable=False))
    op.add_column("devices", sa.Column("quota_records", sa.Integer(), server_default="0", nullable=False))
    op.add_column("devices", sa.Column("quota_bytes", sa.BigInteger(), server_default="0", nullable=False))
    op.add_column("sync_records", sa.Column("body_size", sa.BigInteger(), nullable=True))
    # Every body stored so far is whole: its size is its length in bytes.
    size = "length(CAST(body AS BLOB))" if op.get_bind().dialect.name == "sqlite" else "octet_length(body)"
    op.execute(f"UPDATE sync_records SET body_size = {size}")


def downgrade() -> None:
    with op.batch_alter_table("sync_records", schema=None) as batch_op:
        batch_op.drop_column("body_size")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("quota_bytes")
        batch_op.drop_column("quota_records")
        batch_op.drop_column("quota_day")
