"""Crash consistency: SIGKILL gunicorn workers while visitors post consents and retry.

Afterwards every consent the server acknowledged is stored exactly once, every consent was
eventually acknowledged (the client retries with the same body), and each site's log is one
unbroken chain — on SQLite and on PostgreSQL.
"""

import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cmp_server.extensions import db
from cmp_server.models import ConsentRecord
from tests.fixtures.factories import consent_body
from tests.services.test_sealing import assert_chain_is_whole

ROOT = Path(__file__).resolve().parents[2]
VISITORS = 12
CONSENTS_PER_VISITOR = 25


def start_gunicorn(env: dict, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "wsgi:app",
        ],
        cwd=ROOT,
        env={
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_THREADS": "8",
            "GUNICORN_LOGLEVEL": "critical",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def post_until_acknowledged(url: str, body: dict, deadline: float) -> dict:
    """Post, retrying the same body after any failure, as the snippet's queue does."""
    data = json.dumps(body).encode()
    delay = 0.05
    while time.monotonic() < deadline:
        request = urllib.request.Request(
            url, data=data, headers={"Content-Type": "text/plain"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code < 500 and exc.code != 429:
                raise AssertionError(f"{exc.code}: {exc.read()!r}") from None
        except (OSError, http.client.HTTPException):  # the worker died mid-answer: resend
            pass
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
    raise AssertionError(f"consent {body['consent_id']} never acknowledged")


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    return [int(pid) for pid in out.stdout.split()]


@pytest.mark.slow
def test_killed_workers_lose_no_acknowledged_consent(
    app, make_site, backend, database_urls, tmp_path
):
    from tests.fixtures.network import free_port

    site = make_site()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_urls[backend],
        "ACCORD_INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": app.config["SECRET_KEY"],
        "ACCORD_RATELIMIT_ENABLED": "false",
        "PYTHONPATH": str(ROOT),
    }
    server = start_gunicorn(env, port)
    url = f"http://127.0.0.1:{port}/api/v1/sites/{site.site_key}/consents"
    deadline = time.monotonic() + 120
    acknowledged: dict[str, dict] = {}
    errors: list[BaseException] = []

    def visitor(n: int):
        rng = random.Random(n)
        try:
            for _ in range(CONSENTS_PER_VISITOR):
                body = consent_body(rng.choice(["accept_all", "reject_all", "custom"]))
                acknowledged[body["consent_id"]] = post_until_acknowledged(url, body, deadline)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    try:
        wait = time.monotonic() + 30
        while time.monotonic() < wait:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        threads = [threading.Thread(target=visitor, args=(n,)) for n in range(VISITORS)]
        for thread in threads:
            thread.start()
        kills = 0
        while any(t.is_alive() for t in threads) and kills < 6:
            time.sleep(0.4)
            for pid in worker_pids(server.pid):
                os.kill(pid, signal.SIGKILL)
                kills += 1
        for thread in threads:
            thread.join(150)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)

    assert errors == []
    assert kills >= 2, "the load ended before any worker was killed"
    assert len(acknowledged) == VISITORS * CONSENTS_PER_VISITOR
    db.session.expire_all()
    stored = db.session.execute(
        select(ConsentRecord.consent_id, func.count()).group_by(ConsentRecord.consent_id)
    ).all()
    assert dict(stored) == dict.fromkeys(acknowledged, 1)
    rows = assert_chain_is_whole(site)
    by_id = {row.consent_id: row for row in rows}
    for consent_id, receipt in acknowledged.items():
        assert by_id[consent_id].record_hash == receipt["hash"]
        assert by_id[consent_id].position == receipt["position"]
