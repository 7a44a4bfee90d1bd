"""trackers: purpose and duration per language ({"en": "...", "fr": "..."})

A tracker's purpose and duration are shown to visitors, so they are translated like category
labels. Existing texts become the site's default language's text; a downgrade keeps the
default language's text (else the first one).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 03:55:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
FIELDS = ('purpose', 'duration')
TEXT_TYPES = {'purpose': sa.Text(), 'duration': sa.String(length=100)}


def _trackers(connection, columns: dict) -> list:
    """(id, the site's default language, *columns) of every tracker."""
    trackers = sa.table('trackers', sa.column('id'), sa.column('category_id'),
                        *(sa.column(name, type_) for name, type_ in columns.items()))
    categories = sa.table('categories', sa.column('id'), sa.column('site_id'))
    sites = sa.table('sites', sa.column('id'), sa.column('default_language'))
    query = (
        sa.select(trackers.c.id, sites.c.default_language, *(trackers.c[n] for n in columns))
        .join(categories, categories.c.id == trackers.c.category_id)
        .join(sites, sites.c.id == categories.c.site_id)
    )
    return connection.execute(query).all()


def _update(connection, tracker_id: int, values: dict, types: dict) -> None:
    trackers = sa.table('trackers', sa.column('id'), *(sa.column(n, types[n]) for n in values))
    connection.execute(trackers.update().where(trackers.c.id == tracker_id).values(values))


def upgrade():
    with op.batch_alter_table('trackers', schema=None) as batch_op:
        for field in FIELDS:
            batch_op.add_column(sa.Column(f'{field}_texts', JSON, nullable=True))
    connection = op.get_bind()
    new_types = {f'{f}_texts': JSON for f in FIELDS}
    for tracker_id, language, *texts in _trackers(connection, TEXT_TYPES):
        values = {f'{f}_texts': {language: t} if t else {} for f, t in zip(FIELDS, texts)}
        _update(connection, tracker_id, values, new_types)
    with op.batch_alter_table('trackers', schema=None) as batch_op:
        for field in FIELDS:
            batch_op.drop_column(field)
            batch_op.alter_column(
                f'{field}_texts', new_column_name=field, existing_type=JSON, nullable=False
            )


def downgrade():
    with op.batch_alter_table('trackers', schema=None) as batch_op:
        for field in FIELDS:
            batch_op.add_column(sa.Column(f'{field}_text', TEXT_TYPES[field], nullable=True))
    connection = op.get_bind()
    old_types = {f'{f}_text': TEXT_TYPES[f] for f in FIELDS}
    for tracker_id, language, *texts in _trackers(connection, {f: JSON for f in FIELDS}):
        values = {}
        for field, by_language in zip(FIELDS, texts):
            by_language = by_language or {}
            text = by_language.get(language) or next(iter(by_language.values()), '')
            values[f'{field}_text'] = text[:100] if field == 'duration' else text
        _update(connection, tracker_id, values, old_types)
    with op.batch_alter_table('trackers', schema=None) as batch_op:
        for field in FIELDS:
            batch_op.drop_column(field)
            batch_op.alter_column(
                f'{field}_text', new_column_name=field, existing_type=TEXT_TYPES[field],
                nullable=False,
            )
