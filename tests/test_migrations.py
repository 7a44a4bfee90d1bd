"""The same migrations take an empty database to head on SQLite and PostgreSQL, and the
models match what they create."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from cmp_server.extensions import db
from tests.conftest import make_app


def test_migrations_from_empty_to_head_match_the_models(empty_database, tmp_path):
    app = make_app(empty_database, tmp_path / "instance")
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"sites", "revisions", "consent_records", "log_heads", "users"} <= tables
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == []
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_adding_the_visitor_options_keeps_every_row_that_references_a_site(
    empty_database, tmp_path
):
    """0009 adds columns to `sites`; on SQLite a batch rebuild of that table would cascade the
    drop of the old one to every row that references it (categories, records, log heads)."""
    app = make_app(empty_database, tmp_path / "instance")
    with app.app_context():
        upgrade(revision="0008")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO sites (id, site_key, name, origins, languages, default_language,"
                " consent_lifetime_days, regimes, texts, look, retention_days, legal_hold,"
                " created_at, updated_at) VALUES (1, 'k1', 'Shop', '[]', '[\"en\"]', 'en', 182,"
                " '{}', '{}', '{}', 1825, false, '2026-01-01', '2026-01-01')"
            )
            conn.exec_driver_sql(
                "INSERT INTO categories (site_id, key, position, required, honor_gpc,"
                " consent_mode, labels) VALUES (1, 'analytics', 0, false, true, '[]', '{}')"
            )
        upgrade()
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM categories").scalar() == 1
            row = conn.exec_driver_sql(
                "SELECT refusal_interval_days, reload_on_withdraw, floating_button FROM sites"
            ).one()
        assert tuple(row) == (182, True, False)
        downgrade(revision="base")
        db.engine.dispose()
