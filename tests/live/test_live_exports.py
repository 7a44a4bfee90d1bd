"""The CSV for DPOs, as a DPO gets it from a real server (CLI and admin API, both databases):
the documented columns, one per category, choices in words, no salt and no hash; the NDJSON
keeps every technical field; both say the same about each record. The demo site and an admin
token are made once (`demo`)."""

import csv
import io
import json
import re
from pathlib import Path

import pytest

from tests.live.test_live_hardening import decision, demo_admin, demo_site, post_consent

TECHNICAL = {"salt", "personal_digest", "prev_hash", "record_hash", "revision_hash", "choices"}
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def demo(live_server) -> tuple[str, str]:
    """The demo site's key and its admin's API token, made once for the module."""
    key = demo_site(live_server)
    return key, demo_admin(live_server).token


def documented_columns() -> list[str]:
    """The CSV columns the README's export section lists, in its order; `choice_<category>`
    stands for the per-category ones. Read from the README, so the two cannot drift apart."""
    section = README.read_text(encoding="utf-8").split("with these columns:", 1)[1]
    table = section.strip().split("\n\n", 1)[0].splitlines()[2:]  # after the head and rule
    return [name for line in table for name in re.findall(r"`([^`]+)`", line.split("|")[1])]


def categories(server, key) -> list[dict]:
    return server.get(f"/api/v1/sites/{key}/config").json()["config"]["categories"]


def test_the_dpo_csv_has_the_documented_columns_and_says_choices_in_words(
    live_server, demo, tmp_path
):
    key, token = demo
    cats = categories(live_server, key)
    optional = [c["key"] for c in cats if not c["required"]]
    granted, refused = optional[0], optional[-1]
    choices = {c["key"]: c["required"] or c["key"] == granted for c in cats}
    custom = decision(live_server, key, action="custom", choices=choices)
    assert post_consent(live_server, key, custom).status_code == 201
    rejected = decision(live_server, key)
    assert post_consent(live_server, key, rejected).status_code == 201

    out = tmp_path / "proofs.csv"
    live_server.accord("proofs", "export", "--site", key, "--format", "csv", "-o", out)
    from_cli = out.read_text(encoding="utf-8")
    answer = live_server.api("GET", f"/sites/{key}/consents/export?format=csv", token)
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Accord-Export-Version"] == "2"
    assert answer.text.splitlines()[0] == from_cli.splitlines()[0]

    readme = documented_columns()
    assert readme[6] == "choice_<category>" and len(readme) == 23
    for text in (from_cli, answer.text):
        rows = list(csv.DictReader(io.StringIO(text)))
        header = list(rows[0])
        spread = [f"choice_{c['key']}" for c in cats]
        start = header.index(spread[0])
        assert header[start : start + len(spread)] == spread  # one column per category
        documented = [*readme[:6], *spread, *readme[7:]]
        assert header == documented
        assert not TECHNICAL & set(header)
        [mine] = [r for r in rows if r["consent_id"] == custom["consent_id"]]
        assert mine["action"] == "custom" and mine["gpc"] == "no"
        assert mine[f"choice_{granted}"] == "granted"
        assert mine[f"choice_{refused}"] == "refused"
        assert mine["details"] == "" and mine["site_key"] == key
        [theirs] = [r for r in rows if r["consent_id"] == rejected["consent_id"]]
        assert {theirs[f"choice_{k}"] for k in optional} == {"refused"}


def test_the_ndjson_keeps_every_technical_field(live_server, demo):
    key, token = demo
    body = decision(live_server, key)
    assert post_consent(live_server, key, body).status_code == 201
    answer = live_server.api("GET", f"/sites/{key}/consents/export?format=ndjson", token)
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Accord-Export-Version"] == "1"
    [record] = [
        r
        for r in map(json.loads, answer.text.splitlines())
        if r["consent_id"] == body["consent_id"]
    ]
    assert set(record) >= TECHNICAL
    assert record["choices"] == body["choices"] and record["gpc"] is False
