"""Hardening seen from outside, on a real gunicorn server and through the `accord` command:
what an attacker sends (forged headers, formula-laden User-Agents, huge numbers, hostile
origins) and what an operator reads (logs, exports, files on disk).

The demo site and an admin token are made once for the module (`demo`): no test changes
them. Exports, CSV cells, numbers and dates that reach the database, the rate limit on
stored decisions and the logs of a failing database run on both backends; origin, host and
URL validation, control characters, headers and the database files' modes on SQLite only.
The module's server trusts one proxy (ACCORD_PROXY_COUNT=1), as the forged-host test needs,
and logs every request at debug level: the log test reads what it logged for the whole module.
"""

import csv
import io
import json
import re
import socket
import stat
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from cmp_server.schemas.consent import ConsentInSchema
from cmp_server.services.csv_cells import FORMULA_STARTS
from cmp_server.services.demo import demo_site_config
from tests.conftest import POSTGRES_ADMIN_URL
from tests.live.conftest import BIN, backend_of
from tests.live.over_http import SetUp

ORIGIN = "https://shop.example"
DEMO_PASSWORD = "live-demo-password-0123"  # noqa: S105 - a throwaway test account
ADMIN_EMAIL = "admin@example.com"
# The browser family ua-parser takes from this User-Agent is the formula itself.
FORMULA_USER_AGENT = '=HYPERLINK("https://evil.example";"x")/1.0 CFNetwork/1.0 Darwin/1.0'
SENDS_DEVICE_SECRET = "device_secret" in ConsentInSchema().fields


def demo_site(server) -> str:
    """The published demo site (made by `accord demo` the first time); returns its key."""
    out = server.accord("demo", "--origin", ORIGIN, "--password", DEMO_PASSWORD).stdout
    return re.search(r"key ([\w-]+)", out).group(1)


def demo_admin(server) -> SetUp:
    """The demo's admin account (made by `demo_site`), signed in to the console, with an API
    token made there."""
    return SetUp(server, ADMIN_EMAIL, password=DEMO_PASSWORD)


@pytest.fixture(scope="module")
def live_server_env():
    """One trusted proxy, so that the forged X-Forwarded-Host reaches the app and the log
    test's X-Forwarded-For is the client's address (the other tests send no X-Forwarded-*
    header: they come from 127.0.0.1 as without a proxy); the access log and debug lines."""
    return {"ACCORD_PROXY_COUNT": "1", "GUNICORN_ACCESSLOG": "-", "GUNICORN_LOGLEVEL": "debug"}


@pytest.fixture(scope="module")
def demo_key(live_server) -> str:
    return demo_site(live_server)


@pytest.fixture(scope="module")
def admin(live_server, demo_key) -> SetUp:
    """The demo's admin, signed in once for the module."""
    return demo_admin(live_server)


@pytest.fixture(scope="module")
def demo(demo_key, admin) -> tuple[str, str]:
    """The demo site's key and its admin's API token, made once for the module."""
    return demo_key, admin.token


def decision(server, site_key: str, **overrides) -> dict:
    """A valid reject-all consent body for the site's published revision."""
    config = server.get(f"/api/v1/sites/{site_key}/config").json()
    categories = config["config"]["categories"]
    body = {
        "consent_id": str(uuid.uuid4()),
        "device_id": str(uuid.uuid4()),
        "revision": config["revision"],
        "action": "reject_all",
        "choices": {c["key"]: c["required"] for c in categories},
        "language": "en",
        "page_url": "https://shop.example/cart",
    }
    if SENDS_DEVICE_SECRET:
        body["device_secret"] = "s3cr3t-" + uuid.uuid4().hex
    body.update(overrides)
    return body


def post_consent(server, site_key: str, body: dict, headers=None):
    return server.post(f"/api/v1/sites/{site_key}/consents", json=body, headers=headers or {})


def assert_no_formula_cells(text: str):
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) > 1, text
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), (cell, row)
    return rows


# --- 15: the admin API's export streams, on both databases ---------------------------------


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_admin_api_export_streams_the_whole_log(live_server, demo, fmt):
    """The README's curl example: a bearer token, a streamed download, every record in it."""
    key, token = demo
    sent = [decision(live_server, key) for _ in range(3)]
    for body in sent:
        assert post_consent(live_server, key, body).status_code == 201
    answer = live_server.api(
        "GET", f"/sites/{key}/consents/export?format={fmt}", token, stream=True
    )
    assert answer.status_code == 200, answer.text
    text = b"".join(answer.iter_content(chunk_size=None)).decode()
    if fmt == "csv":
        records = list(csv.DictReader(io.StringIO(text)))
    else:
        records = [json.loads(line) for line in text.splitlines()]
    exported = {r["consent_id"] for r in records}
    assert {b["consent_id"] for b in sent} <= exported
    assert {r["site_key"] for r in records} == {key}
    assert "internal_error" not in text


