"""Revisions: the draft frozen into an immutable, numbered snapshot of what the visitor is shown.

A revision's canonical JSON (RFC 8785) and its SHA-256 are the proof of what the visitor saw;
consents name the revision they were given on. Whether a change needs visitors to decide
again is decided here (`reconsent_reasons`); the compliance gate, the audit event and the
"nothing changed" rule are the publishing door's (services/publishing.py).
"""

import json
from typing import Any

from sqlalchemy import select

from cmp_server.extensions import db
from cmp_server.models import Revision, Site
from cmp_server.proof.canonical import canonical_json, sha256_hex
from cmp_server.schemas.site import per_language
from cmp_server.services.errors import InvalidInput, NotFound
from cmp_server.services.sites import export_site
from cmp_server.services.snippet import snippet_build_hash
from cmp_server.services.texts import texts_for

DEFAULT_LOOK: dict[str, Any] = {
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


def revision_snapshot(site: Site) -> dict:
    """Everything the visitor is shown, with default texts and look filled in."""
    config = export_site(site)
    del config["origins"], config["retention_days"], config["time_zone"]
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
                or purpose_changed(was, old["default_language"], tracker)
            ):
                reasons.append(f"tracker {tracker['name']!r} in {category['key']!r} widened")
    return reasons


def purpose_changed(was: dict, was_language: str, tracker: dict) -> bool:
    """Whether a tracker's purpose says something else: a text changed in a language both
    revisions have. A new translation is a wording matter (the publisher decides); a revision
    from before translations holds a plain string, its default language's text."""
    before = per_language(was["purpose"], was_language)
    return any(before[lang] != text for lang, text in tracker["purpose"].items() if lang in before)


def published_revision(site: Site) -> Revision | None:
    """The site's latest revision (what visitors are shown), or None before the first."""
    return db.session.scalar(
        select(Revision).where(Revision.site_id == site.id).order_by(Revision.number.desc())
    )


def get_revision(site: Site, number: int) -> Revision:
    """Revision `number` of the site, or NotFound (`unknown_revision`)."""
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
