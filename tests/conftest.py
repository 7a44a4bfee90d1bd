"""Fixtures shared by every test: an app on each database, clients, and small factories.

Every test that uses `app` runs twice: on SQLite and on PostgreSQL. PostgreSQL is the local
server (or ACCORD_TEST_POSTGRES_URL); each test session creates a throwaway database and
drops it at the end. Without a reachable server the PostgreSQL half is skipped, unless
ACCORD_TEST_REQUIRE_POSTGRES=1 (as in CI), where that is an error.
"""

import os
import uuid
from pathlib import Path

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from cmp_server import create_app
from cmp_server.extensions import db
from cmp_server.services import demo, lookup

pytest_plugins = [
    "tests.fixtures.factories",
    "tests.fixtures.databases",
    "tests.fixtures.live_databases",
]
if Path(__file__).with_name("fixtures").joinpath("browser.py").exists():
    pytest_plugins.append("tests.fixtures.browser")

ROOT = Path(__file__).resolve().parent.parent
GEOIP_COUNTRY_DB = str(ROOT / "tests" / "data" / "geoip" / "GeoIP2-Country-Test.mmdb")
POSTGRES_ADMIN_URL = os.environ.get(
    "ACCORD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def _postgres_database(template: str | None = None):
    """Create a throwaway database, empty or a copy of database `template` (which must have
    no open connection); returns (url, drop) or (None, reason)."""
    name = f"accord_test_{uuid.uuid4().hex[:10]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
            # A throwaway database need not survive a crash of the PostgreSQL server itself:
            # commits stop waiting for the disk (what the tests check is unchanged by it).
            conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    except psycopg.OperationalError as exc:
        return None, f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc}"
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]

    def drop():
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{base}/{name}", drop


def pytest_sessionstart(session):
    """With ACCORD_TEST_REQUIRE_POSTGRES=1, a missing PostgreSQL stops the run at once and says
    why (under pytest-xdist a worker's own exit would only show as a crashed worker)."""
    if os.environ.get("ACCORD_TEST_REQUIRE_POSTGRES") != "1":
        return
    if hasattr(session.config, "workerinput"):  # a pytest-xdist worker: the controller checked
        return
    try:
        psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.exit(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc}", returncode=3)


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory):
    """One migrated database per backend for the whole session."""
    urls = {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'accord.db'}"}
    pg_url, drop = _postgres_database()
    if pg_url:
        urls["postgresql"] = pg_url
    elif os.environ.get("ACCORD_TEST_REQUIRE_POSTGRES") == "1":
        pytest.exit(drop, returncode=3)
    else:
        urls["postgresql"] = None
        urls["postgresql_skip_reason"] = drop
    for name in ("sqlite", "postgresql"):
        if urls[name]:
            app = make_app(urls[name], tmp_path_factory.mktemp(f"instance-{name}"))
            with app.app_context():
                upgrade()
                db.engine.dispose()
    yield urls
    if pg_url:
        drop()


def make_app(url: str, instance_path, **config):
    settings = {
        "DATABASE_URL": url,
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-0123456789",
        "ACCORD_INSTANCE_PATH": str(instance_path),
        "RATELIMIT_ENABLED": False,
        "ACCORD_GROUP_COMMIT": False,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "consent.test",
    }
    settings.update(config)
    return create_app(settings)


def empty_tables(app):
    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            # DELETE, not TRUNCATE: on tables of a few rows PostgreSQL's TRUNCATE costs 10-50x
            # more (it rewrites each table's files), and this runs before every test.
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
            if conn.dialect.name == "postgresql":
                sequences = conn.execute(
                    text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
                ).scalars()
                for sequence in sequences:
                    conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
    lookup.forget_site()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, database_urls):
    if database_urls[request.param] is None:
        pytest.skip(database_urls["postgresql_skip_reason"])
    return request.param


@pytest.fixture
def app_config():
    """Override to give `app` extra settings (a test module can redefine this fixture)."""
    return {}


@pytest.fixture
def app(backend, database_urls, tmp_path, app_config):
    app = make_app(database_urls[backend], tmp_path / "instance", **app_config)
    empty_tables(app)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def demo_config():
    return demo.demo_site_config(["https://shop.example"])


def pytest_collection_modifyitems(config, items):
    """Deselect the PostgreSQL half of the tests marked `sqlite_only`: what only checks
    behaviour at the HTTP level or in the app (rendering, validation, authorisation), never
    what the database does. Their database is the `backend` parameter (app tests) or the
    live server's (tests/live/conftest.py)."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec else {}
        databases = ("backend", "live_server", "start_live_server")
        on_postgresql = "postgresql" in (params.get(name) for name in databases)
        if on_postgresql and item.get_closest_marker("sqlite_only"):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
