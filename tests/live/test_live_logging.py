"""Accord's own log lines on a real server: one key=value line per event, with the request id
the caller sent (or one made for it) and returned in `X-Request-Id`; refusals at WARNING;
never the caller's full address or secret. What the lines hold does not depend on the database:
SQLite only."""

import re
import time
import uuid

import pytest

WRONG_TOKEN = "acc_" + "x" * 43  # noqa: S105 - a made-up token that no account has

pytestmark = pytest.mark.sqlite_only


def log_lines_with(server, needle: str, wait: float = 5.0) -> list[str]:
    """Lines of the server's log holding `needle` (logs reach the file a moment later)."""
    deadline = time.monotonic() + wait
    while True:
        lines = [line for line in server.log().splitlines() if needle in line]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def test_a_refused_call_is_one_warning_line_with_the_callers_request_id(live_server):
    request_id = f"live-{uuid.uuid4().hex[:12]}"
    answer = live_server.api("GET", "/sites", WRONG_TOKEN, headers={"X-Request-Id": request_id})
    assert answer.status_code == 401
    assert answer.headers["X-Request-Id"] == request_id
    [line] = log_lines_with(live_server, f"request_id={request_id}")
    assert re.match(r"at=\S+Z level=WARNING logger=cmp_server\.errors ", line)
    assert 'msg="refused GET /api/v1/admin/sites: 401 unauthorized"' in line
    assert WRONG_TOKEN not in line and "127.0.0.1" not in line


def test_a_request_id_that_is_not_a_plain_token_is_replaced(live_server):
    for sent in ("10.1.2.3", "has spaces in it", "x" * 65, ""):
        answer = live_server.get("/healthz", headers={"X-Request-Id": sent})
        returned = answer.headers["X-Request-Id"]
        assert returned != sent and re.fullmatch(r"[0-9a-f]{32}", returned)


def test_every_answer_carries_a_request_id_the_snippet_included(live_server):
    site_key = live_server.create_site("Logged shop")
    for path in ("/healthz", f"/api/v1/sites/{site_key}/config", f"/s/{site_key}.js"):
        ids = {live_server.get(path).headers.get("X-Request-Id") for _ in range(3)}
        assert None not in ids and len(ids) == 3, path
