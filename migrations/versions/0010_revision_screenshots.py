"""revision screenshots: PNGs of each revision's banner and preferences dialog

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 04:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('screenshot_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('snippet_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['revision_id'], ['revisions.id'], name=op.f('fk_screenshot_runs_revision_id_revisions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screenshot_runs')),
    sa.UniqueConstraint('revision_id', name=op.f('uq_screenshot_runs_revision_id'))
    )
    op.create_table('revision_screenshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('viewport', sa.String(length=16), nullable=False),
    sa.Column('layer', sa.String(length=16), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('png', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['revision_id'], ['revisions.id'], name=op.f('fk_revision_screenshots_revision_id_revisions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revision_screenshots')),
    sa.UniqueConstraint('revision_id', 'language', 'viewport', 'layer', name=op.f('uq_revision_screenshots_revision_id_language_viewport_layer'))
    )
    op.create_index(op.f('ix_revision_screenshots_revision_id'), 'revision_screenshots', ['revision_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_revision_screenshots_revision_id'), table_name='revision_screenshots')
    op.drop_table('revision_screenshots')
    op.drop_table('screenshot_runs')
