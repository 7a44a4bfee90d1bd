"""device secrets: the SHA-256 of each device's secret, per site

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 00:40:00.000000

A device's first consent binds the secret its browser made; later consents, its history and
its erasure must present the same one. Devices recorded before this revision have no row:
their next consent binds one.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('device_secrets',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False, comment='personal data'),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('bound_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_device_secrets_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('device_id', 'site_id', name=op.f('pk_device_secrets'))
    )


def downgrade():
    op.drop_table('device_secrets')
