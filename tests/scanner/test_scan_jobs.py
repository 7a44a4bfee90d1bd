"""Scans started from the admin API and the console run through the job queue (Huey on
SQLite in the instance folder, the embedded default) in a real `accord worker`."""

import re
import secrets
import subprocess
import time

import pytest

from cmp_server.proof.canonical import canonical_json
from cmp_server.proof.keys import PublicKeys
from cmp_server.scanner.evidence import scan_problem
from tests.live.conftest import BIN, ROOT, csrf_token

pytestmark = pytest.mark.browser
SCAN_TIMEOUT = 120
NEW_TOKEN = re.compile(r'data-test="new-token">([^<]+)<')


@pytest.fixture(scope="module")
def staff(live_server, shop):
    """An admin and its token made with the CLI; the marketer and the DPO made by that admin
    in the API, each with a token of its own made in the console (two `accord` runs, not six:
    each costs a process start)."""
    admin = "scan-admin@example.com"
    passwords = {"admin": live_server.create_user(admin, "admin")}
    tokens = {"admin": live_server.create_token(admin)}
    for role in ("marketer", "dpo"):
        email, passwords[role] = f"scan-{role}@example.com", secrets.token_urlsafe(20)
        body = {"email": email, "role": role, "password": passwords[role]}
        made = live_server.api("POST", "/users", tokens["admin"], json=body)
        assert made.status_code == 201, made.text
        tokens[role] = console_token(live_server, email, passwords[role])
    return tokens, passwords


def console_token(live, email: str, password: str) -> str:
    """A token made on the console's Tokens page (which shows it once)."""
    with live.login(email, password) as browser:
        page = browser.get(f"{live.url}/admin/tokens", timeout=30)
        data = {"name": "scan tests", "csrf_token": csrf_token(page.text)}
        made = browser.post(f"{live.url}/admin/tokens", data=data, timeout=30)
    assert made.status_code == 200, made.text[:500]
    return NEW_TOKEN.search(made.text).group(1)


def start_worker(live):
    return subprocess.Popen(
        [str(BIN / "accord"), "worker"],
        cwd=ROOT,
        env=live.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_done(live, token, site_key, scan_id) -> dict:
    deadline = time.monotonic() + SCAN_TIMEOUT
    while time.monotonic() < deadline:
        scan = live.api("GET", f"/sites/{site_key}/scans/{scan_id}", token).json()
        if scan["status"] in ("done", "failed"):
            return scan
        time.sleep(0.2)
    raise AssertionError(f"scan {scan_id} still {scan['status']} after {SCAN_TIMEOUT} s")


def test_a_marketer_queues_a_scan_and_the_worker_runs_it(live_server, shop, staff):
    tokens, _ = staff
    path = f"/sites/{shop.site_key}/scans"
    answer = live_server.api("POST", path, tokens["marketer"], json={"url": shop.url, "pages": 1})
    assert answer.status_code == 202, answer.text
    scan = answer.json()
    assert scan["status"] == "queued" and scan["requested_by"] == "scan-marketer@example.com"
    report = live_server.api("GET", f"{path}/{scan['id']}/report", tokens["dpo"])
    assert report.status_code == 409 and report.json()["error"]["code"] == "scan_not_done"

    worker = start_worker(live_server)
    try:
        done = wait_done(live_server, tokens["dpo"], shop.site_key, scan["id"])
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert done["status"] == "done", done
    assert (
        done["verdict"] == "fail" and done["violations"] == 7
    )  # page3 (sitemap only) is past --pages 1
    assert done["progress"]["phase"] == "after_accept"
    report = live_server.api("GET", f"{path}/{scan['id']}/report", tokens["dpo"]).json()
    assert report["verdict"] == "fail" and len(report["pages"]) == 2
    listed = live_server.api("GET", path, tokens["dpo"]).json()["scans"]
    assert [s["id"] for s in listed][:1] == [scan["id"]]

    # An auditor checks the signed statement with the published keys, and nothing else.
    keys = PublicKeys.from_documents(
        live_server.get("/.well-known/accord-keys.json").json()["keys"]
    )
    statement = done["statement"]
    assert statement["report_hash"] == done["report_hash"] and statement["verdict"] == "fail"
    assert scan_problem(statement, keys, canonical_json(report)) is None
    report["verdict"] = "pass"
    assert "not the one" in scan_problem(statement, keys, canonical_json(report))
    assert "bad signature" in scan_problem({**statement, "verdict": "pass"}, keys)


def test_a_dpo_reads_scans_but_cannot_start_one(live_server, shop, staff):
    tokens, passwords = staff
    path = f"/sites/{shop.site_key}/scans"
    refused = live_server.api("POST", path, tokens["dpo"], json={"url": shop.url})
    assert refused.status_code == 403
    browser = live_server.login("scan-dpo@example.com", passwords["dpo"])
    page = browser.get(f"{live_server.url}/admin/sites/{shop.site_key}/scans", timeout=30)
    assert page.status_code == 200, live_server.log()[-3000:]
    assert "Start a scan" not in page.text
    posted = browser.post(
        f"{live_server.url}/admin/sites/{shop.site_key}/scans",
        data={"url": shop.url, "pages": "0", "csrf_token": csrf_token(page.text)},
        allow_redirects=False,
        timeout=30,
    )
    assert posted.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://169.254.169.254/latest/meta-data/"}, "url"),
        ({"url": "file:///etc/passwd"}, "url"),
        ({"url": "SHOP", "pages": -1}, "pages"),
        ({"url": "SHOP", "pages": "3"}, "pages"),
        ({"url": "SHOP", "extra": 1}, "extra"),
    ],
)
def test_bad_scan_requests_are_400_naming_the_field(live_server, shop, staff, body, field):
    body = {k: shop.url if v == "SHOP" else v for k, v in body.items()}
    answer = live_server.api("POST", f"/sites/{shop.site_key}/scans", staff[0]["admin"], json=body)
    assert answer.status_code == 400, answer.text
    assert field in answer.json()["error"]["fields"]


