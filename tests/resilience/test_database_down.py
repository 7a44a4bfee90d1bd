"""A database that is down (connections refused), and the bounds every connection carries.

On a real server (gunicorn, two workers) whose PostgreSQL goes away: consents get 503 with
Retry-After at once, `/healthz` says 503, `/livez` and the snippet keep answering, and when
the database is back everything resumes by itself with nothing acknowledged lost or doubled.
The hung database, where nothing is refused but nothing answers, is
tests/live/test_live_database_stall.py.
"""

import json
import re
import time

import pytest

from config import DATABASE_BOUNDS, Config, ConfigError
from tests.fixtures.factories import consent_body
from tests.fixtures.stall_proxy import live_server_behind_proxy, warm_every_worker

ORIGIN = "https://shop.example"
# The site cache's lifetime (ACCORD_SITE_CACHE_SECONDS, 2 by default): once it has passed, the
# snippet can only serve the last state read. The shortest the setting allows, so that the
# test waits for it only one second.
SITE_CACHE_SECONDS = 1
DEMO_PASSWORD = "resilience-demo-password-0123"  # noqa: S105 - a throwaway test account


def post_consent(server, site_key: str, body: dict):
    return server.post(
        f"/api/v1/sites/{site_key}/consents", json=body, headers={"Origin": ORIGIN}, timeout=30
    )


def timed_get(server, path: str) -> tuple[float, int]:
    start = time.monotonic()
    status = server.get(path, timeout=30).status_code
    return time.monotonic() - start, status


@pytest.mark.slow
def test_a_refused_database_gives_fast_503s_and_everything_resumes_by_itself(
    tmp_path, live_databases
):
    with live_server_behind_proxy(
        tmp_path,
        live_databases,
        ACCORD_RATELIMIT_ENABLED="false",
        ACCORD_SITE_CACHE_SECONDS=SITE_CACHE_SECONDS,
    ) as (server, proxy):
        out = server.accord("demo", "--origin", ORIGIN, "--password", DEMO_PASSWORD).stdout
        site_key = re.search(r"key ([\w-]+)", out).group(1)
        acknowledged = set()
        for _ in range(4):
            body = consent_body("accept_all")
            assert post_consent(server, site_key, body).status_code == 201
            acknowledged.add(body["consent_id"])
        warm_every_worker(server, [f"/s/{site_key}.js"])
        stale_at = time.monotonic() + SITE_CACHE_SECONDS + 0.1  # each worker's read is older

        proxy.refuse()
        refused = [consent_body("reject_all") for _ in range(8)]
        for body in refused:
            start = time.monotonic()
            answer = post_consent(server, site_key, body)
            assert answer.status_code == 503, answer.text
            assert answer.headers["Retry-After"] == "5"
            assert time.monotonic() - start < 1.0
        # Stale from then on, the refusals' time included: the snippet serves the last one read.
        time.sleep(max(0.0, stale_at - time.monotonic()))
        for path, status in ((f"/s/{site_key}.js", 200), ("/livez", 200), ("/healthz", 503)):
            seconds, seen = timed_get(server, path)
            assert (path, seen) == (path, status)
            assert seconds < 1.0, path

        proxy.listen()
        resumed = time.monotonic()
        for body in refused:  # as the snippet's queue sends them again
            while (answer := post_consent(server, site_key, body)).status_code == 503:
                assert time.monotonic() - resumed < 15, "consents did not flow again"
                time.sleep(0.2)
            assert answer.status_code == 201, answer.text
            acknowledged.add(body["consent_id"])
        assert server.get("/healthz").status_code == 200
        export = tmp_path / "proofs.ndjson"
        server.accord("proofs", "export", "--site", site_key, "--format", "ndjson", "-o", export)
        stored = [json.loads(line)["consent_id"] for line in export.read_text().splitlines()]
        assert sorted(stored) == sorted(acknowledged)
        server.accord("proofs", "verify", "--site", site_key)


def test_every_postgresql_connection_carries_the_bounds(app, backend):
    if backend != "postgresql":
        pytest.skip("libpq options: PostgreSQL only (SQLite has busy_timeout)")
    assert app.config["ACCORD_DB_STATEMENT_TIMEOUT"] == 30.0
    connection = app.extensions["sqlalchemy"].engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "30s"
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == "10s"
        parameters = connection.driver_connection.info.get_parameters()
        assert parameters["connect_timeout"] == "3"
        assert parameters["keepalives"] == "1"
        assert parameters["keepalives_idle"] == "10"
        assert parameters["tcp_user_timeout"] == "20000"
    finally:
        connection.close()
    assert app.extensions["sqlalchemy"].engine.pool.timeout() == 2.0


def test_the_bounds_can_be_changed(tmp_path):
    env = {
        "ACCORD_INSTANCE_PATH": str(tmp_path),
        "SECRET_KEY": "x" * 32,
        "ACCORD_DB_STATEMENT_TIMEOUT": "0",
        "ACCORD_DB_WAIT_SECONDS": "2.5",
        "GUNICORN_THREADS": "32",
    }
    settings = Config.from_env(env, create_instance=False)
    assert settings["ACCORD_DB_STATEMENT_TIMEOUT"] == 0.0
    assert settings["ACCORD_DB_WAIT_SECONDS"] == 2.5
    assert settings["ACCORD_DB_REQUEST_SLOTS"] == 28  # four threads kept for the rest


@pytest.mark.parametrize("name", [*DATABASE_BOUNDS, "ACCORD_DB_REQUEST_SLOTS"])
@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf"])
def test_a_bad_bound_stops_start_up_naming_it(tmp_path, name, value):
    env = {"ACCORD_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x" * 32, name: value}
    with pytest.raises(ConfigError, match=name):
        Config.from_env(env, create_instance=False)
