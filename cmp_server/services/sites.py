"""Sites and their draft: create, import, export, edit (audited), retention.

The draft lives in Site/Category/Tracker rows; services/revisions.py freezes it into an
immutable Revision, services/publishing.py is the door every publish goes through, and
services/client_config.py shapes a revision for the browser.

Three settings of the configuration document are not part of the draft: `origins` (who may
post consents from a browser), `retention_days` (how long proofs are kept) and `time_zone`
(the zone the console shows the site's dates in: the visitor never sees it, so there is
nothing to publish) apply at once, without publishing. `save_draft`, the door staff and the
CLI edit an existing site through, audits each of them as its own event, and lets only the
roles with the retention capability change retention.
"""

from marshmallow import ValidationError
from sqlalchemy import select

from cmp_server.extensions import db
from cmp_server.models import Category, LogHead, Site, Tracker
from cmp_server.proof.log import GENESIS_HASH
from cmp_server.schemas.site import SiteCreateSchema, site_config_schema
from cmp_server.services.audit import Actor
from cmp_server.services.diff import audit_changes, diff_snapshots
from cmp_server.services.errors import Forbidden, InvalidInput, NotFound
from cmp_server.vocabulary import VISITOR_OPTION_DEFAULTS

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
    """A schema's ValidationError as the API's 400, naming the fields."""
    return InvalidInput(f"The {what} is not valid: see fields.", fields=exc.messages_dict)


def get_site(site_key: str) -> Site:
    """The site with this key, or NotFound (`unknown_site`)."""
    site = db.session.scalar(select(Site).where(Site.site_key == site_key))
    if site is None:
        raise NotFound(f"No site has the key {site_key!r}.", code="unknown_site")
    return site


def list_sites() -> list[Site]:
    """Every site, oldest first."""
    return list(db.session.scalars(select(Site).order_by(Site.id)))


def create_site(name: str, origins: list[str] | None = None, actor: Actor | None = None) -> Site:
    """A new site with one strictly necessary category, ready to edit and publish; audited
    as `site.create` by `actor` (the console, the API and the CLI give one)."""
    try:
        data = SiteCreateSchema().load({"name": name, "origins": origins or []})
    except ValidationError as exc:
        raise validation_error(exc, "site") from None
    site = import_site(
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
    if actor is not None:
        actor.record("site.create", site_key=site.site_key, target=site.name)
    return site


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
    site.time_zone = config["time_zone"]
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
        *VISITOR_OPTION_DEFAULTS,
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

    A document without `retention_days` or `time_zone` keeps the site's. A different
    `retention_days` from someone without the retention capability is refused (403), so a
    marketer cannot shorten how long proofs are kept; the same value passes, so an export
    round-trips.
    """
    config = load_config(
        {"retention_days": site.retention_days, "time_zone": site.time_zone, **data}
    )
    if config["retention_days"] != site.retention_days and not may_change_retention:
        raise Forbidden(
            "Retention is changed only by a DPO or an admin, on the retention page.",
            fields={"retention_days": [RETENTION_ONLY_ON_ITS_PAGE]},
            code="retention_forbidden",
        )
    before = export_site(site)
    write_draft(site, config)
    changes = diff_snapshots(before, export_site(site))
    actor.record(
        "site.draft.update",
        site_key=site.site_key,
        target=what,
        details=audit_changes(changes) if changes else None,
    )
    if config["retention_days"] != site.retention_days:
        set_retention(site, config["retention_days"], site.legal_hold, actor)
    if config["origins"] != list(site.origins):
        actor.record(
            "site.origins.update",
            site_key=site.site_key,
            details={"before": list(site.origins), "after": config["origins"]},
        )
        site.origins = config["origins"]
    if config["time_zone"] != site.time_zone:
        actor.record(
            "site.time_zone.update",
            site_key=site.site_key,
            details={"before": site.time_zone, "after": config["time_zone"]},
        )
        site.time_zone = config["time_zone"]
    db.session.flush()
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
        "time_zone": site.time_zone,
        "regimes": dict(site.regimes),
        "texts": {lang: dict(t) for lang, t in site.texts.items()},
        "look": dict(site.look),
        **{option: getattr(site, option) for option in VISITOR_OPTION_DEFAULTS},
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
