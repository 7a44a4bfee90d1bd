"""Migration 0011 on SQLite and PostgreSQL: existing sites get the time zone "UTC" (what the
console showed before), every row that references a site stays; and back."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from cmp_server.extensions import db
from tests.conftest import make_app


def site_columns() -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns("sites")}


def test_0011_adds_the_time_zone_and_takes_it_away(empty_database, tmp_path):
    app = make_app(empty_database, tmp_path / "instance")
    with app.app_context():
        upgrade(revision="0010")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO sites (id, site_key, name, origins, languages, default_language,"
                    " consent_lifetime_days, regimes, texts, look, retention_days, legal_hold,"
                    " created_at, updated_at) VALUES (1, 'k1', 'Shop', '[]', '[\"en\"]', 'en',"
                    " 182, '{}', '{}', '{}', 1825, false, '2026-01-01', '2026-01-01')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO categories (site_id, key, position, required, honor_gpc,"
                    " consent_mode, labels) VALUES (1, 'analytics', 0, false, true, '[]', '{}')"
                )
            )
        assert "time_zone" not in site_columns()
        upgrade(revision="0011")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT time_zone FROM sites")).scalar_one() == "UTC"
            assert conn.execute(text("SELECT count(*) FROM categories")).scalar_one() == 1
            conn.execute(text("UPDATE sites SET time_zone = 'Europe/Paris'"))
        downgrade(revision="0010")
        assert "time_zone" not in site_columns()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM sites")).scalar_one() == "Shop"
            assert conn.execute(text("SELECT count(*) FROM categories")).scalar_one() == 1
        upgrade()
        downgrade(revision="base")
        db.engine.dispose()
