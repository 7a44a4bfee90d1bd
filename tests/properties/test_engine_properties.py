"""Properties of the consent rules, checked across the browser engine and the server.

Hypothesis builds sites, regimes, GPC signals, stored decisions and visitor actions; the
snippet's own engine (snippet/src/engine.js, run by Node) answers, and the server's rules
(`check_choices`) must accept every decision the engine makes, while the engine keeps its
promises: strictly necessary purposes always on, nothing optional before consent under
opt_in, GPC honoured, stale or old decisions asked again.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmp_server.services.consents import check_choices
from cmp_server.services.lookup import RevisionRules
from cmp_server.vocabulary import ACTIONS, CONSENT_MODE_SIGNALS, REGIMES

ORACLE = Path(__file__).with_name("engine_oracle.mjs")
DAY_MS = 86_400_000
NOW = 1_800_000_000_000

pytestmark = pytest.mark.skipif(not shutil.which("node"), reason="Node.js is needed")


@pytest.fixture(scope="module")
def engine():
    process = subprocess.Popen(
        ["node", str(ORACLE)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )

    def ask(question: dict) -> dict:
        process.stdin.write(json.dumps(question) + "\n")
        process.stdin.flush()
        return json.loads(process.stdout.readline())

    yield ask
    process.stdin.close()
    process.wait(10)
    process.stdout.close()


keys = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
categories = st.lists(
    st.fixed_dictionaries(
        {
            "key": keys,
            "required": st.booleans(),
            "honor_gpc": st.booleans(),
            "consent_mode": st.lists(st.sampled_from(CONSENT_MODE_SIGNALS), unique=True),
        }
    ),
    min_size=1,
    max_size=6,
    unique_by=lambda c: c["key"],
)


@st.composite
def situations(draw):
    cats = draw(categories)
    revision = draw(st.integers(1, 5))
    site = {
        "revision": revision,
        "reconsent_revision": draw(st.integers(1, revision)),
        "consent_lifetime_days": draw(st.integers(1, 395)),
        "config": {"categories": cats},
    }
    stored = draw(
        st.none()
        | st.fixed_dictionaries(
            {
                "revision": st.integers(1, revision),
                "choices": st.fixed_dictionaries({c["key"]: st.booleans() for c in cats}),
                "decided_at_days_ago": st.integers(0, 400),
            }
        )
    )
    if stored:
        days = stored.pop("decided_at_days_ago")
        stored["decided_at"] = _iso(NOW - days * DAY_MS)
    return {
        "site": site,
        "action": draw(st.sampled_from(ACTIONS)),
        "regime": draw(st.sampled_from(REGIMES)),
        "gpc": draw(st.booleans()),
        "wanted": draw(st.fixed_dictionaries({c["key"]: st.booleans() for c in cats})),
        "stored": stored,
        "now": NOW,
    }


def _iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def rules_of(site: dict) -> RevisionRules:
    cats = site["config"]["categories"]
    return RevisionRules(
        number=site["revision"],
        hash="0" * 64,
        keys=tuple(c["key"] for c in cats),
        required=frozenset(c["key"] for c in cats if c["required"]),
        honor_gpc=frozenset(c["key"] for c in cats if c["honor_gpc"]),
        kinds={c["key"]: frozenset() for c in cats},
        lifetime_days=site["consent_lifetime_days"],
        regimes={},
        default_language="en",
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(situations())
def test_every_decision_the_engine_makes_is_one_the_server_accepts(engine, situation):
    answer = engine(situation)
    site, action = situation["site"], situation["action"]
    check_choices(rules_of(site), action, answer["choices"])  # raises if the server refuses


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(situations())
def test_engine_promises(engine, situation):
    answer = engine(situation)
    cats = situation["site"]["config"]["categories"]
    site, stored = situation["site"], situation["stored"]
    for c in cats:
        # Strictly necessary purposes are always on, whatever happens.
        assert answer["choices"][c["key"]] is True or not c["required"]
        assert answer["effective"][c["key"]] is True or not c["required"]
        if c["required"]:
            continue
        # Nothing optional runs before consent under opt_in...
        if situation["regime"] == "opt_in":
            assert answer["defaults"][c["key"]] is False
        # ...and GPC turns off what it covers, in every regime.
        if situation["gpc"] and c["honor_gpc"]:
            assert answer["defaults"][c["key"]] is False
        if situation["action"] in ("reject_all", "withdraw"):
            assert answer["choices"][c["key"]] is False
        if situation["action"] == "accept_all":
            assert answer["choices"][c["key"]] is True
    current = (
        stored is not None
        and stored["revision"] >= site["reconsent_revision"]
        and situation["now"] - _ms(stored["decided_at"]) <= site["consent_lifetime_days"] * DAY_MS
    )
    assert answer["needs_banner"] is (not current)
    if not current:
        assert answer["effective"] == answer["defaults"]
    granted_signals = {s for c in cats if answer["choices"][c["key"]] for s in c["consent_mode"]}
    assert {s for s, v in answer["consent_mode"].items() if v == "granted"} == granted_signals


def _ms(iso: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)
