"""Short-lived, per-process caches of what every public request needs about a site.

Sites change rarely and revisions never, so the hot paths (snippet, consent POST) read them
from here instead of the database. A site's state is never served older than
ACCORD_SITE_CACHE_SECONDS (counted from the start of the read that fetched it): that bounds how
long any worker, on any host, serves a revision after the next one is published. Publishing in
this process drops it at once: any transaction that changes a site, its draft or its revisions
drops the site from this app's cache when it commits (`init_app` installs the session hook), so
no caller has to remember to.

Re-reads run in a thread of their own, waited for a bounded time (database.read_within): when
the database hangs, a request gets StorageUnavailable (503) within ACCORD_DB_WAIT_SECONDS,
and what visitors' pages load (the snippet) gets the last state read, within
ACCORD_DB_STALE_WAIT_SECONDS: the only case where a state older than the cache's lifetime is
served, since nothing can be published to a database that does not answer.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from typing import TypeGuard

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cmp_server.database import read_within
from cmp_server.extensions import db
from cmp_server.models import Category, Revision, Site, Tracker
from cmp_server.services.errors import NotFound, StorageUnavailable
from cmp_server.services.snippet import forget_answers


@dataclass(frozen=True, slots=True)
class SiteState:
    """What the public routes need of a site, cached: id, key, origins, published revision."""

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
    languages: tuple[str, ...] = ()  # the site's, in its order: the snippet picks one


@dataclass
class SiteCache:
    """One app's cached site states and revision rules (two apps in one process, as in tests,
    must not serve each other's sites)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sites: dict[str, SiteState] = field(default_factory=dict)
    rules: dict[tuple[int, int], RevisionRules] = field(default_factory=dict)


EXTENSION = "accord_site_cache"


def init_app(app: Flask) -> None:
    """Give `app` its own cache, and forget sites when a transaction that changed them
    commits (one hook for every door: console, API, CLI)."""
    app.extensions[EXTENSION] = SiteCache()
    if not event.contains(Session, "after_flush", _note_changed_sites):
        event.listen(Session, "after_flush", _note_changed_sites)
        event.listen(Session, "after_flush_postexec", _name_changed_sites)
        event.listen(Session, "after_commit", _forget_changed_sites)
        event.listen(Session, "after_rollback", _drop_changed_sites)


def _cache() -> SiteCache:
    return current_app.extensions[EXTENSION]


def _fresh(state: SiteState | None) -> TypeGuard[SiteState]:
    return state is not None and time.monotonic() < state.fresh_until


def site_state(site_key: str, stale_if_unavailable: bool = False) -> SiteState:
    """The cached state of a site, or NotFound.

    A stale state is never served while the database answers, not even while another thread
    re-reads it: a worker idle for a minute would otherwise answer its next burst with a
    minute-old revision. The threads that find it stale wait for one re-read (no stampede on
    the database) and use its result. `stale_if_unavailable`: when that re-read does not
    answer in time, serve the last state read (see the module's docstring).
    """
    cached = _cache().sites.get(site_key)
    if _fresh(cached):
        return cached
    fallback = cached if stale_if_unavailable else None
    config = current_app.config
    wait = config["ACCORD_DB_STALE_WAIT_SECONDS" if fallback else "ACCORD_DB_WAIT_SECONDS"]
    try:
        return read_within(("site", site_key), lambda: _fresh_or_read(site_key), wait)
    except TimeoutError:
        if fallback is None:
            raise StorageUnavailable("The database did not answer in time.") from None
        return fallback
    except SQLAlchemyError:  # refused, say: a 503 (errors.py), or the last state read
        if fallback is None:
            raise
        return fallback


def known_state(site_key: str) -> SiteState | None:
    """The state last read of a site, however old, or None: for what must not wait for the
    database (CORS headers on an error answer)."""
    return _cache().sites.get(site_key)


def _fresh_or_read(site_key: str) -> SiteState:
    """The state another thread's re-read stored since this one found it stale, else a read."""
    cached = _cache().sites.get(site_key)
    return cached if _fresh(cached) else _read_site_state(site_key)


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
    cache = _cache()
    with cache.lock:
        cache.sites[site_key] = state
    return state


def revision_rules(site_id: int, number: int) -> RevisionRules | None:
    """The rules of revision `number` of a site (cached forever: revisions never change)."""
    cache = _cache()
    rules = cache.rules.get((site_id, number))
    if rules is not None:
        return rules
    revision = db.session.scalar(
        select(Revision).where(Revision.site_id == site_id, Revision.number == number)
    )
    if revision is None:
        return None
    rules = rules_from_revision(revision)
    with cache.lock:
        cache.rules[(site_id, number)] = rules
    return rules


def rules_from_revision(revision: Revision) -> RevisionRules:
    """The consent rules of a revision, from its canonical JSON."""
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
        languages=tuple(config["languages"]),
    )


def forget_site(site_key: str | None = None) -> None:
    """Drop this app's cached site state and snippet answers (one site, or all). Changes made
    through the session are forgotten on commit by themselves; this is for the rest (tests,
    benchmarks). Outside an app context there is nothing to forget."""
    if not has_app_context() or EXTENSION not in current_app.extensions:
        return
    cache = _cache()
    with cache.lock:
        if site_key is None:
            cache.sites.clear()
            cache.rules.clear()
        else:
            cache.sites.pop(site_key, None)
    forget_answers(site_key)


# The commit hook. A site is "changed" when the flush wrote the Site row, one of its
# categories or trackers (the draft) or a revision. Its key is noted at flush (from the
# identity map; a SELECT only for a site not loaded) and forgotten after the commit:
# forgetting earlier would let another thread cache the state the transaction is about to
# replace.
CHANGED_IDS = "accord_changed_site_ids"
CHANGED_KEYS = "accord_changed_site_keys"


def _site_id_of(obj) -> int | None:
    if isinstance(obj, Site):
        return obj.id
    if isinstance(obj, Category | Revision):
        return obj.site_id
    if isinstance(obj, Tracker):
        category = obj.__dict__.get("category")  # loaded already, or not looked up
        return category.site_id if category is not None else None
    return None


def _note_changed_sites(session: Session, _flush_context) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Site):
            session.info.setdefault(CHANGED_KEYS, set()).add(obj.site_key)
        elif (site_id := _site_id_of(obj)) is not None:
            session.info.setdefault(CHANGED_IDS, set()).add(site_id)


def _name_changed_sites(session: Session, _flush_context) -> None:
    for site_id in session.info.pop(CHANGED_IDS, ()):
        site = session.get(Site, site_id)
        if site is not None:
            session.info.setdefault(CHANGED_KEYS, set()).add(site.site_key)


def _forget_changed_sites(session: Session) -> None:
    for site_key in session.info.pop(CHANGED_KEYS, ()):
        forget_site(site_key)


def _drop_changed_sites(session: Session) -> None:
    session.info.pop(CHANGED_IDS, None)
    session.info.pop(CHANGED_KEYS, None)
