"""sites: visitor options refusal_interval_days, reload_on_withdraw, floating_button

How long a refusal (or a closed banner) is remembered before the banner asks again, whether a
decision that takes away a category whose code ran reloads the page, and whether a floating
"privacy settings" button stays on the page. Existing sites get the defaults.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 04:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (SQLite supports it with a constant default), never batch mode: batch
    # mode rebuilds the sites table on SQLite, and dropping the old one cascades to every
    # table that references it (consent records included) when foreign keys are on.
    op.add_column('sites', sa.Column('refusal_interval_days', sa.Integer(), nullable=False, server_default='182'))
    op.add_column('sites', sa.Column('reload_on_withdraw', sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column('sites', sa.Column('floating_button', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    # SQLite (3.35+) drops a column in place; PostgreSQL too.
    op.drop_column('sites', 'floating_button')
    op.drop_column('sites', 'reload_on_withdraw')
    op.drop_column('sites', 'refusal_interval_days')
