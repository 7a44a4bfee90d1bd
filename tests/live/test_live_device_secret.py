"""The device secret on a real server (gunicorn, two workers), attacked over HTTP: someone
who read a visitor's `accord_consent` cookie (any script of the site can, and the site's
server receives it) holds the device ID and nothing else. They must not read the device's
history, erase it or add consents to it; two first consents racing on two workers bind one
secret; and the secret reaches no export and no log line.

The tests share the module's server (with an access log) and its demo site: each works on
devices of its own, so the last one reads the log of every request the module sent.
"""

import json
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, unquote

import pytest

ORIGIN = "https://shop.example"
DEMO_PASSWORD = "live-demo-password-0123"  # noqa: S105 - a throwaway test account
HEADER = "Accord-Device-Secret"
ATTACKER_SECRET = "attacker-" + "0123456789abcdef" * 2  # well-formed, not the device's


@pytest.fixture(scope="module")
def live_server_env(tmp_path_factory):
    return {"GUNICORN_ACCESSLOG": tmp_path_factory.mktemp("access-log") / "access.log"}


@pytest.fixture(scope="module")
def key(live_server) -> str:
    """The published demo site (made by `accord demo`); returns its key."""
    out = live_server.accord("demo", "--origin", ORIGIN, "--password", DEMO_PASSWORD).stdout
    return re.search(r"key ([\w-]+)", out).group(1)  # site keys are base64url


class Device:
    """A visitor's browser: a device ID and the secret it keeps beside its decision."""

    def __init__(self, server, site_key: str):
        self.server = server
        self.site_key = site_key
        self.device_id = str(uuid.uuid4())
        self.secret = f"{uuid.uuid4()}{uuid.uuid4()}"

    def decision(self, action="reject_all", secret=None) -> dict:
        answer = self.server.get(f"/api/v1/sites/{self.site_key}/config")
        assert answer.status_code == 200, answer.text
        config = answer.json()
        categories = config["config"]["categories"]
        return {
            "consent_id": str(uuid.uuid4()),
            "device_id": self.device_id,
            "revision": config["revision"],
            "action": action,
            "choices": {c["key"]: c["required"] or action == "accept_all" for c in categories},
            "language": "en",
            "page_url": ORIGIN + "/cart",
            "device_secret": secret or self.secret,
        }

    def post(self, body: dict):
        return self.server.post(
            f"/api/v1/sites/{self.site_key}/consents", json=body, headers={"Origin": ORIGIN}
        )

    def consent(self, action="reject_all") -> dict:
        body = self.decision(action)
        answer = self.post(body)
        assert answer.status_code == 201, answer.text
        return body

    @property
    def path(self) -> str:
        return f"/api/v1/sites/{self.site_key}/devices/{self.device_id}/consents"

    def cookie(self, body: dict) -> str:
        """The `accord_consent` cookie the snippet writes for this decision: what a third
        party script or the site's server reads."""
        decision = {k: body[k] for k in ("consent_id", "device_id", "revision", "action")}
        return quote(json.dumps({**decision, "choices": body["choices"]}))


def refused(answer) -> bool:
    return answer.status_code == 403 and answer.json()["error"]["code"] == "device_secret_mismatch"


def history(server, device, secret) -> list:
    answer = server.get(device.path, headers={HEADER: secret})
    assert answer.status_code == 200, answer.text
    return [c["consent_id"] for c in answer.json()["consents"]]


def test_a_device_id_read_from_the_cookie_opens_nothing(live_server, key):
    victim = Device(live_server, key)
    first = victim.consent("reject_all")
    cookie = victim.cookie(first)
    assert victim.secret not in cookie  # what the attacker can read holds no secret
    stolen_id = json.loads(unquote(cookie))["device_id"]
    assert stolen_id == victim.device_id

    attacker = Device(live_server, key)
    attacker.device_id = stolen_id
    # Several times each, on new connections: every worker refuses.
    for _ in range(4):
        for headers in ({}, {HEADER: ATTACKER_SECRET}):
            read = live_server.get(victim.path, headers={"Origin": ORIGIN, **headers})
            assert refused(read), read.text
            assert first["consent_id"] not in read.text
            assert refused(live_server.request("DELETE", victim.path, headers=headers))
        assert refused(attacker.post(attacker.decision("accept_all", ATTACKER_SECRET)))
        without = attacker.decision("accept_all")
        del without["device_secret"]
        assert refused(attacker.post(without))

    # The victim's history is untouched: one decision, a refusal, still theirs.
    assert history(live_server, victim, victim.secret) == [first["consent_id"]]
    second = victim.consent("accept_all")
    assert history(live_server, victim, victim.secret) == [
        first["consent_id"],
        second["consent_id"],
    ]
    erased = live_server.request("DELETE", victim.path, headers={HEADER: victim.secret})
    assert erased.status_code == 200 and erased.json()["erased"] == 2


def test_first_consents_racing_on_two_workers_bind_one_secret(live_server, key):
    """The real device and a copy of its ID post their first consents at the same moment,
    each with its own secret, on separate connections (so on either worker): per device,
    one is recorded and the other refused, and the history holds only the winner's."""
    pairs = []
    for _ in range(6):
        device = Device(live_server, key)
        rival = Device(live_server, key)
        rival.device_id = device.device_id
        pairs.append((device, rival, device.decision(), rival.decision()))
    start = threading.Barrier(len(pairs) * 2)
    answers = {}

    def send(name, sender, body):
        start.wait()
        answers[name] = sender.post(body)

    threads = [
        threading.Thread(target=send, args=((i, side), pair[side], pair[side + 2]))
        for i, pair in enumerate(pairs)
        for side in (0, 1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for i, (device, rival, mine, theirs) in enumerate(pairs):
        statuses = sorted([answers[i, 0].status_code, answers[i, 1].status_code])
        assert statuses == [201, 403], [answers[i, 0].text, answers[i, 1].text]
        winner, body = (device, mine) if answers[i, 0].status_code == 201 else (rival, theirs)
        loser = rival if winner is device else device
        assert refused(answers[i, 1 if winner is device else 0])
        assert history(live_server, winner, winner.secret) == [body["consent_id"]]
        assert refused(live_server.get(loser.path, headers={HEADER: loser.secret}))


def test_the_secret_reaches_no_export_and_no_log(live_server, key, tmp_path):
    server = live_server
    device = Device(server, key)
    body = device.consent()
    assert device.post(body).status_code == 201  # a replay
    assert refused(Device(server, key).post({**body, "device_secret": ATTACKER_SECRET}))
    history(server, device, device.secret)
    server.get(device.path, headers={HEADER: ATTACKER_SECRET})
    assert server.request("DELETE", device.path, headers={HEADER: device.secret}).ok

    def export(fmt: str) -> bytes:
        out = tmp_path / f"proofs.{fmt}"
        server.accord("proofs", "export", "--site", key, "--format", fmt, "-o", out)
        return out.read_bytes()

    with ThreadPoolExecutor(3) as pool:  # three reads of the same log, side by side
        exports = list(pool.map(export, ("csv", "ndjson", "bundle")))
    log = server.log()
    assert "POST /api/v1/sites/" in log  # the access log is on
    for secret in (device.secret, ATTACKER_SECRET):
        assert secret not in log
        for exported in exports:
            assert secret.encode() not in exported
