"""Turn an undeclared finding of a scan into a tracker of the site's draft.

The tracker is prefilled from the Open Cookie Database when the finding is known there
(platform, data controller, description, retention, privacy link); a wildcard entry declares
its prefix (`_hjSessionUser_*`), so every cookie of the family is covered and deleted on
refusal.
"""

from cmp_server.models import Site
from cmp_server.services import sites
from cmp_server.services.audit import Actor
from cmp_server.services.errors import InvalidInput

TRACKER_KIND = {
    "cookie": "cookie",
    "storage": "storage",
    "request": "beacon",
    "fingerprinting": "fingerprinting",
}
# Open Cookie Database category -> words that name the matching purpose key.
CATEGORY_WORDS = {
    "Analytics": ("analytic", "statistic", "measure", "audience", "performance"),
    "Marketing": ("marketing", "advert", "ads", "targeting"),
    "Functional": ("functional", "preference", "personal"),
    "Personalization": ("personal", "preference", "functional"),
    "Security": ("necessary", "essential", "security", "required"),
    "Necessary": ("necessary", "essential", "required"),
}


def tracker_from_finding(finding: dict) -> dict:
    """A tracker in the import format for this finding."""
    known = finding.get("known") or {}
    from_db = known.get("source") == "open-cookie-database"
    name = finding["name"]
    kind = TRACKER_KIND[finding["kind"]]
    cookies, domains = [], []
    if finding["kind"] in ("cookie", "storage"):
        cookies = [known["pattern"] if from_db else name]
    else:
        domains = [finding["host"].rsplit(":", 1)[0]]
    privacy = known.get("privacy_url") or ""
    return {
        "name": (known.get("platform") if from_db else None) or name[:200],
        "provider": (known.get("data_controller") or known.get("platform") or finding["host"])[
            :200
        ],
        "kind": kind,
        "purpose": known.get("description") or f"Found by a scan: {finding['kind']} {name}",
        "duration": (known.get("retention") or "")[:100],
        "cookies": cookies,
        "domains": domains,
        "privacy_policy_url": privacy if privacy.startswith(("http://", "https://")) else None,
    }


def suggest_category(finding: dict, categories: list[dict]) -> str | None:
    """The key of the site's purpose that best fits the finding's database category; never a
    required one for something found on its own (the staff member decides that)."""
    words = CATEGORY_WORDS.get((finding.get("known") or {}).get("category"), ())
    optional = [c for c in categories if not c.get("required")]
    for category in optional:
        if any(word in category["key"].lower() for word in words):
            return category["key"]
    return optional[0]["key"] if optional else None


def declare_finding(site: Site, finding: dict, category_key: str, actor: Actor) -> dict:
    """Add the finding as a tracker of `category_key` in the draft; returns the tracker."""
    data = sites.export_site(site)
    category = next((c for c in data["categories"] if c["key"] == category_key), None)
    if category is None:
        raise InvalidInput(
            f"The draft has no purpose {category_key!r}.",
            fields={"category": ["Not a purpose of the draft."]},
        )
    tracker = tracker_from_finding(finding)
    category["trackers"].append(tracker)
    sites.save_draft(site, data, actor, False, f"tracker {tracker['name']} in {category_key}")
    return tracker
