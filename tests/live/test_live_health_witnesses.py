"""/healthz with witnesses configured, while PostgreSQL hangs (behind a stalling proxy): the
witness section is read within the health check's bound, so the answer is still a 503 within
ACCORD_HEALTH_TIMEOUT_SECONDS, never a request that hangs with the database."""

import time
from concurrent.futures import ThreadPoolExecutor

from tests.fixtures.network import free_port
from tests.fixtures.stall_proxy import live_server_behind_proxy

HEALTH_TIMEOUT = 2.0  # ACCORD_HEALTH_TIMEOUT_SECONDS (the default)
SLACK = 1.0  # scheduling on a shared, busy machine


def timed_healthz(worker) -> tuple[float, int]:
    start = time.monotonic()
    status = worker.get("/healthz").status_code
    return time.monotonic() - start, status


def test_healthz_with_witnesses_stays_bounded_when_the_database_hangs(tmp_path, live_databases):
    url = f"http://127.0.0.1:{free_port()}"
    witness = {"ACCORD_WITNESSES": url}
    with live_server_behind_proxy(tmp_path, live_databases, **witness) as (server, proxy):
        site_key = server.create_site("Watched shop")
        healthy = server.get("/healthz")
        assert healthy.status_code == 200
        assert healthy.json()["witnesses"] == {
            url: {"site": site_key, "cosigned_size": 0, "behind": 0}
        }
        proxy.stall()
        try:
            # Every worker, on a connection it accepted during the stall, and all at once (each
            # waits out its own bound): first a fresh read, then one while that read still hangs.
            workers = server.workers()
            with ThreadPoolExecutor(len(workers)) as pool:
                for _ in range(2):
                    for seconds, status in pool.map(timed_healthz, workers):
                        assert status == 503
                        assert seconds < HEALTH_TIMEOUT + SLACK
        finally:
            proxy.resume()
