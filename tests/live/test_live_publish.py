"""Publishing on a real server: every door runs the same checks and reaches every worker.

A marketer publishes through the console or the admin API, an operator through `accord site
publish` / `site import --publish`; all three go through one service, which refuses a
configuration that breaks the rules, refuses a draft that changes nothing, and writes the
audit log. What a publish changes must then be served by both workers within
ACCORD_SITE_CACHE_SECONDS (1 s on this module's server): each worker is asked on a connection
it accepted (`workers()`) until it serves the new revision, and then many requests on new
connections (so they land on either worker) must all name it.
"""

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from cmp_server.services.demo import demo_site_config
from tests.live.conftest import csrf_token, until_every_worker
from tests.live.over_http import SetUp

CACHE_SECONDS = 1  # ACCORD_SITE_CACHE_SECONDS of this module's server (2 by default)
MARGIN = 1.5  # a request in flight, a slow re-read
POLLS = 40
REVISION = re.compile(r'"revision":(\d+)')


@pytest.fixture(scope="module")
def live_server_env():
    return {"ACCORD_SITE_CACHE_SECONDS": CACHE_SECONDS}


@pytest.fixture(scope="module")
def publisher(live_server) -> SetUp:
    """An admin who makes the sites and accounts the tests start from, over HTTP."""
    return SetUp(live_server, "publisher@example.com")


@pytest.fixture(scope="module")
def admin_token(publisher) -> str:
    return publisher.token


def compliant_config(**overrides) -> dict:
    return {**demo_site_config(["https://shop.example"]), "name": "Shop", **overrides}


def wording(description: str) -> dict:
    """A configuration whose only difference is the banner's description (no re-consent)."""
    return compliant_config(texts={"en": {"description": description}})


def new_site(publisher: SetUp, config: dict) -> str:
    """A site with this configuration as its draft, nothing published yet."""
    return publisher.import_site(config)


def put_draft(live_server, token: str, site_key: str, config: dict):
    answer = live_server.api("PUT", f"/sites/{site_key}/config", token, json=config)
    assert answer.status_code == 200, answer.text
    return answer


def publish(live_server, token: str, site_key: str):
    return live_server.api("POST", f"/sites/{site_key}/publish", token, json={})


def served_revisions(live_server, site_key: str, polls: int = POLLS) -> list[int]:
    """The revision named by the snippet in `polls` requests, four at a time, each on a new
    connection (so both workers answer some)."""

    def one(_):
        answer = live_server.get(f"/s/{site_key}.js", headers={"Accept-Encoding": "identity"})
        assert answer.status_code == 200, answer.text
        return int(REVISION.search(answer.text).group(1))

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(polls)))


def configured_revisions(live_server, site_key: str, polls: int = POLLS // 2) -> list[int]:
    def one(_):
        answer = live_server.get(f"/api/v1/sites/{site_key}/config")
        assert answer.status_code == 200, answer.text
        return answer.json()["revision"]

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(polls)))


def serves(site_key: str, number: int):
    """Whether a worker names revision `number` in the snippet and in the configuration."""

    def check(worker) -> bool:
        snippet = worker.get(f"/s/{site_key}.js", **{"Accept-Encoding": "identity"})
        assert snippet.status_code == 200, snippet.text
        config = worker.get(f"/api/v1/sites/{site_key}/config")
        assert config.status_code == 200, config.text
        served = int(REVISION.search(snippet.text).group(1))
        return served == number and config.json()["revision"] == number

    return check


def within_cache_lifetime(live_server, workers, site_key: str, number: int) -> None:
    """Every worker serves revision `number` within the cache's lifetime (from now: the
    publish has just answered), and then so do requests on new connections."""
    until_every_worker(
        workers, serves(site_key, number), CACHE_SECONDS + MARGIN, f"serving revision {number}"
    )
    assert set(served_revisions(live_server, site_key)) == {number}
    assert set(configured_revisions(live_server, site_key)) == {number}


def test_every_worker_serves_each_new_revision_within_the_cache_lifetime(
    live_server, publisher, admin_token
):
    """Publish A, then B, then A again (a revert): after each, both workers serve the new
    revision. A revert has the hash of an older revision; the workers that had rendered it
    served that older revision (its number, its re-consent point) until restarted."""
    site_key = new_site(publisher, wording("First wording."))
    workers = live_server.workers()
    for number, description in enumerate(["First wording.", "Second.", "First wording."], 1):
        put_draft(live_server, admin_token, site_key, wording(description))
        answer = publish(live_server, admin_token, site_key)
        assert answer.status_code == 201, answer.text
        assert answer.json()["number"] == number
        within_cache_lifetime(live_server, workers, site_key, number)


