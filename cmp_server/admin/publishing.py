"""What the console and the API show before publishing, and the publish itself.

Both sides call these, so the compliance checks cannot be skipped by using the API.
"""

import json
from dataclasses import dataclass

from cmp_server.admin.diff import Change, diff_snapshots
from cmp_server.models import Revision, Site
from cmp_server.services import compliance, sites


@dataclass
class PublishPreview:
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
    snapshot = sites.revision_snapshot(site)
    published = sites.published_revision(site)
    old = json.loads(published.canonical_json) if published else None
    return PublishPreview(
        site=site,
        published=published,
        snapshot=snapshot,
        changes=diff_snapshots(old, snapshot),
        reconsent_reasons=sites.reconsent_reasons(old, snapshot),
        problems=compliance.check_config(snapshot),
    )


def publish(site: Site, requires_reconsent: bool | None, published_by: str) -> Revision:
    """Refuse a non-compliant draft (InvalidInput naming each problem), else publish it."""
    compliance.ensure_publishable(sites.revision_snapshot(site))
    return sites.publish_revision(
        site, requires_reconsent=requires_reconsent, published_by=published_by
    )
