"""/healthz with witnesses configured, while PostgreSQL hangs (behind a stalling proxy): the
witness section is read within the health check's bound, so the answer is still a 503 within
ACCORD_HEALTH_TIMEOUT_SECONDS, never a request that hangs with the database."""

import time

from tests.fixtures.network import free_port
from tests.fixtures.stall_proxy import live_server_behind_proxy

HEALTH_TIMEOUT = 2.0  # ACCORD_HEALTH_TIMEOUT_SECONDS (the default)
SLACK = 1.0  # scheduling on a shared, busy machine


def test_healthz_with_witnesses_stays_bounded_when_the_database_hangs(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    with live_server_behind_proxy(tmp_path, ACCORD_WITNESSES=url) as (server, proxy):
        site_key = server.create_site("Watched shop")
        healthy = server.get("/healthz")
        assert healthy.status_code == 200
        assert healthy.json()["witnesses"] == {
            url: {"site": site_key, "cosigned_size": 0, "behind": 0}
        }
        proxy.stall()
        try:
            for _ in range(3):
                start = time.monotonic()
                answer = server.get("/healthz", timeout=30)
                assert answer.status_code == 503
                assert time.monotonic() - start < HEALTH_TIMEOUT + SLACK
        finally:
            proxy.resume()
