"""Settings that apply without publishing: retention and allowed origins, on a real server.

How long proofs are kept is the DPO's decision (README, roles). The configuration document
carries `retention_days` too, and a marketer may write that document (console "Edit as JSON",
`PUT /api/v1/admin/sites/KEY/config`): these tests act as that marketer, then check that the
roles allowed to change retention are audited as a retention change wherever they do it.
"""

import json

import pytest

from cmp_server.services.demo import demo_site_config
from tests.live.conftest import csrf_token, until_every_worker
from tests.live.over_http import SetUp

DPO_RETENTION = 400
CACHE_SECONDS, MARGIN = 1, 1.5  # ACCORD_SITE_CACHE_SECONDS of this module's server (2 by default)
REFUSAL = "changed only by a DPO or admin on the retention page"


@pytest.fixture(scope="module")
def live_server_env():
    return {"ACCORD_SITE_CACHE_SECONDS": CACHE_SECONDS}


@pytest.fixture(scope="module")
def people(live_server):
    """Tokens of an admin, a marketer and a DPO, and their console sessions (the one each
    made its token in); the admin makes the others and the sites over HTTP (`SetUp`)."""
    admin = SetUp(live_server, "admin@retention.example")
    tokens = {"admin": admin.token}
    consoles = {"admin": admin.console}
    for role in ("marketer", "dpo"):
        _, consoles[role], tokens[role] = admin.signed_in(f"{role}@retention.example", role)
    return tokens, consoles, admin


@pytest.fixture
def site_key(live_server, people):
    """A site whose DPO set retention to DPO_RETENTION days on the retention API."""
    tokens, _, admin = people
    key = admin.import_site(demo_site_config(["https://shop.example"]))
    answer = live_server.api(
        "PUT", f"/sites/{key}/retention", tokens["dpo"], json={"retention_days": DPO_RETENTION}
    )
    assert answer.status_code == 200, answer.text
    return key


def config(live_server, token, site_key) -> dict:
    answer = live_server.api("GET", f"/sites/{site_key}/config", token)
    assert answer.status_code == 200, answer.text
    return answer.json()


def put_config(live_server, token, site_key, document):
    return live_server.api("PUT", f"/sites/{site_key}/config", token, json=document)


def audit_events(live_server, people, site_key, action) -> list[dict]:
    tokens, *_ = people
    answer = live_server.api("GET", f"/audit?site={site_key}&action={action}", tokens["admin"])
    assert answer.status_code == 200, answer.text
    return answer.json()["events"]


def retention_changes(live_server, people, site_key) -> list[tuple]:
    """(actor, via, days before, days after) of each retention change, oldest first."""
    events = audit_events(live_server, people, site_key, "site.retention.update")
    return [
        (
            e["actor"],
            e["via"],
            e["details"]["before"]["retention_days"],
            e["details"]["after"]["retention_days"],
        )
        for e in reversed(events)
    ]


def test_a_marketer_cannot_shorten_retention_through_the_config_api(live_server, people, site_key):
    tokens, *_ = people
    document = config(live_server, tokens["marketer"], site_key)
    assert document["retention_days"] == DPO_RETENTION

    shorter = {**document, "retention_days": 1}
    answer = put_config(live_server, tokens["marketer"], site_key, shorter)

    assert answer.status_code == 403
    error = answer.json()["error"]
    assert error["code"] == "retention_forbidden"
    assert error["fields"] == {"retention_days": [REFUSAL]}
    assert config(live_server, tokens["admin"], site_key)["retention_days"] == DPO_RETENTION
    assert retention_changes(live_server, people, site_key) == [
        ("dpo@retention.example", "api", 1825, DPO_RETENTION)
    ]


