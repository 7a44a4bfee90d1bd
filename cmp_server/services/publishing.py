"""Publishing a site's draft: the one door the console, the admin API and the CLI go through.

`preview` shows what a publish would change and what blocks it; `publish` refuses a draft
that breaks the compliance rules or that changes nothing, freezes it into a new revision,
writes the audit event; the transaction's commit drops this app's caches of the site
(services/lookup.py), and other workers and hosts re-read it within
ACCORD_SITE_CACHE_SECONDS. Like every
service it flushes and lets its caller commit.
"""

import json
from dataclasses import dataclass

from cmp_server.models import Revision, Site
from cmp_server.proof.canonical import canonical_json, sha256_hex
from cmp_server.services import compliance, revisions, screenshots
from cmp_server.services.audit import Actor
from cmp_server.services.diff import Change, diff_snapshots
from cmp_server.services.errors import Conflict


@dataclass
class PublishPreview:
    """What publishing the draft now would do, and what stops it."""

    site: Site
    published: Revision | None
    snapshot: dict
    changes: list[Change]
    reconsent_reasons: list[str]
    problems: list[compliance.Problem]

    @property
    def requires_reconsent(self) -> bool:
        return bool(self.reconsent_reasons)

    def as_dict(self) -> dict:
        return {
            "published_revision": self.published.number if self.published else None,
            "next_revision": (self.published.number if self.published else 0) + 1,
            "requires_reconsent": self.requires_reconsent,
            "reconsent_reasons": self.reconsent_reasons,
            "changes": [c.as_dict() for c in self.changes],
            "problems": [p.as_dict() for p in self.problems],
            "publishable": not self.problems,
        }


def preview(site: Site) -> PublishPreview:
    """The draft's snapshot against the published revision, and what blocks publishing."""
    snapshot = revisions.revision_snapshot(site)
    published = revisions.published_revision(site)
    old = json.loads(published.canonical_json) if published else None
    return PublishPreview(
        site=site,
        published=published,
        snapshot=snapshot,
        changes=diff_snapshots(old, snapshot),
        reconsent_reasons=revisions.reconsent_reasons(old, snapshot),
        problems=compliance.check_config(snapshot),
    )


def draft_unchanged(site: Site) -> bool:
    """Whether the draft is what visitors see already (so there is nothing to publish)."""
    published = revisions.published_revision(site)
    snapshot = revisions.revision_snapshot(site)
    return published is not None and (
        sha256_hex(canonical_json(snapshot).encode()) == published.config_hash
    )


def ensure_changed(site: Site, snapshot: dict) -> None:
    """Refuse to publish what the visitor is already shown: a second revision with the same
    content would only move the re-consent point and the numbering."""
    published = revisions.published_revision(site)
    if published is not None and sha256_hex(canonical_json(snapshot).encode()) == (
        published.config_hash
    ):
        raise Conflict(
            f"The draft is the same as the published revision {published.number}: there is "
            "nothing to publish. Edit the draft first.",
            code="nothing_to_publish",
        )


def publish(site: Site, requires_reconsent: bool | None, actor: Actor) -> Revision:
    """Publish the draft as the next revision, audited; InvalidInput (`not_compliant`, one
    problem per entry of `fields["compliance"]`) or Conflict (`nothing_to_publish`) else."""
    snapshot = revisions.revision_snapshot(site)
    compliance.ensure_publishable(snapshot)
    ensure_changed(site, snapshot)
    revision = revisions.publish_revision(
        site, requires_reconsent=requires_reconsent, published_by=actor.email
    )
    screenshots.note_published(revision)  # drawn by a worker once this commits
    actor.record(
        "site.publish",
        site_key=site.site_key,
        target=f"revision {revision.number}",
        details={
            "revision": revision.number,
            "config_hash": revision.config_hash,
            "requires_reconsent": revision.requires_reconsent,
            "reasons": revision.reconsent_reasons,
        },
    )
    return revision
