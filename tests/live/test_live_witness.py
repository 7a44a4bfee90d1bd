"""Witnesses against a real server (gunicorn, two workers; SQLite and PostgreSQL) and a real
`accord witness serve`, run by someone else with its own key and database.

What a witness buys: the operator, or anyone with the database, can cut the log's tail and
move the head and the later checkpoints back, and the database alone still verifies; the
witness kept the checkpoint it cosigned, so `accord proofs verify` now names it. A witness
that is down must never cost a consent: checkpoints reach it on a later run.

Each test works on a site of its own (a new log for the witness too), so the servers and the
one witness are shared by the module: `live_server`, whose checkpoints the witness cosigns
(`witnessed`), and one whose witness is down (`unreachable`: its URL is a door to the same
witness, closed until a test opens it to bring the witness back). /healthz reports the worst
lag over every site, so its test has a server of its own; what the Verify page says with no
witness at all is read on a server without one (SQLite only: a page's wording); both are
module servers too (`more_live_servers`), stopped with the others. Sites, accounts and tokens
are made over HTTP (`SetUp`); the `accord proofs` commands are what is checked.
"""

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cmp_server.services.demo import demo_site_config
from config import normalise_database_url
from tests.fixtures.stall_proxy import StallProxy
from tests.live.conftest import csrf_token
from tests.live.over_http import SetUp
from tests.proof.test_accord_verify import ORIGIN, post_consents
from tests.proof.witness_process import Witness

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def witness(tmp_path_factory):
    running = Witness(tmp_path_factory.mktemp("witness")).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def live_server_env(witness):
    """The module's `live_server` sends its checkpoints to `witness`."""
    return {"ACCORD_WITNESSES": witness.url}


@pytest.fixture(scope="module")
def witnessed(live_server) -> SetUp:
    """The module's server, whose checkpoints `witness` cosigns (with its set-up admin)."""
    return SetUp(live_server)


@pytest.fixture(scope="module")
def witness_keys(witness) -> Path:
    """The witness's public key file, as its operator hands it to an auditor."""
    return witness.key_file()


@pytest.fixture(scope="module")
def unreachable(more_live_servers, witness):
    """A server whose witness is down: (its set-up admin, the witness's URL, the door).

    The URL is a door to `witness` that refuses connections, as the port of a stopped witness
    does, until `door.listen()`: the witness comes back without a process of its own."""
    door = StallProxy(witness.port).start()
    door.refuse()
    try:
        down = f"http://127.0.0.1:{door.port}"
        yield SetUp(more_live_servers(ACCORD_WITNESSES=down)), down, door
    finally:
        door.stop()


def publish_site(setup: SetUp, name: str) -> str:
    """A published site of the demo's configuration, under this name; returns its key."""
    return setup.import_site({**demo_site_config([ORIGIN]), "name": name}, publish=True)


def sql(server, *statements: str, **params) -> None:
    """What someone with the database can do, behind the server's back (in one transaction)."""
    engine = create_engine(normalise_database_url(server.env["DATABASE_URL"]))
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params)
    engine.dispose()


def cut_tail(server, site_key: str, keep: int) -> None:
    """Delete the records after `keep`, move the head back to record `keep`, and delete the
    checkpoints and cosignatures that would show the longer log."""
    site = "(SELECT id FROM sites WHERE site_key = :key)"
    sql(
        server,
        f"DELETE FROM consent_records WHERE site_id = {site} AND position > {keep}",
        f"UPDATE log_heads SET size = {keep}, head_hash = (SELECT record_hash FROM "
        f"consent_records WHERE site_id = {site} AND position = {keep}) WHERE site_id = {site}",
        f"DELETE FROM checkpoints WHERE site_id = {site} AND size > {keep}",
        f"DELETE FROM witness_cosignatures WHERE site_id = {site}",
        key=site_key,
    )