def test_a_marketer_may_send_the_document_back_with_retention_as_it_is_or_without_it(
    live_server, people, site_key
):
    tokens, *_ = people
    document = config(live_server, tokens["marketer"], site_key)
    same = put_config(live_server, tokens["marketer"], site_key, document)
    assert same.status_code == 200, same.text
    without = {k: v for k, v in document.items() if k != "retention_days"}
    assert put_config(live_server, tokens["marketer"], site_key, without).status_code == 200
    assert config(live_server, tokens["admin"], site_key)["retention_days"] == DPO_RETENTION


def test_a_marketer_cannot_shorten_retention_in_the_consoles_json_editor(
    live_server, people, site_key
):
    tokens, consoles, _ = people
    console = consoles["marketer"]
    url = f"{live_server.url}/admin/sites/{site_key}/json"
    page = console.get(url, timeout=30)
    document = {**config(live_server, tokens["marketer"], site_key), "retention_days": 1}

    answer = console.post(
        url,
        data={"csrf_token": csrf_token(page.text), "document": json.dumps(document)},
        allow_redirects=False,
        timeout=30,
    )

    assert answer.status_code == 403
    assert f"retention_days: {REFUSAL}" in answer.text
    assert config(live_server, tokens["admin"], site_key)["retention_days"] == DPO_RETENTION


def test_an_admin_changing_retention_in_the_config_is_audited_as_a_retention_change(
    live_server, people, site_key
):
    tokens, *_ = people
    document = config(live_server, tokens["admin"], site_key)
    answer = put_config(live_server, tokens["admin"], site_key, {**document, "retention_days": 90})
    assert answer.status_code == 200, answer.text
    assert answer.json()["retention_days"] == 90
    assert retention_changes(live_server, people, site_key)[-1] == (
        "admin@retention.example",
        "api",
        DPO_RETENTION,
        90,
    )


def test_the_operator_may_change_retention_with_site_import_audited_as_the_cli(
    live_server, people, site_key
):
    tokens, *_ = people
    path = live_server.workdir / "shorter.json"
    document = config(live_server, tokens["admin"], site_key)
    path.write_text(json.dumps({**document, "retention_days": 30}))

    live_server.accord("site", "import", path, "--site", site_key)

    assert config(live_server, tokens["admin"], site_key)["retention_days"] == 30
    assert retention_changes(live_server, people, site_key)[-1] == ("cli", "cli", 400, 30)


def test_allowed_origins_apply_at_once_and_are_audited_apart_from_the_draft(
    live_server, people, site_key
):
    """Origins are not part of a revision: whoever edits the draft (admin, marketer) changes
    who may post consents at once, so each change is its own audit event."""
    tokens, *_ = people
    new_origin = "https://new-shop.example"
    preflight = {"Origin": new_origin, "Access-Control-Request-Method": "POST"}
    consents = f"/api/v1/sites/{site_key}/consents"
    workers = live_server.workers()

    def answers_the_new_origin(worker) -> bool:
        return worker.request("OPTIONS", consents, preflight).status_code == 204

    for worker in workers:  # each has read the site: the new origin is refused
        assert worker.request("OPTIONS", consents, preflight).status_code == 403
    document = config(live_server, tokens["marketer"], site_key)
    origins = [*document["origins"], new_origin]

    wider = {**document, "origins": origins}
    answer = put_config(live_server, tokens["marketer"], site_key, wider)

    assert answer.status_code == 200, answer.text
    [event] = audit_events(live_server, people, site_key, "site.origins.update")
    assert (event["actor"], event["via"]) == ("marketer@retention.example", "api")
    assert sorted(event["details"]["before"]) == sorted(document["origins"])
    assert sorted(event["details"]["after"]) == sorted(origins)
    assert len(audit_events(live_server, people, site_key, "site.retention")) == 1  # the DPO's
    # Every worker re-reads the site within the cache's lifetime.
    until_every_worker(workers, answers_the_new_origin, CACHE_SECONDS + MARGIN, "allowing it")
    for _ in range(8):  # new connections: either worker
        assert live_server.request("OPTIONS", consents, headers=preflight).status_code == 204
