"""Sites: create, import, export, publish revisions, and what a visitor is served.

The draft lives in Site/Category/Tracker rows; `publish_revision` freezes it into an immutable
Revision whose canonical JSON and hash are the proof of what the visitor was shown.

Two settings of the configuration document are not part of the draft: `origins` (who may
post consents from a browser) and `retention_days` (how long proofs are kept) apply at once,
without publishing. `save_draft`, the door staff and the CLI edit an existing site through,
audits each of them as its own event, and lets only the roles with the retention capability
change retention.
"""

import json

from marshmallow import ValidationError
from sqlalchemy import func, select

from cmp_server.extensions import db
from cmp_server.models import Category, LogHead, Revision, Site, Tracker
from cmp_server.proof.canonical import canonical_json, sha256_hex
from cmp_server.proof.log import GENESIS_HASH
from cmp_server.schemas.site import SiteCreateSchema, site_config_schema
from cmp_server.services.audit import Actor
from cmp_server.services.demo import demo_site_config  # noqa: F401 - re-exported
from cmp_server.services.errors import Forbidden, InvalidInput, NotFound
from cmp_server.services.lookup import forget_after_commit
from cmp_server.services.texts import texts_for
from cmp_server.vocabulary import EEA_COUNTRIES

DEFAULT_LOOK = {
    "position": "bottom",
    "colors": {
        "background": "#ffffff",
        "text": "#1f2933",
        "accept_background": "#1d4ed8",
        "accept_text": "#ffffff",
        "reject_background": "#1d4ed8",
        "reject_text": "#ffffff",
        "link": "#1d4ed8",
    },
}

TRACKER_FIELDS = (
    "name",
    "provider",
    "kind",
    "purpose",
    "duration",
    "cookies",
    "domains",
    "privacy_policy_url",
)


def validation_error(exc: ValidationError, what: str) -> InvalidInput:
    return InvalidInput(f"The {what} is not valid: see fields.", fields=exc.messages_dict)


def get_site(site_key: str) -> Site:
    site = db.session.scalar(select(Site).where(Site.site_key == site_key))
    if site is None:
        raise NotFound(f"No site has the key {site_key!r}.", code="unknown_site")
    return site


def list_sites() -> list[Site]:
    return list(db.session.scalars(select(Site).order_by(Site.id)))


def create_site(name: str, origins: list[str] | None = None) -> Site:
    """A new site with one strictly necessary category, ready to edit and publish."""
    try:
        data = SiteCreateSchema().load({"name": name, "origins": origins or []})
    except ValidationError as exc:
        raise validation_error(exc, "site") from None
    return import_site(
        {
            "name": data["name"],
            "origins": data["origins"],
            "categories": [
                {
                    "key": "necessary",
                    "required": True,
                    "consent_mode": ["security_storage"],
                    "labels": {
                        "en": {
                            "title": "Strictly necessary",
                            "description": "Needed for the site to work; always on.",
                        }
                    },
                }
            ],
        }
    )


def load_config(data: dict) -> dict:
    """A configuration document, validated (InvalidInput naming the fields)."""
    try:
        return site_config_schema.load(data)
    except ValidationError as exc:
        raise validation_error(exc, "site configuration") from None


def import_site(data: dict, site: Site | None = None) -> Site:
    """Validate a configuration document and write it as the draft of `site` (or a new site),
    its live settings included, unaudited: staff and the CLI edit a site through
    `save_draft`."""
    config = load_config(data)
    if site is None:
        site = Site(name=config["name"])
        db.session.add(site)
        db.session.flush()
        db.session.add(LogHead(site_id=site.id, size=0, head_hash=GENESIS_HASH))
    site.origins = config["origins"]
    site.retention_days = config["retention_days"]
    write_draft(site, config)
    return site


def write_draft(site: Site, config: dict) -> None:
    """Replace the draft (what a publish freezes) with a validated configuration."""
    for field in (
        "name",
        "languages",
        "default_language",
        "privacy_policy_url",
        "consent_lifetime_days",
        "regimes",
        "texts",
        "look",
    ):
        setattr(site, field, config[field])
    site.categories.clear()
    db.session.flush()
    for position, cat in enumerate(config["categories"]):
        category = Category(
            key=cat["key"],
            position=position,
            required=cat["required"],
            honor_gpc=cat["honor_gpc"],
            consent_mode=cat["consent_mode"],
            labels=cat["labels"],
            trackers=[
                Tracker(position=i, **{f: t[f] for f in TRACKER_FIELDS})
                for i, t in enumerate(cat["trackers"])
            ],
        )
        site.categories.append(category)
    db.session.flush()