# --- 8: no spreadsheet formula in any CSV --------------------------------------------------


def test_a_user_agent_formula_never_reaches_a_csv_cell(live_server, demo, tmp_path):
    key, token = demo
    body = decision(live_server, key)
    answer = post_consent(live_server, key, body, {"User-Agent": FORMULA_USER_AGENT})
    assert answer.status_code == 201, answer.text

    out = tmp_path / "proofs.csv"
    live_server.accord("proofs", "export", "--site", key, "--format", "csv", "-o", out)
    rows = assert_no_formula_cells(out.read_text())
    browser_at = rows[0].index("browser")
    mine = [r for r in rows if body["consent_id"] in r]
    assert mine[0][browser_at].startswith("'=HYPERLINK")  # kept, readable, but as text

    api = live_server.api("GET", f"/sites/{key}/consents/export?format=csv", token)
    assert api.status_code == 200, api.text
    assert_no_formula_cells(api.text)

    ndjson = live_server.api("GET", f"/sites/{key}/consents/export?format=ndjson", token)
    exact = [json.loads(line) for line in ndjson.text.splitlines()]
    [record] = [r for r in exact if r["consent_id"] == body["consent_id"]]
    assert record["browser"].startswith("=HYPERLINK")  # NDJSON keeps the hashed value


def test_a_staff_formula_never_reaches_the_audit_csv(live_server, demo):
    """The audit CSV goes through the same cell check (an account's email is its target)."""
    _, token = demo
    email = f"=HYPERLINK(1)+{uuid.uuid4().hex[:6]}@evil.example"
    made = live_server.api(
        "POST",
        "/users",
        token,
        json={"email": email, "role": "dpo", "password": "a long enough password"},
    )
    assert made.status_code == 201, made.text
    answer = live_server.api("GET", "/audit?format=csv", token)
    assert answer.status_code == 200, answer.text
    rows = assert_no_formula_cells(answer.text)
    cells = {cell.lower() for row in rows for cell in row}
    assert f"'{email}".lower() in cells  # kept, as text


# --- 11: numbers past 64 bits are refused, not a 500 ---------------------------------------


@pytest.mark.parametrize("revision", [2**70, 2**63, 2**31])
def test_a_huge_revision_is_a_400(live_server, demo, revision):
    key, _ = demo
    answer = post_consent(live_server, key, decision(live_server, key, revision=revision))
    assert answer.status_code == 400, answer.text
    assert "revision" in answer.json()["error"]["fields"]


@pytest.mark.parametrize("field, value", [("position", 2**70), ("revision", 2**70)])
def test_a_receipt_with_a_huge_number_is_a_400(live_server, demo, field, value):
    key, _ = demo
    answer = post_consent(live_server, key, decision(live_server, key))
    receipt = {**answer.json(), field: value}
    check = live_server.post("/api/v1/receipts/verify", json=receipt)
    assert check.status_code == 400, check.text
    assert field in check.json()["error"]["fields"]


# --- 10: hostile origins, colours and names through the admin API --------------------------


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "origins",
    [["https://*"], ["*"], ["https://*.com"], ["https://*.co.uk"], ["https://shop*.example"]],
)
def test_an_origin_wildcard_covering_other_peoples_sites_is_refused(live_server, demo, origins):
    key, token = demo
    config = live_server.api("GET", f"/sites/{key}/config", token).json()
    answer = live_server.api(
        "PUT", f"/sites/{key}/config", token, json={**config, "origins": origins}
    )
    assert answer.status_code == 400, answer.text
    assert "origins" in answer.json()["error"]["fields"]


