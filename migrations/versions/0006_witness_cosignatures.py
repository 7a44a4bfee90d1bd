"""witness cosignatures: what each configured witness cosigned of each site's log

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 01:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('witness_cosignatures',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('witness_url', sa.String(length=500), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('cosignature', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_witness_cosignatures_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_witness_cosignatures'))
    )
    with op.batch_alter_table('witness_cosignatures', schema=None) as batch_op:
        batch_op.create_index('ix_witness_cosignatures_site_witness', ['site_id', 'witness_url'], unique=False)


def downgrade():
    with op.batch_alter_table('witness_cosignatures', schema=None) as batch_op:
        batch_op.drop_index('ix_witness_cosignatures_site_witness')

    op.drop_table('witness_cosignatures')
