"""Verifying the live log: the server checks in one process (forking from a threaded gunicorn
worker copies locks held by other threads); only the CLI splits a long log over two cores,
and both give the same verdict."""

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


def test_the_servers_verification_never_forks(long_log, monkeypatch):
    def forked(*args, **kwargs):
        raise AssertionError("the server forked")

    monkeypatch.setattr(split_verify, "feed_in_two", forked)
    result = verification.verify_site(long_log)
    assert result["ok"] and result["checked"] == 6


def test_the_cli_splits_a_long_log_and_agrees(long_log, monkeypatch):
    calls = []
    split = split_verify.feed_in_two
    monkeypatch.setattr(
        split_verify, "feed_in_two", lambda *args, **kw: calls.append(1) or split(*args, **kw)
    )
    whole = verification.verify_site_log(long_log)
    halves = verification.verify_site_log(long_log, split=None)  # as `accord proofs verify`
    assert calls == [1]
    assert (halves.ok, halves.records, halves.head_hash) == (True, 6, whole.head_hash)