@pytest.mark.sqlite_only
def test_a_subdomain_wildcard_lets_only_that_domain_post(live_server, admin):
    token = admin.token
    key = admin.site("Wildcard shop", "https://*.shop.example")
    config = live_server.api("GET", f"/sites/{key}/config", token).json()
    assert config["origins"] == ["https://*.shop.example"]
    for origin, allowed in [
        ("https://www.shop.example", True),
        ("https://evil.example", False),
        ("https://shop.example.evil.example", False),
        ("https://evilshop.example", False),
    ]:
        answer = live_server.request(
            "OPTIONS", f"/api/v1/sites/{key}/consents", headers={"Origin": origin}
        )
        assert (answer.status_code == 204) is allowed, (origin, answer.status_code)


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "path, value",
    [
        (("look", "colors", "background"), "#ffffff\n"),
        (("name",), "Shop\x1b[2J\x1b[31mHACKED"),
        (("categories", 0, "labels", "en", "title"), "Necessary\x07"),
        (("texts", "en", "title"), "Cookies\x1b]8;;https://evil.example\x07"),
    ],
)
def test_control_characters_and_trailing_newlines_are_refused(live_server, demo, path, value):
    key, token = demo
    config = live_server.api("GET", f"/sites/{key}/config", token).json()
    target = config
    for part in path[:-1]:
        target = target.setdefault(part, {}) if isinstance(part, str) else target[part]
    target[path[-1]] = value
    answer = live_server.api("PUT", f"/sites/{key}/config", token, json=config)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "invalid"


