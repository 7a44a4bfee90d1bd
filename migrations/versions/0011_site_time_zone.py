"""sites: time_zone, the IANA zone the console shows the site's dates in

A display setting only: times stay stored in UTC, and exports and proofs stay in UTC. Existing
sites get "UTC", which is what the console showed before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 06:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN with a constant default, never batch mode (see 0009: batch mode rebuilds
    # the sites table on SQLite, which cascades to every table that references it).
    op.add_column('sites', sa.Column('time_zone', sa.String(length=64), nullable=False, server_default='UTC'))


def downgrade():
    op.drop_column('sites', 'time_zone')