def test_publishing_an_unchanged_draft_is_refused_by_every_door(
    live_server, publisher, admin_token
):
    """An unchanged draft used to become a revision that no worker served (its hash was the
    published one's): the API, the CLI and the console now refuse it, and nothing changes."""
    password = publisher.user("editor@example.com", "marketer")
    site_key = new_site(publisher, wording("Unchanged."))
    assert publish(live_server, admin_token, site_key).status_code == 201

    with ThreadPoolExecutor(1) as pool:  # the CLI's start-up, while the other doors answer
        cli = pool.submit(live_server.accord, "site", "publish", site_key, check=False)

        api = publish(live_server, admin_token, site_key)
        assert api.status_code == 409
        assert api.json()["error"]["code"] == "nothing_to_publish"

        console = live_server.login("editor@example.com", password)
        page = console.get(f"{live_server.url}/admin/sites/{site_key}/publish", timeout=30)
        answer = console.post(
            f"{live_server.url}/admin/sites/{site_key}/publish",
            data={"csrf_token": csrf_token(page.text), "requires_reconsent": "y"},
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 409
        assert "nothing to publish" in answer.text

        assert cli.result().returncode == 1
        assert "nothing to publish" in cli.result().stderr

    revisions = live_server.api("GET", f"/sites/{site_key}/revisions", admin_token).json()
    assert [r["number"] for r in revisions["revisions"]] == [1]
    assert set(served_revisions(live_server, site_key, polls=8)) == {1}


# Each breaks one rule the console enforces (services/compliance.py).
NON_COMPLIANT = compliant_config(
    privacy_policy_url=None,
    consent_lifetime_days=500,
    regimes={"default": "opt_out"},
)
NON_COMPLIANT_CODES = (
    "no_privacy_policy",
    "consent_lifetime_too_long",
    "opt_out_where_consent_required",
)


def problem_codes(output: str) -> list[str]:
    """The codes of the problems the CLI listed, one a line: `  - code: message`."""
    return sorted(line[4:].split(":")[0] for line in output.splitlines() if line[:4] == "  - ")


def test_the_cli_refuses_to_import_and_publish_what_the_console_refuses(live_server, admin_token):
    path = live_server.workdir / "non-compliant.json"
    path.write_text(json.dumps({**NON_COMPLIANT, "name": "Refused shop"}))

    result = live_server.accord("site", "import", path, "--publish", check=False)

    assert result.returncode == 1
    assert problem_codes(result.stderr) == sorted(NON_COMPLIANT_CODES)
    assert "nothing was changed" in result.stderr
    listed = live_server.api("GET", "/sites", admin_token).json()["sites"]
    assert listed and "Refused shop" not in [site["name"] for site in listed]


def test_the_cli_refuses_to_publish_a_non_compliant_draft(live_server, publisher, admin_token):
    site_key = new_site(publisher, NON_COMPLIANT)

    result = live_server.accord("site", "publish", site_key, check=False)

    assert result.returncode == 1
    assert problem_codes(result.stderr) == sorted(NON_COMPLIANT_CODES)
    revisions = live_server.api("GET", f"/sites/{site_key}/revisions", admin_token).json()
    assert revisions["revisions"] == []
    assert live_server.get(f"/s/{site_key}.js").status_code == 404
    api = publish(live_server, admin_token, site_key)
    assert api.status_code == 400
    assert api.json()["error"]["code"] == "not_compliant"
    codes = {p["code"] for p in api.json()["error"]["fields"]["compliance"]}
    assert codes == set(NON_COMPLIANT_CODES)


def test_a_cli_publish_is_audited_and_reaches_every_worker(live_server, publisher, admin_token):
    site_key = new_site(publisher, wording("Before."))
    live_server.accord("site", "publish", site_key)
    assert set(served_revisions(live_server, site_key, polls=8)) == {1}
    workers = live_server.workers()
    for worker in workers:  # each has read the site: it serves revision 1 from its memory
        assert serves(site_key, 1)(worker), worker.pid
    draft = live_server.workdir / "draft.json"
    draft.write_text(json.dumps(wording("After.")))
    import_and_publish = ("site", "import", draft, "--site", site_key, "--publish", "--json")
    assert json.loads(live_server.accord(*import_and_publish).stdout)["revision"] == 2

    with ThreadPoolExecutor(1) as pool:
        # A deploy of the same file again, while the workers' caches expire: a no-op.
        again = pool.submit(live_server.accord, *import_and_publish)
        # The CLI cannot reach the workers' memory: they re-read the site when it expires.
        within_cache_lifetime(live_server, workers, site_key, 2)
        again = again.result()
    assert json.loads(again.stdout)["revision"] == 2
    assert "already this configuration" in again.stderr
    assert set(served_revisions(live_server, site_key, polls=8)) == {2}
    events = live_server.api(
        "GET", f"/audit?site={site_key}&action=site.publish", admin_token
    ).json()["events"]
    assert [(e["via"], e["actor"], e["target"]) for e in events] == [  # none for the no-op
        ("cli", "cli", "revision 2"),
        ("cli", "cli", "revision 1"),
    ]
