"""Migration 0008 on SQLite and PostgreSQL: a tracker's purpose and duration become texts
per language, the existing ones the site's default language's; and back."""

import json
from datetime import UTC, datetime

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from cmp_server.extensions import db
from tests.conftest import make_app


def insert_site(conn, default_language: str) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    conn.execute(
        text(
            "INSERT INTO sites (id, site_key, name, origins, languages, default_language,"
            " consent_lifetime_days, regimes, texts, look, retention_days, legal_hold,"
            " created_at, updated_at) VALUES (1, 'k1', 'Shop', '[]', :languages, :default,"
            " 182, '{}', '{}', '{}', 365, false, :now, :now)"
        ),
        {"languages": json.dumps(["en", "fr"]), "default": default_language, "now": now},
    )
    conn.execute(
        text(
            "INSERT INTO categories (id, site_id, key, position, required, honor_gpc,"
            " consent_mode, labels) VALUES (1, 1, 'analytics', 0, false, true, '[]', '{}')"
        )
    )
    for tracker_id, purpose, duration in [(1, "Compte les visites", "13 mois"), (2, "", "")]:
        conn.execute(
            text(
                "INSERT INTO trackers (id, category_id, position, name, provider, kind, purpose,"
                " duration, cookies, domains) VALUES (:id, 1, :id, :name, 'Shop', 'cookie',"
                " :purpose, :duration, '[]', '[]')"
            ),
            {"id": tracker_id, "name": f"t{tracker_id}", "purpose": purpose, "duration": duration},
        )


def trackers(conn) -> list:
    rows = conn.execute(text("SELECT purpose, duration FROM trackers ORDER BY id")).all()
    return [
        tuple(json.loads(v) if isinstance(v, str) and v[:1] == "{" else v for v in r) for r in rows
    ]


def test_tracker_texts_become_the_default_languages_and_come_back(empty_database, tmp_path):
    app = make_app(empty_database, tmp_path / "instance")
    with app.app_context():
        upgrade(revision="0007")
        with db.engine.begin() as conn:
            insert_site(conn, "fr")
        upgrade(revision="0008")
        with db.engine.connect() as conn:
            # SQLite rebuilds the table: nothing else may go with it.
            for table in ("sites", "categories"):
                assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1
            assert trackers(conn) == [
                ({"fr": "Compte les visites"}, {"fr": "13 mois"}),
                ({}, {}),
            ]
            conn.execute(
                text("UPDATE trackers SET purpose = :p WHERE id = 1"),
                {"p": json.dumps({"en": "Counts visits", "fr": "Compte les visites"})},
            )
            conn.commit()
        downgrade(revision="0007")
        with db.engine.connect() as conn:
            assert trackers(conn) == [("Compte les visites", "13 mois"), ("", "")]
        db.engine.dispose()