@pytest.mark.sqlite_only
def test_the_cli_refuses_an_escape_sequence_in_a_site_name(live_server):
    result = live_server.accord(
        "site", "create", "--name", "Shop\x1b[2J", "--origin", ORIGIN, check=False
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "\x1b" not in live_server.accord("site", "list").stdout


# --- 12: X-Forwarded-Host cannot poison a shared snippet -----------------------------------


def snippet_of(server, key, headers=None):
    return server.get(f"/s/{key}.js", headers=headers or {})


def shared_cacheable_site(server, admin: SetUp | None = None) -> str:
    """A published site with one regime everywhere, so its snippet is `public` (CDN-cacheable).
    No worker has read or rendered it yet: the test's first request to each renders it.
    Made by `admin` over the API, or on a server with no account yet by `accord site import`
    (publishing renders nothing either way)."""
    config = {**demo_site_config([ORIGIN]), "regimes": {"default": "opt_in"}}
    if admin is not None:
        return admin.import_site(config, publish=True)
    path = server.workdir / "shared-site.json"
    path.write_text(json.dumps(config))
    out = server.accord("site", "import", path, "--publish", "--json").stdout
    return json.loads(out)["site_key"]


@pytest.mark.sqlite_only
def test_a_forwarded_host_never_reaches_a_shared_snippet(live_server, admin):
    server = live_server
    assert server.env["ACCORD_PROXY_COUNT"] == "1"
    key = shared_cacheable_site(server, admin)
    workers = server.workers()
    for worker in workers:  # each worker's first request is poisoned
        for _ in range(2):  # the rendering, then the kept answer
            poisoned = worker.get(f"/s/{key}.js", **{"X-Forwarded-Host": "evil.example"})
            assert poisoned.status_code == 200, poisoned.text
            if "evil.example" in poisoned.text:
                assert "public" not in poisoned.headers["Cache-Control"], poisoned.headers
    for worker in workers:
        for _ in range(2):
            normal = worker.get(f"/s/{key}.js")
            assert "public" in normal.headers["Cache-Control"]  # what a CDN would keep
            assert "evil.example" not in normal.text
            assert f"{server.url}/api/v1/sites/{key}" in normal.text


@pytest.mark.sqlite_only
def test_the_public_url_alone_names_the_api(start_live_server):
    server = start_live_server(ACCORD_PROXY_COUNT=1, ACCORD_PUBLIC_URL="https://consent.test/")
    key = shared_cacheable_site(server)
    for worker in server.workers():
        for headers in ({"X-Forwarded-Host": "evil.example"}, {"Host": "other.example"}, {}):
            answer = worker.get(f"/s/{key}.js", **headers)
            assert "public" in answer.headers["Cache-Control"]  # a CDN may keep it
            assert "evil.example" not in answer.text and "other.example" not in answer.text
            assert f"https://consent.test/api/v1/sites/{key}" in answer.text
            config = worker.get(f"/api/v1/sites/{key}/config", **headers).json()
            assert config["api"] == f"https://consent.test/api/v1/sites/{key}"


@pytest.mark.sqlite_only
def test_a_malformed_public_url_stops_the_cli(live_server, tmp_path):
    env = {**live_server.env, "ACCORD_PUBLIC_URL": "consent.test"}
    result = subprocess.run(
        [str(BIN / "accord"), "site", "list"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ACCORD_PUBLIC_URL" in result.stderr
    assert "Traceback" not in result.stderr


# --- 13: nosniff and no framing on every public answer -------------------------------------


@pytest.mark.sqlite_only
def test_every_public_answer_says_nosniff_and_no_framing(live_server, demo):
    key, _ = demo
    body = decision(live_server, key)
    answers = {
        "snippet": snippet_of(live_server, key),
        "snippet again (fast path)": snippet_of(live_server, key),
        "snippet 304": live_server.get(
            f"/s/{key}.js", headers={"If-None-Match": snippet_of(live_server, key).headers["ETag"]}
        ),
        "unknown snippet": live_server.get("/s/nope.js"),
        "config": live_server.get(f"/api/v1/sites/{key}/config"),
        "consent": post_consent(live_server, key, body),
        "bad consent": post_consent(live_server, key, {"revision": "x"}),
        "history": live_server.get(
            f"/api/v1/sites/{key}/devices/{body['device_id']}/consents",
            headers={"Accord-Device-Secret": body.get("device_secret", "")},
        ),
        "keys": live_server.get("/.well-known/accord-keys.json"),
        "receipt check": live_server.post("/api/v1/receipts/verify", json={}),
        "openapi": live_server.get("/api/v1/openapi.json"),
        "health": live_server.get("/healthz"),
        "demo": live_server.get("/demo"),
        "not found": live_server.get("/nothing-here"),
    }
    for name, answer in answers.items():
        assert answer.headers.get("X-Content-Type-Options") == "nosniff", name
        assert answer.headers.get("X-Frame-Options") == "DENY", name
        assert "frame-ancestors 'none'" in answer.headers.get("Content-Security-Policy", ""), name
    assert "nonce-" in answers["demo"].headers["Content-Security-Policy"]  # its own CSP kept
    embedded = live_server.get("/static/demo/embed.html")  # the demo page frames it
    assert embedded.headers["X-Content-Type-Options"] == "nosniff"
    assert embedded.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in embedded.headers["Content-Security-Policy"]


# --- 14: a busy network's real visitors are not refused ------------------------------------


def test_a_busy_network_is_not_rate_limited_like_a_flood(live_server, demo):
    """300 decisions in a few seconds from one address (a carrier-grade NAT at a busy hour)
    are all recorded; the old default (120 a minute) refused most of them."""
    key, _ = demo
    bodies = [decision(live_server, key) for _ in range(3)]
    statuses = [post_consent(live_server, key, decision(live_server, key)).status_code]
    config = live_server.get(f"/api/v1/sites/{key}/config").json()
    template = bodies[0]

    def one(_) -> int:
        body = {**template, "consent_id": str(uuid.uuid4()), "device_id": str(uuid.uuid4())}
        body["revision"] = config["revision"]
        return post_consent(live_server, key, body).status_code

    # Two at a time: faster still from the network, and never more than a worker's free
    # database slots (a refused slot would be a 503, not the rate limit).
    with ThreadPoolExecutor(2) as pool:
        statuses += pool.map(one, range(300))
    assert set(statuses) == {201}, {s: statuses.count(s) for s in set(statuses)}


@pytest.mark.parametrize("client_ts", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_client_time_out_of_range_in_utc_is_a_400_not_a_retry(live_server, demo, client_ts):
    """A 503 would make the snippet retry it for ever; it can never be stored."""
    key, _ = demo
    answer = post_consent(live_server, key, decision(live_server, key, client_ts=client_ts))
    assert answer.status_code == 400, answer.text
    assert "client_ts" in answer.json()["error"]["fields"]


@pytest.mark.parametrize(
    "query",
    [
        "consents?since=0001-01-01T00:00:00%2B14:00",
        "consents?until=9999-12-31T23:59:59-14:00",
        "consents?page=99999999999999999999999",
        "consents/export?format=csv&since=0001-01-01T00:00:00%2B14:00",
    ],
)
def test_admin_queries_past_the_calendar_or_64_bits_are_400s(live_server, demo, query):
    key, token = demo
    answer = live_server.api("GET", f"/sites/{key}/{query}", token)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "invalid"


CONSOLE_QUERIES = [
    "since=0001-01-01T00:00:00%2B14:00",
    "until=9999-12-31",
    "format=csv&until=9999-12-31",
]


@pytest.mark.parametrize("query", CONSOLE_QUERIES)
def test_console_proof_searches_past_the_calendar_are_400s(live_server, demo, admin, query):
    key, _ = demo
    path = "proofs/export" if "format" in query else "proofs"
    answer = admin.console.get(f"{live_server.url}/admin/sites/{key}/{path}?{query}", timeout=30)
    assert answer.status_code == 400, answer.text[:500]


# --- 7: no full IP, device ID or secret in any log -----------------------------------------

VISITOR_IP = "198.51.100.213"  # a distinctive address, sent through one trusted proxy


def send_invalid_request(server):
    """A request line gunicorn cannot parse: it logs the client's address with the error."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(b"NONSENSE\r\n\r\n")
        conn.recv(1024)


def read_only(server, on: bool):
    """The PostgreSQL database turns read-only (a fail-over to a replica, a full disk): every
    consent batch fails, and is logged. Off again: it takes writes. Either way from the next
    connection: the server's are ended (its pool opens new ones)."""
    name = server.env["DATABASE_URL"].rsplit("/", 1)[1]
    setting = "default_transaction_read_only"
    change = f"SET {setting} = on" if on else f"RESET {setting}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" {change}')
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )


def failing_batch(server, key: str, headers: dict) -> dict:
    """A consent refused (503) while the database takes no writes; it takes them again after
    (the module's server goes on serving the other tests). Returns the refused consent."""
    read_only(server, True)
    try:
        failed = decision(server, key)
        assert post_consent(server, key, failed, headers).status_code == 503
    finally:
        read_only(server, False)
    deadline = time.monotonic() + 30
    while post_consent(server, key, decision(server, key)).status_code != 201:
        assert time.monotonic() < deadline, "consents are not stored again"
        time.sleep(0.1)
    return failed


def test_logs_hold_no_full_ip_no_device_id_and_no_secret(live_server, demo):
    """On the module's server: what every test of the module made it log is checked too."""
    server = live_server
    key, token = demo
    logged_before = len(server.log())
    forwarded = {"X-Forwarded-For": VISITOR_IP}
    body = decision(server, key)
    assert post_consent(server, key, body, forwarded).status_code == 201
    secret = body.get("device_secret", "no-secret-sent")
    history = f"/api/v1/sites/{key}/devices/{body['device_id']}/consents"
    server.get(history, headers={**forwarded, "Accord-Device-Secret": secret})
    server.api("GET", "/sites", token, headers=forwarded)
    server.get(f"/s/{key}.js", headers={**forwarded, "Referer": f"{ORIGIN}/?d={body['device_id']}"})
    send_invalid_request(server)
    failed = None
    if backend_of(server) == "postgresql":
        failed = failing_batch(server, key, forwarded)

    log = server.log()
    assert f'"GET {history.replace(body["device_id"], "<hidden>")}' in log  # access log on
    assert "Invalid request" in log  # gunicorn's error line about the bad request
    if failed:
        assert "consent batch of 1 failed" in log[logged_before:]  # this test's, not another's
        assert failed["device_id"] not in log and failed["consent_id"] not in log
    for needle in (VISITOR_IP, body["device_id"], body["consent_id"], secret, token):
        assert needle not in log, needle
    assert "198.51.100.0/24 - - [" in log  # the visitor's network is kept
    # The socket peer (127.0.0.1) is a client too: its network only, in the access log and
    # in gunicorn's complaint about the bad request. Only the master's own configuration and
    # "Listening at" lines name the server's address.
    access = [line for line in log.splitlines() if re.match(r"\S+ - - \[", line)]
    assert access and all(line.split()[0].endswith("/24") for line in access), access
    assert "127.0.0.0/24 - - [" in log
    [invalid] = [line for line in log.splitlines() if "Invalid request" in line]
    assert "ip=127.0.0.0" in invalid


# --- 9: the running server's SQLite files are the owner's alone ----------------------------


@pytest.mark.sqlite_only  # PostgreSQL keeps its files itself
def test_the_running_servers_database_files_are_private(live_server, demo):
    key, _ = demo
    assert post_consent(live_server, key, decision(live_server, key)).status_code == 201
    instance = Path(live_server.env["ACCORD_INSTANCE_PATH"])
    files = {f.name: stat.S_IMODE(f.stat().st_mode) for f in instance.iterdir()}
    assert {"accord.db", "accord.db-wal", "accord.db-shm"} <= set(files), files
    assert {name: mode for name, mode in files.items() if mode != 0o600} == {}
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
