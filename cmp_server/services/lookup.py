"""Short-lived, per-process caches of what every public request needs about a site.

Sites change rarely and revisions never, so the hot paths (snippet, consent POST) read them
from here instead of the database. Site settings are re-read after a few seconds; publishing
in this process invalidates at once, other workers catch up within ACCORD_SITE_CACHE_SECONDS.
"""

import json
import threading
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from cmp_server.extensions import db
from cmp_server.models import Revision, Site
from cmp_server.services.errors import NotFound


@dataclass(frozen=True, slots=True)
class SiteState:
    id: int
    site_key: str
    origins: tuple[str, ...]
    published: int | None  # the latest revision number, None before the first publish
    fresh_until: float = 0.0  # time.monotonic() after which it is read again


@dataclass(frozen=True, slots=True)
class RevisionRules:
    """The parts of a revision that decide whether a consent is valid, and what it allows."""

    number: int
    hash: str
    keys: tuple[str, ...]
    required: frozenset[str]
    honor_gpc: frozenset[str]
    kinds: dict  # category key -> frozenset of tracker kinds
    lifetime_days: int
    regimes: dict
    default_language: str


_lock = threading.Lock()
_sites: dict[str, SiteState] = {}
_refreshing: set[str] = set()  # site keys being re-read by some thread
_rules: dict[tuple[int, int], RevisionRules] = {}


def site_state(site_key: str) -> SiteState:
    """The cached state of a site, or NotFound. When it is due to be re-read, one thread
    re-reads it while the others go on with the cached state (no stampede on the database)."""
    cached = _sites.get(site_key)
    if cached is None:
        return _read_site_state(site_key)
    if time.monotonic() < cached.fresh_until:
        return cached
    with _lock:
        if site_key in _refreshing:
            return cached
        _refreshing.add(site_key)
    try:
        return _read_site_state(site_key)
    finally:
        with _lock:
            _refreshing.discard(site_key)


def _read_site_state(site_key: str) -> SiteState:
    now = time.monotonic()
    site = db.session.scalar(select(Site).where(Site.site_key == site_key))
    if site is None:
        raise NotFound(f"No site has the key {site_key!r}.", code="unknown_site")
    published = db.session.scalar(
        select(Revision.number)
        .where(Revision.site_id == site.id)
        .order_by(Revision.number.desc())
        .limit(1)
    )
    ttl = current_app.config.get("ACCORD_SITE_CACHE_SECONDS", 2.0)
    state = SiteState(site.id, site.site_key, tuple(site.origins), published, now + ttl)
    with _lock:
        _sites[site_key] = state
    return state


def revision_rules(site_id: int, number: int) -> RevisionRules | None:
    """The rules of revision `number` of a site (cached forever: revisions never change)."""
    rules = _rules.get((site_id, number))
    if rules is not None:
        return rules
    revision = db.session.scalar(
        select(Revision).where(Revision.site_id == site_id, Revision.number == number)
    )
    if revision is None:
        return None
    rules = rules_from_revision(revision)
    with _lock:
        _rules[(site_id, number)] = rules
    return rules


def rules_from_revision(revision: Revision) -> RevisionRules:
    config = json.loads(revision.canonical_json)
    categories = config["categories"]
    return RevisionRules(
        number=revision.number,
        hash=revision.config_hash,
        keys=tuple(c["key"] for c in categories),
        required=frozenset(c["key"] for c in categories if c["required"]),
        honor_gpc=frozenset(c["key"] for c in categories if c["honor_gpc"]),
        kinds={c["key"]: frozenset(t["kind"] for t in c["trackers"]) for c in categories},
        lifetime_days=config["consent_lifetime_days"],
        regimes=config["regimes"],
        default_language=config["default_language"],
    )


def forget_site(site_key: str | None = None) -> None:
    """Drop cached site state and snippet answers (one site, or all): call after changing a
    site."""
    from cmp_server.services.snippet import forget_answers

    with _lock:
        if site_key is None:
            _sites.clear()
            _rules.clear()
        else:
            _sites.pop(site_key, None)
    forget_answers(site_key)