def test_a_cut_tail_is_caught_by_verify_with_a_witness(witnessed, witness):
    server = witnessed.server
    site_key = publish_site(witnessed, "Witnessed shop")
    post_consents(server, site_key, 3)
    server.accord("proofs", "checkpoint", "--site", site_key)  # size 3: not cut below
    post_consents(server, site_key, 4)
    sent = server.accord("proofs", "checkpoint", "--site", site_key).stdout
    assert f"witness {witness.url}: cosigned size 7" in sent
    latest = server.get(f"/api/v1/sites/{site_key}/checkpoints/latest").json()
    assert latest["checkpoint"]["size"] == 7
    assert [c["checkpoint"]["size"] for c in latest["cosignatures"]] == [7]
    assert "Witness " + witness.url in server.accord("proofs", "verify", "--site", site_key).stdout

    cut_tail(server, site_key, 4)

    result = server.accord("proofs", "verify", "--site", site_key, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"witness {witness.url} cosigned size 7, but the log has only 4 records" in (
        result.stderr
    )
    # The operator cannot get the witness to cosign the shorter log either.
    refused = server.accord("proofs", "checkpoint", "--site", site_key).stdout
    assert f"witness {witness.url}: not sent: it cosigned size 7, beyond this log" in refused


def test_a_rewritten_tail_grown_back_is_caught_too(witnessed, witness):
    server = witnessed.server
    site_key = publish_site(witnessed, "Rewritten shop")
    post_consents(server, site_key, 5)
    server.accord("proofs", "checkpoint", "--site", site_key)
    cut_tail(server, site_key, 3)
    post_consents(server, site_key, 4)  # new records 4-7 on the cut log: another history
    result = server.accord("proofs", "verify", "--site", site_key, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"witness {witness.url} cosigned size 5 with head" in result.stderr
    sent = server.accord("proofs", "checkpoint", "--site", site_key).stdout
    assert "refused (409 log_forked" in sent


def test_a_witness_that_is_down_never_blocks_consents(unreachable):
    setup, down, door = unreachable
    server = setup.server
    site_key = publish_site(setup, "Busy shop")
    post_consents(server, site_key, 4)  # each one 201 (asserted inside)
    first = server.accord("proofs", "checkpoint", "--site", site_key)
    assert f"witness {down}: unreachable" in first.stdout
    lag = server.accord("proofs", "verify", "--site", site_key, check=False)
    assert f"Witness {down}: none, 4 records behind the head" in lag.stdout
    assert f"witness {down} could not be asked" in lag.stderr  # so the tail is not vouched for
    assert lag.returncode == 1
    post_consents(server, site_key, 2)

    door.listen()  # the witness is back, at the same URL
    try:
        later = server.accord("proofs", "checkpoint", "--site", site_key).stdout
        assert f"witness {down}: cosigned size 6" in later
        latest = server.get(f"/api/v1/sites/{site_key}/checkpoints/latest").json()
        assert latest["cosignatures"][0]["checkpoint"]["size"] == 6
        now = server.accord("proofs", "verify", "--site", site_key).stdout
        assert f"Witness {down}: cosigned up to size 6, 0 records behind the head" in now
    finally:
        door.refuse()  # down again for the module's other tests


def test_a_bundle_carries_the_cosignatures_for_accord_verify(witnessed, witness_keys):
    server = witnessed.server
    site_key = publish_site(witnessed, "Audited shop")
    post_consents(server, site_key, 5)
    server.accord("proofs", "checkpoint", "--site", site_key)
    bundle = server.workdir / f"proof-{site_key}.zip"
    server.accord("proofs", "export", "--site", site_key, "-o", bundle)
    keys = server.workdir / "accord-keys.json"
    keys.write_bytes(server.get("/.well-known/accord-keys.json").content)

    def accord_verify(*args):
        return subprocess.run(
            [str(BIN / "accord-verify"), bundle, "--trusted-keys", keys, *map(str, args)],
            capture_output=True,
            text=True,
            timeout=120,
        )

    key_id = json.loads(witness_keys.read_text())["keys"][0]["key_id"]
    ok = accord_verify("--witness-keys", witness_keys)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"Witness {key_id}:  cosigned a checkpoint of this bundle" in ok.stdout


def verify_page(setup: SetUp, site_key: str, run=False) -> str:
    """The console's Verify page as a DPO sees it (after pressing "Verify now" if `run`)."""
    server = setup.server
    email = f"dpo-{uuid.uuid4().hex[:8]}@example.com"
    session = server.login(email, setup.user(email, "dpo"))
    url = f"{server.url}/admin/sites/{site_key}/verify"
    page = session.get(url, timeout=30)
    assert page.status_code == 200
    if run:
        page = session.post(url, data={"csrf_token": csrf_token(page.text)}, timeout=30)
        assert page.status_code == 200
    return page.text


def test_the_verify_page_shows_each_witness_lag_or_what_it_cannot_see(unreachable):
    setup, down, _ = unreachable
    lagging = setup.server
    site_key = publish_site(setup, "Lagging shop")
    post_consents(lagging, site_key, 3)
    lagging.accord("proofs", "checkpoint", "--site", site_key)
    page = verify_page(setup, site_key, run=True)
    assert f"<td>{down}</td><td>nothing yet</td><td>—</td><td>3</td>" in page
    assert "The log does not verify" in page and f"witness {down} could not be asked" in page
    assert "No witness is configured" not in page


@pytest.mark.sqlite_only
def test_the_verify_page_says_when_no_witness_is_configured(more_live_servers):
    alone = SetUp(more_live_servers())  # no witness configured
    site_key = publish_site(alone, "Lonely shop")
    page = verify_page(alone, site_key)
    assert "No witness is configured" in page
    assert "cannot detect records removed from the end of the log" in page


def test_the_witness_lag_shows_in_healthz_and_the_metrics(more_live_servers, witness):
    """What a monitoring system sees: the lag grows with consents not yet cosigned, /healthz
    stays 200, and Prometheus reads the same figure with an API token. /healthz reads every
    site of its server, so the server is this test's own (the witness's log is new anyway)."""
    setup = SetUp(more_live_servers(ACCORD_WITNESSES=witness.url))
    server = setup.server
    site_key = publish_site(setup, "Monitored shop")
    post_consents(server, site_key, 3)
    server.accord("proofs", "checkpoint", "--site", site_key)
    post_consents(server, site_key, 2)

    health = server.get("/healthz")
    assert health.status_code == 200
    assert health.json()["witnesses"] == {
        witness.url: {"site": site_key, "cosigned_size": 3, "behind": 2}
    }
    _, token = setup.user_with_token("prometheus@example.com", "marketer", [site_key])
    metrics = server.api("GET", "/metrics", token)
    assert metrics.status_code == 200, metrics.text
    lag = f'accord_witness_lag_records{{site="{site_key}",witness="{witness.url}"}} 2'
    assert lag in metrics.text.splitlines()
    assert server.get("/api/v1/admin/metrics").status_code == 401

    server.accord("proofs", "checkpoint", "--site", site_key)
    assert server.get("/healthz").json()["witnesses"][witness.url]["behind"] == 0