RETENTION_ONLY_ON_ITS_PAGE = "changed only by a DPO or admin on the retention page"


def save_draft(site: Site, data: dict, actor: Actor, may_change_retention: bool, what: str) -> Site:
    """Write a configuration document as the draft of `site`, audited as a draft edit (`what`
    names the part edited), with its live settings audited apart.

    A document without `retention_days` keeps the site's. A different `retention_days` from
    someone without the retention capability is refused (403), so a marketer cannot shorten
    how long proofs are kept; the same value passes, so an export round-trips.
    """
    config = load_config({"retention_days": site.retention_days, **data})
    if config["retention_days"] != site.retention_days and not may_change_retention:
        raise Forbidden(
            "Retention is changed only by a DPO or an admin, on the retention page.",
            fields={"retention_days": [RETENTION_ONLY_ON_ITS_PAGE]},
            code="retention_forbidden",
        )
    write_draft(site, config)
    actor.record("site.draft.update", site_key=site.site_key, target=what)
    if config["retention_days"] != site.retention_days:
        set_retention(site, config["retention_days"], site.legal_hold, actor)
    if config["origins"] != list(site.origins):
        actor.record(
            "site.origins.update",
            site_key=site.site_key,
            details={"before": list(site.origins), "after": config["origins"]},
        )
        site.origins = config["origins"]
    db.session.flush()
    forget_after_commit(site.site_key)
    return site


def set_retention(site: Site, retention_days: int, legal_hold: bool, actor: Actor) -> None:
    """Change how long the site's proofs are kept and its legal hold, audited as one
    retention change (the retention page, the API and a configuration document alike)."""
    before = {"retention_days": site.retention_days, "legal_hold": site.legal_hold}
    site.retention_days, site.legal_hold = retention_days, legal_hold
    after = {"retention_days": retention_days, "legal_hold": legal_hold}
    actor.record(
        "site.retention.update", site_key=site.site_key, details={"before": before, "after": after}
    )
    db.session.flush()


def export_site(site: Site) -> dict:
    """The site's draft as the configuration document; `import_site` of it gives the same."""
    return {
        "name": site.name,
        "origins": list(site.origins),
        "languages": list(site.languages),
        "default_language": site.default_language,
        "privacy_policy_url": site.privacy_policy_url,
        "consent_lifetime_days": site.consent_lifetime_days,
        "retention_days": site.retention_days,
        "regimes": dict(site.regimes),
        "texts": {lang: dict(t) for lang, t in site.texts.items()},
        "look": dict(site.look),
        "categories": [
            {
                "key": c.key,
                "required": c.required,
                "honor_gpc": c.honor_gpc,
                "consent_mode": list(c.consent_mode),
                "labels": {lang: dict(label) for lang, label in c.labels.items()},
                "trackers": [{f: getattr(t, f) for f in TRACKER_FIELDS} for t in c.trackers],
            }
            for c in site.categories
        ],
    }


def revision_snapshot(site: Site) -> dict:
    """Everything the visitor is shown, with default texts and look filled in."""
    config = export_site(site)
    del config["origins"], config["retention_days"]
    config["texts"] = {lang: texts_for(lang, site.texts.get(lang)) for lang in site.languages}
    colors = {**DEFAULT_LOOK["colors"], **(site.look.get("colors") or {})}
    config["look"] = {"position": site.look.get("position", "bottom"), "colors": colors}
    return config


def reconsent_reasons(old: dict | None, new: dict) -> list[str]:
    """Why decisions taken on `old` do not cover `new`: a purpose or tracker added or widened."""
    if old is None:
        return ["first revision"]
    reasons = []
    old_categories = {c["key"]: c for c in old["categories"]}
    for category in new["categories"]:
        before = old_categories.get(category["key"])
        if before is None:
            if not category["required"]:
                reasons.append(f"purpose {category['key']!r} added")
            continue
        if before["required"] and not category["required"]:
            reasons.append(f"purpose {category['key']!r} is no longer strictly necessary")
        if set(category["consent_mode"]) - set(before["consent_mode"]):
            reasons.append(f"purpose {category['key']!r} grants more Consent Mode signals")
        if category["required"]:
            continue
        old_trackers = {t["name"]: t for t in before["trackers"]}
        for tracker in category["trackers"]:
            was = old_trackers.get(tracker["name"])
            if was is None:
                reasons.append(f"tracker {tracker['name']!r} added to {category['key']!r}")
            elif (
                was["kind"] != tracker["kind"]
                or set(tracker["cookies"]) - set(was["cookies"])
                or set(tracker["domains"]) - set(was["domains"])
                or was["purpose"] != tracker["purpose"]
            ):
                reasons.append(f"tracker {tracker['name']!r} in {category['key']!r} widened")
    return reasons


