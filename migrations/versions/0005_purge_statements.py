"""purge statements: a signed statement of each retention purge

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 01:10:00.000000

A log whose first records are gone verifies only when signed purge statements cover them
(proof/purges.py). A log purged before this revision has none: `accord proofs verify` reports
its missing prefix until the operator re-exports what it needs (the old "purge" checkpoints
are unsigned as to their reason and prove nothing about a purge).

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('purge_statements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('first_position', sa.BigInteger(), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_purge_statements_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purge_statements'))
    )
    with op.batch_alter_table('purge_statements', schema=None) as batch_op:
        batch_op.create_index('ix_purge_statements_site_first', ['site_id', 'first_position'], unique=False)


def downgrade():
    with op.batch_alter_table('purge_statements', schema=None) as batch_op:
        batch_op.drop_index('ix_purge_statements_site_first')

    op.drop_table('purge_statements')
