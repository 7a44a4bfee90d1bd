"""Observations of a scan, matched with the site's declarations and the Open Cookie Database,
become the report of the contract (DESIGN.md, "Scanner: what the site really does").

A finding is a violation when it was seen before a choice or after refusal and is not
declared in a required category. Accord's own traces (its cookie and storage keys, requests to
its server, its snippet reading the language or GPC) are strictly necessary: reported, never a
violation.
"""

from typing import Any
from urllib.parse import urlsplit

from cmp_server.scanner.browse import AFTER_REFUSE, BEFORE_CHOICE, PHASES, Observations
from cmp_server.scanner.ocd import CookieDatabase
from cmp_server.vocabulary import CONSENT_COOKIE

REPORT_FORMAT = 1
ACCORD_COOKIES = {CONSENT_COOKIE}
ACCORD_STORAGE = {
    "accord_consent",
    "accord_device",
    "accord_secret",
    "accord_queue",
    "accord_receipts",
}
ACCORD_KNOWN = {"platform": "Accord", "category": "Necessary", "source": "accord"}
KIND_ORDER = {"cookie": 0, "storage": 1, "request": 2, "fingerprinting": 3}
# Which declared tracker kinds describe a finding of each kind, best first.
DECLARED_KINDS = {
    "cookie": ("cookie", "storage", "beacon", "fingerprinting"),
    "storage": ("storage", "cookie", "beacon", "fingerprinting"),
    "request": ("beacon", "cookie", "storage", "fingerprinting"),
    "fingerprinting": ("fingerprinting",),
}


def name_matches(pattern: str, name: str) -> bool:
    """The snippet's rule (blocker.js): a trailing `*` is a prefix, else the exact name."""
    return name.startswith(pattern[:-1]) if pattern.endswith("*") else pattern == name


def host_matches(domain: str, host: str) -> bool:
    """A declared domain covers itself and its subdomains (with or without a port)."""
    domain = domain.lower().strip().lstrip(".")
    hostname = host.lower().rsplit(":", 1)[0] if ":" in host else host.lower()
    return bool(domain) and any(h == domain or h.endswith("." + domain) for h in (host, hostname))


class Declarations:
    """The trackers of a published revision, by category."""

    def __init__(self, snapshot: dict, site_host: str):
        self.site_host = site_host
        self.trackers = [
            (category, tracker)
            for category in snapshot.get("categories", [])
            for tracker in category.get("trackers", [])
        ]

    def match(self, kind: str, name: str, host: str) -> dict | None:
        candidates = [
            (category, tracker)
            for category, tracker in self.trackers
            if tracker.get("kind") in DECLARED_KINDS[kind]
            and self._covers(tracker, kind, name, host)
        ]
        if not candidates:
            return None
        order = DECLARED_KINDS[kind]
        # A declaration in a required category settles the verdict; then the closest kind.
        candidates.sort(key=lambda ct: (not ct[0].get("required"), order.index(ct[1]["kind"])))
        category, tracker = candidates[0]
        return {"category": category["key"], "tracker": tracker["name"]}

    def _covers(self, tracker: dict, kind: str, name: str, host: str) -> bool:
        domains = tracker.get("domains") or []
        if kind in ("cookie", "storage"):
            return any(name_matches(p, name) for p in tracker.get("cookies") or [])
        if kind == "request":
            return any(host_matches(d, host) for d in domains)
        # fingerprinting: by the calling script's host; a tracker without domains is the
        # site's own script.
        if domains:
            return any(host_matches(d, host) for d in domains)
        return host == self.site_host

    def is_required(self, category_key: str) -> bool:
        return any(c["key"] == category_key and c.get("required") for c, _ in self.trackers)


def is_accord(kind: str, entry: dict, accord_origin: str, site_host: str) -> bool:
    """Whether a finding is Accord's own trace (strictly necessary by construction)."""
    accord_host = urlsplit(accord_origin).netloc if accord_origin else None
    if kind == "cookie":
        return entry["name"] in ACCORD_COOKIES
    if kind == "storage":
        return entry["name"] in ACCORD_STORAGE
    if kind == "request":
        return entry["host"] == accord_host
    script = urlsplit(entry["script"])
    return script.netloc == accord_host and script.path.startswith("/s/")


def classify(
    seen: Observations,
    snapshot: dict,
    revision: int | None,
    database: CookieDatabase,
    started_at: str,
    finished_at: str,
) -> dict[str, Any]:
    """The report: every finding with its phases, matches and verdict."""
    site_host = urlsplit(seen.url).netloc
    declarations = Declarations(snapshot, site_host)
    findings = []
    for kind, table in (
        ("cookie", seen.cookies),
        ("storage", seen.storage),
        ("request", seen.requests),
        ("fingerprinting", seen.fingerprinting),
    ):
        for entry in table.values():
            findings.append(finding(kind, entry, declarations, database, seen.accord_origin))
    findings.sort(key=lambda f: (not f["violation"], KIND_ORDER[f["kind"]], f["host"], f["name"]))
    return {
        "format": REPORT_FORMAT,
        "site_key": seen.site_key,
        "url": seen.url,
        "revision": revision,
        "started_at": started_at,
        "finished_at": finished_at,
        "verdict": "fail" if any(f["violation"] for f in findings) else "pass",
        "pages": list(seen.pages),
        "accord_origin": seen.accord_origin,
        "findings": findings,
    }


def finding(
    kind: str, entry: dict, declarations: Declarations, database: CookieDatabase, accord: str
) -> dict:
    name, host = entry["name"], entry["host"]
    phases = [p for p in PHASES if p in entry["phases"]]
    own = is_accord(kind, entry, accord, declarations.site_host)
    declared = None if own else declarations.match(kind, name, host)
    if own:
        known = dict(ACCORD_KNOWN)
    elif kind in ("cookie", "storage"):
        match = database.match_name(name)
        known = match.as_known() if match else None
    elif kind == "request":
        match = database.match_host(urlsplit(f"//{host}").hostname or host)
        known = match.as_known() if match else None
    else:
        known = None
    early = bool({BEFORE_CHOICE, AFTER_REFUSE} & set(phases))
    allowed = own or (declared is not None and declarations.is_required(declared["category"]))
    result = {
        "kind": kind,
        "name": name,
        "host": host,
        "phases": phases,
        "declared": declared,
        "known": known,
        "violation": early and not allowed,
    }
    for extra in ("http_only", "area", "resource_type", "initiator", "script", "detail"):
        if extra in entry:
            result[extra] = entry[extra]
    return result