def published_revision(site: Site) -> Revision | None:
    return db.session.scalar(
        select(Revision).where(Revision.site_id == site.id).order_by(Revision.number.desc())
    )


def get_revision(site: Site, number: int) -> Revision:
    revision = db.session.scalar(
        select(Revision).where(Revision.site_id == site.id, Revision.number == number)
    )
    if revision is None:
        raise NotFound(f"Site {site.site_key!r} has no revision {number}.", code="unknown_revision")
    return revision


def publish_revision(
    site: Site, requires_reconsent: bool | None = None, published_by: str | None = None
) -> Revision:
    """Freeze the draft into revision N+1.

    A revision that adds or widens a purpose or tracker always requires re-consent; for
    anything else (a wording fix) the publisher decides, and the decision is recorded.
    """
    from cmp_server.services.snippet import snippet_build_hash

    if not site.categories:
        raise InvalidInput("Add at least one category before publishing.")
    snapshot = revision_snapshot(site)
    previous = published_revision(site)
    old_snapshot = None
    if previous is not None:
        old_snapshot = json.loads(previous.canonical_json)
    reasons = reconsent_reasons(old_snapshot, snapshot)
    if reasons and requires_reconsent is False:
        raise InvalidInput(
            "This revision requires re-consent: " + "; ".join(reasons),
            code="reconsent_required",
        )
    required = bool(reasons) if requires_reconsent is None else requires_reconsent
    if previous is not None and not reasons and old_snapshot == snapshot:
        reasons = ["no change"]
    canonical = canonical_json(snapshot)
    number = (previous.number if previous else 0) + 1
    revision = Revision(
        site_id=site.id,
        number=number,
        canonical_json=canonical,
        config_hash=sha256_hex(canonical.encode()),
        snippet_hash=snippet_build_hash(),
        requires_reconsent=required,
        reconsent_revision=number if required or previous is None else previous.reconsent_revision,
        reconsent_reasons="; ".join(reasons),
        published_by=published_by,
    )
    db.session.add(revision)
    db.session.flush()
    return revision


def regime_for(regimes: dict, country: str | None) -> str:
    """The regime for a visitor's country; an unknown country gets the strictest, opt_in."""
    if not country:
        return "opt_in"
    if country in regimes:
        return regimes[country]
    if country in EEA_COUNTRIES and "EEA" in regimes:
        return regimes["EEA"]
    return regimes.get("default", "opt_in")


def client_config(revision: Revision, site_key: str, regime: str, api: str, gpc: bool) -> dict:
    """What the snippet and `GET /config` give the browser for one visitor."""
    return {
        "site_key": site_key,
        "revision": revision.number,
        "revision_hash": revision.config_hash,
        "regime": regime,
        "reconsent_revision": revision.reconsent_revision,
        "consent_lifetime_days": json.loads(revision.canonical_json)["consent_lifetime_days"],
        "gpc": gpc,
        "api": api,
        "config": json.loads(revision.canonical_json),
    }


# What the banner never reads: left out of the snippet, where every byte is paid on every
# page view. `GET /config` keeps the whole document.
SNIPPET_UNUSED = ("name", "regimes", "consent_lifetime_days")
SNIPPET_UNUSED_CLIENT = ("revision_hash", "site_key")


def snippet_config(client: dict) -> dict:
    """The client configuration as embedded in the snippet: unused and empty values dropped
    (false ones too: the snippet reads a missing flag as false)."""
    config = {k: v for k, v in client["config"].items() if k not in SNIPPET_UNUSED}
    config["categories"] = [
        {
            **{
                k: v for k, v in category.items() if (v != [] and v is not False) or k == "trackers"
            },
            "trackers": [
                {k: v for k, v in tracker.items() if v not in (None, [], "") and k != "domains"}
                for tracker in category["trackers"]
            ],
        }
        for category in config["categories"]
    ]
    snippet = {k: v for k, v in client.items() if k not in SNIPPET_UNUSED_CLIENT and v is not False}
    snippet["config"] = config
    return snippet


def revision_count(site: Site) -> int:
    return db.session.scalar(select(func.count()).where(Revision.site_id == site.id))
