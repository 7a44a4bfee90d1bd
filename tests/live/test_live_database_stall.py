"""A database that hangs, seen from outside: a real server (gunicorn, two workers of four
threads) talks to PostgreSQL through a proxy that stops forwarding for a while, holding every
socket open, as a saturated or failing-over primary does.

During the stall, Accord degrades instead of stopping: `/healthz` says 503 within its bound,
`/livez` answers at once, consent POSTs get 503 with Retry-After within a few seconds even
when more of them arrive than the server has threads, and what needs no database (the
snippet, the signing keys) keeps answering within 2 s. When the database answers again,
consents flow within seconds, and every consent acknowledged is stored once in an unbroken log.

The server's bounds are shorter than the defaults (1.5 s to wait on the database, 1 s for a
health check), so the stall lasts seconds less; every timing is checked against them.
"""

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.fixtures.factories import consent_body
from tests.fixtures.stall_proxy import live_server_behind_proxy, warm_every_worker

ORIGIN = "https://shop.example"
DEMO_PASSWORD = "live-demo-password-0123"  # noqa: S105 - a throwaway test account
DB_WAIT = 1.5  # ACCORD_DB_WAIT_SECONDS of the server under test (5 by default)
HEALTH_TIMEOUT = 1.0  # ACCORD_HEALTH_TIMEOUT_SECONDS of the server under test (2 by default)
SITE_CACHE = 2.0  # ACCORD_SITE_CACHE_SECONDS (the default)
STALL_POSTS = 24  # three times the server's 2 x 4 threads
SLACK = 1.0  # scheduling on a shared, busy machine
PROBE_TIMEOUT = 10.0


@pytest.fixture(scope="module")
def proxied_server(tmp_path_factory, live_databases):
    """A live server whose PostgreSQL connections all go through a StallProxy."""
    env = {
        "ACCORD_DB_WAIT_SECONDS": DB_WAIT,
        "ACCORD_HEALTH_TIMEOUT_SECONDS": HEALTH_TIMEOUT,
        "ACCORD_SITE_CACHE_SECONDS": int(SITE_CACHE),
        "ACCORD_RATELIMIT_ENABLED": "false",
    }
    folder = tmp_path_factory.mktemp("stall")
    with live_server_behind_proxy(folder, live_databases, **env) as (server, proxy):
        yield server, proxy


def post_consent(server, site_key: str, body: dict) -> requests.Response:
    return server.post(
        f"/api/v1/sites/{site_key}/consents", json=body, headers={"Origin": ORIGIN}, timeout=30
    )


def timed(call) -> tuple[float, requests.Response]:
    start = time.monotonic()
    answer = call()
    return time.monotonic() - start, answer


def keep_probing(server, path: str, until: threading.Event, pause: float = 0.1) -> list:
    """(seconds, status) of GET `path`, one after the other, until `until` is set; status
    None when no answer came within PROBE_TIMEOUT."""
    seen = []
    while not until.is_set():
        start = time.monotonic()
        try:
            status = server.get(path, timeout=PROBE_TIMEOUT).status_code
        except requests.Timeout:
            status = None
        seen.append((time.monotonic() - start, status))
        time.sleep(pause)
    return seen


@pytest.fixture(scope="module")
def stall(proxied_server):
    """Consents before, during and after a stall, and what every probe saw; the timings are
    printed (pytest -s) for the record."""
    server, proxy = proxied_server
    out = server.accord("demo", "--origin", ORIGIN, "--password", DEMO_PASSWORD).stdout
    site_key = re.search(r"key ([\w-]+)", out).group(1)
    acknowledged = {}
    for _ in range(6):
        body = consent_body("accept_all")
        answer = post_consent(server, site_key, body)
        assert answer.status_code == 201, answer.text
        acknowledged[body["consent_id"]] = body
    # Each worker has read the site's state, rendered its snippet, and read the keys.
    warm_every_worker(server, [f"/s/{site_key}.js", "/.well-known/accord-keys.json"])

    proxy.stall()
    stalled_at = time.monotonic()
    done = threading.Event()
    paths = {
        "snippet": f"/s/{site_key}.js",
        "keys": "/.well-known/accord-keys.json",
        "livez": "/livez",
        "healthz": "/healthz",
    }
    with ThreadPoolExecutor(len(paths) + STALL_POSTS) as pool:
        probes = {n: pool.submit(keep_probing, server, p, done) for n, p in paths.items()}
        time.sleep(0.3)
        bodies = [consent_body("reject_all") for _ in range(STALL_POSTS)]
        posts = list(pool.map(lambda b: timed(lambda: post_consent(server, site_key, b)), bodies))
        # Every worker last read the site's state before the stall: once its lifetime has
        # passed, later POSTs find it stale (and must read it again, from a hung database).
        time.sleep(max(0.0, stalled_at + SITE_CACHE + 0.1 - time.monotonic()))
        late_bodies = [consent_body("custom") for _ in range(STALL_POSTS)]
        posts += list(
            pool.map(lambda b: timed(lambda: post_consent(server, site_key, b)), late_bodies)
        )
        # A snippet variant not rendered yet (GPC) needs the database: a bounded 503.
        new_variant = timed(
            lambda: server.get(f"/s/{site_key}.js", headers={"Sec-GPC": "1"}, timeout=30)
        )
        done.set()
        seen = {name: future.result() for name, future in probes.items()}
    stall_seconds = time.monotonic() - stalled_at

    proxy.resume()
    resumed_at = time.monotonic()
    while True:
        body = consent_body("accept_all")
        answer = post_consent(server, site_key, body)
        if answer.status_code == 201:
            break
        assert answer.status_code == 503, answer.text
        assert time.monotonic() - resumed_at < 30, "consents did not flow again"
        time.sleep(0.1)
    recovery = time.monotonic() - resumed_at
    acknowledged[body["consent_id"]] = body
    healthy_at = time.monotonic()
    while server.get("/healthz", timeout=30).status_code != 200:
        assert time.monotonic() - healthy_at < 30, "/healthz did not say 200 again"
        time.sleep(0.1)
    results = {
        "site_key": site_key,
        "stall_seconds": stall_seconds,
        "posts": posts,
        "stalled_bodies": bodies + late_bodies,
        "seen": seen,
        "new_variant": new_variant,
        "recovery": recovery,
        "healthy_again": recovery + time.monotonic() - healthy_at,
        "acknowledged": acknowledged,
    }
    report_timings(results)
    return server, results


