"""signed records (docs/devices.md): each record's signature, who made each review, complaint and visit, outlet phones

Revision ID: 0005_signed_records
Revises: 0004_device_keys
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_signed_records"
down_revision = "0004_device_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outlet_devices',
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('bound_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_outlet_devices_account_id_accounts')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_outlet_devices_outlet_id_outlets')),
    sa.PrimaryKeyConstraint('device_id', name=op.f('pk_outlet_devices'))
    )
    with op.batch_alter_table('outlet_devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outlet_devices_outlet_id'), ['outlet_id'], unique=False)

    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_id', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('visit_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('confirmed', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_complaints_frame_digest'), ['frame_digest', 'device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_visit_id'), ['visit_id', 'device_id'], unique=False)

    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_id', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('confirmed', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.drop_constraint(batch_op.f('uq_reviews_frame_digest'), type_='unique')
        batch_op.create_index(batch_op.f('ix_reviews_frame_digest'), ['frame_digest', 'device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_visit_id'), ['visit_id', 'device_id'], unique=False)

    with op.batch_alter_table('sync_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sig', sa.LargeBinary(length=64), nullable=True))

    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_id', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('household_pseudonym', sa.String(length=22), server_default='', nullable=False))
        batch_op.add_column(sa.Column('code_at', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('code_sig', sa.LargeBinary(length=64), nullable=True))
        batch_op.alter_column('household_device',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)

    # What was stored before is kept, attributed as far as it can be: a review or complaint to the device that pushed
    # it (its sync record says which). A visit's household device was only claimed by the worker's phone, never
    # proved: it is cleared (the check-in's body in sync_records still holds what was claimed).
    for table in ("reviews", "complaints"):
        op.execute(f"UPDATE {table} SET device_id = COALESCE((SELECT s.device_id FROM sync_records s WHERE s.id = {table}.id), '')")
    op.execute("UPDATE visits SET device_id = COALESCE((SELECT s.device_id FROM sync_records s WHERE s.kind = 'checkin' "
               "AND s.status = 'applied' AND s.body LIKE '%' || visits.id || '%' ORDER BY s.cursor LIMIT 1), '')")
    op.execute("UPDATE visits SET household_device = NULL")



def downgrade() -> None:
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.alter_column('household_device',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)
        batch_op.drop_column('code_sig')
        batch_op.drop_column('code_at')
        batch_op.drop_column('household_pseudonym')
        batch_op.drop_column('device_id')

    with op.batch_alter_table('sync_records', schema=None) as batch_op:
        batch_op.drop_column('sig')

    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_visit_id'))
        batch_op.drop_index(batch_op.f('ix_reviews_frame_digest'))
        batch_op.create_unique_constraint(batch_op.f('uq_reviews_frame_digest'), ['frame_digest'])
        batch_op.drop_column('confirmed')
        batch_op.drop_column('device_id')

    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaints_visit_id'))
        batch_op.drop_index(batch_op.f('ix_complaints_frame_digest'))
        batch_op.drop_column('confirmed')
        batch_op.drop_column('visit_id')
        batch_op.drop_column('device_id')

    with op.batch_alter_table('outlet_devices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outlet_devices_outlet_id'))

    op.drop_table('outlet_devices')
