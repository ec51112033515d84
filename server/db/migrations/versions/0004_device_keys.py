"""sync: device keys (docs/devices.md): each device's Ed25519 public key and when it was registered

Revision ID: 0004_device_keys
Revises: 0003_sync_quota
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_device_keys"
down_revision = "0003_sync_quota"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows from before device keys keep a NULL key: such a device proves no request until it registers a key.
    op.add_column("devices", sa.Column("pub", sa.LargeBinary(length=32), nullable=True))
    op.add_column("devices", sa.Column("registered_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("registered_at")
        batch_op.drop_column("pub")
