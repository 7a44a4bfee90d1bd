"""Verifying the live log: a long log is checked on two cores, the second half in a Python
process that is started, never forked (forking a threaded gunicorn worker copies locks held
by other threads); the console's Verify (the server) and `accord proofs verify` (the CLI)
both split it, and the verdict is one pass's."""

import os

import pytest

from cmp_server.services import split_verify, verification
from tests.fixtures.factories import consent_body


def post(client, site, n):
    for i in range(n):
        body = consent_body(("accept_all", "reject_all", "custom")[i % 3])
        assert client.post(f"/api/v1/sites/{site.site_key}/consents", json=body).status_code == 201


@pytest.fixture
def long_log(client, make_site, monkeypatch):
    """A log that counts as long (the split threshold lowered to its size)."""
    site = make_site()
    post(client, site, 6)
    monkeypatch.setattr(split_verify, "SPLIT_MIN_RECORDS", 2)
    monkeypatch.setattr(split_verify.os, "cpu_count", lambda: 2)
    return site


@pytest.fixture
def splits(monkeypatch) -> list:
    """Notes each split verification; fails the test if anything forks meanwhile."""
    calls = []
    split = split_verify.feed_in_two

    def forked():
        raise AssertionError("the verification forked")

    monkeypatch.setattr(os, "fork", forked)
    monkeypatch.setattr(
        split_verify, "feed_in_two", lambda *args, **kw: calls.append(1) or split(*args, **kw)
    )
    return calls


def test_the_servers_verification_splits_a_long_log_without_forking(long_log, splits):
    result = verification.verify_site(long_log)  # the console's and the API's Verify
    assert splits == [1]
    assert result["ok"] and result["checked"] == 6


def test_the_cli_splits_a_long_log_and_agrees(long_log, splits):
    whole = verification.verify_site_log(long_log, split=False)
    halves = verification.verify_site_log(long_log)  # as `accord proofs verify`
    assert splits == [1]
    assert (halves.ok, halves.records, halves.head_hash) == (True, 6, whole.head_hash)