def test_the_console_adds_an_undeclared_finding_to_the_draft(live_server, shop, staff):
    tokens, passwords = staff
    scans = live_server.api("GET", f"/sites/{shop.site_key}/scans", tokens["dpo"]).json()["scans"]
    done = next(s for s in scans if s["status"] == "done")
    report = live_server.api(
        "GET", f"/sites/{shop.site_key}/scans/{done['id']}/report", tokens["dpo"]
    ).json()
    index = next(i for i, f in enumerate(report["findings"]) if f["name"] == "leak_early")
    browser = live_server.login("scan-marketer@example.com", passwords["marketer"])
    page = browser.get(f"{live_server.url}/admin/sites/{shop.site_key}/scans/{done['id']}")
    assert page.status_code == 200 and "Violation" in page.text and "Add to draft" in page.text
    posted = browser.post(
        f"{live_server.url}/admin/sites/{shop.site_key}/scans/{done['id']}/findings/{index}/declare",
        data={f"f{index}-category": "analytics", "csrf_token": csrf_token(page.text)},
        allow_redirects=False,
    )
    assert posted.status_code == 302
    draft = live_server.api("GET", f"/sites/{shop.site_key}/config", tokens["dpo"]).json()
    analytics = next(c for c in draft["categories"] if c["key"] == "analytics")
    added = analytics["trackers"][-1]
    assert added["cookies"] == ["leak_early"] and added["kind"] == "cookie"


def test_the_dashboard_and_the_publish_page_warn_of_the_last_scan(live_server, shop, staff):
    _, passwords = staff
    browser = live_server.login("scan-marketer@example.com", passwords["marketer"])
    base = f"{live_server.url}/admin/sites/{shop.site_key}"
    dashboard = browser.get(f"{base}/dashboard")
    assert dashboard.status_code == 200 and 'data-test="scan-notice"' in dashboard.text
    assert "violations" in dashboard.text and "does not declare" in dashboard.text
    publish = browser.get(f"{base}/publish")
    assert publish.status_code == 200 and "The last scan is older than the draft" in publish.text