def report_timings(results: dict) -> None:
    slowest = {name: max(s for s, _ in seen) for name, seen in results["seen"].items()}
    print(
        f"\nstall of {results['stall_seconds']:.1f} s: slowest POST "
        f"{max(s for s, _ in results['posts']):.2f} s, "
        + ", ".join(f"{name} {s:.2f} s" for name, s in slowest.items())
        + f"; consents flow again {results['recovery']:.2f} s after, "
        f"/healthz 200 after {results['healthy_again']:.2f} s"
    )


def test_healthz_says_503_within_its_bound_during_a_stall(stall):
    _, results = stall
    healthz = results["seen"]["healthz"]
    assert {status for _, status in healthz} == {503}
    assert max(seconds for seconds, _ in healthz) < HEALTH_TIMEOUT + SLACK


def test_livez_answers_at_once_during_a_stall(stall):
    _, results = stall
    livez = results["seen"]["livez"]
    assert {status for _, status in livez} == {200}
    assert max(seconds for seconds, _ in livez) < 2.0  # a thread's turn, no database


def test_what_needs_no_database_answers_within_2_seconds_during_a_stall(stall):
    """The snippet and the signing keys, while more consent POSTs than the server has
    threads wait on the database."""
    _, results = stall
    for name in ("snippet", "keys"):
        seen = results["seen"][name]
        assert {status for _, status in seen} == {200}, name
        assert max(seconds for seconds, _ in seen) < 2.0, name
        assert len(seen) >= 10, name  # it kept answering all along


def test_a_snippet_that_needs_the_database_gets_a_bounded_503_during_a_stall(stall):
    _, results = stall
    seconds, answer = results["new_variant"]
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
    assert seconds < DB_WAIT + SLACK


def test_consents_get_503_with_retry_after_within_a_few_seconds_during_a_stall(stall):
    _, results = stall
    for seconds, answer in results["posts"]:
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "storage_unavailable"
        assert int(answer.headers["Retry-After"]) > 0
        assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN  # the snippet sees it
        assert seconds < DB_WAIT + SLACK


def test_after_a_stall_every_acknowledged_consent_is_stored_once(stall, tmp_path):
    """The stalled consents, sent again as the snippet's queue does, are acknowledged (some
    were committed when the database woke up: those are replays), and the log verifies."""
    server, results = stall
    assert results["recovery"] < 5.0
    site_key, acknowledged = results["site_key"], results["acknowledged"]
    bodies = results["stalled_bodies"]
    # Two at a time (never more than one worker's database slots): each its own device.
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda body: post_consent(server, site_key, body), bodies))
    replays = 0
    for body, answer in zip(bodies, answers, strict=True):
        assert answer.status_code == 201, answer.text
        acknowledged[body["consent_id"]] = body
        replays += answer.headers.get("Idempotent-Replayed") == "true"
    assert replays >= 1  # the batch the writer was stuck on, committed when it woke up
    export = tmp_path / "proofs.ndjson"
    commands = [
        ("proofs", "export", "--site", site_key, "--format", "ndjson", "-o", export),
        ("proofs", "verify", "--site", site_key),
    ]
    with ThreadPoolExecutor(2) as pool:  # two reads of the same log, side by side
        list(pool.map(lambda args: server.accord(*args), commands))
    stored = [json.loads(line)["consent_id"] for line in export.read_text().splitlines()]
    assert sorted(stored) == sorted(acknowledged)
