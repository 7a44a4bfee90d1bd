"""Seed a site's log with realistic, valid consent records, for benchmarks and demos.

Records go through the same `prepare_consent` and `seal_batch` as real ones, so the chain,
the tallies and the hashes are exactly what production writes. Their devices get no device
secret bound, like devices recorded before device secrets existed (their next consent would
bind one).
"""

import random
import uuid
from datetime import timedelta
from typing import cast

from cmp_server.extensions import db
from cmp_server.models.types import utcnow
from cmp_server.services.consents import prepare_consent
from cmp_server.services.lookup import RevisionRules, revision_rules, site_state
from cmp_server.services.sealing import seal_batch
from cmp_server.visitor import VisitorContext

COUNTRIES = ["FR", "DE", "GB", "US", "ES", "IT", "NL", "BE", "SE", None]
AGENTS = [
    ("Chrome", "Windows", "desktop"),
    ("Safari", "iOS", "mobile"),
    ("Chrome Mobile", "Android", "mobile"),
    ("Firefox", "Linux", "desktop"),
    ("Edge", "Windows", "desktop"),
    ("Mobile Safari", "iOS", "tablet"),
]
ACTION_WEIGHTS = {"accept_all": 55, "reject_all": 30, "custom": 12, "withdraw": 2, "gpc": 1}


def _decision(rules, rng):
    action = rng.choices(list(ACTION_WEIGHTS), weights=list(ACTION_WEIGHTS.values()))[0]
    optional = [k for k in rules.keys if k not in rules.required]
    if action == "accept_all":
        granted = set(optional)
    elif action == "custom":
        granted = {k for k in optional if rng.random() < 0.5}
    elif action == "gpc":
        granted = {k for k in optional if k not in rules.honor_gpc}
    else:
        granted = set()
    return action, {k: k in rules.required or k in granted for k in rules.keys}


def seed_consents(site_key: str, count: int, days: int = 30, batch=5000, progress=None, seed=1):
    """Append `count` records spread over the last `days` days; `progress(n)` after each batch."""
    rng = random.Random(seed)
    state = site_state(site_key)
    if state.published is None:
        raise ValueError(f"site {site_key} has nothing published")
    rules = cast(RevisionRules, revision_rules(state.id, state.published))  # it is published
    start = utcnow() - timedelta(days=days)
    step = timedelta(days=days) / max(count, 1)
    languages = ["en", "fr"]
    done = 0
    while done < count:
        pendings = []
        for i in range(done, min(done + batch, count)):
            action, choices = _decision(rules, rng)
            browser, os_name, device = rng.choice(AGENTS)
            country = rng.choice(COUNTRIES)
            visitor = VisitorContext(
                country, browser, os_name, device, f"192.0.{i % 250}.0/24", action == "gpc"
            )
            data = {
                "consent_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "device_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "revision": rules.number,
                "action": action,
                "choices": choices,
                "language": rng.choice(languages),
                "page_url": f"https://shop.example/page/{i % 97}",
                "gpc": action == "gpc",
                "client_ts": None,
            }
            pendings.append(prepare_consent(state, data, visitor, now=start + step * i))
        with db.engine.begin() as conn:
            seal_batch(conn, pendings)
        done += len(pendings)
        if progress:
            progress(len(pendings))
    return done
