"""Recording consents, a device's history, and erasure.

A decision is checked against the revision the visitor saw, enriched with the visitor context
captured now (country, browser, truncated IP), then sealed into the site's log by the group
committer: the caller gets its receipt only after the transaction holding it has committed.
Every door to a device's records checks its secret first (services/device_secrets.py).
"""

import hashlib
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select

from cmp_server.extensions import db
from cmp_server.models import ConsentRecord
from cmp_server.models.types import utcnow
from cmp_server.proof.canonical import fast_canonical_bytes
from cmp_server.services import device_secrets
from cmp_server.services.client_config import regime_for
from cmp_server.services.errors import Conflict, InvalidInput
from cmp_server.services.lookup import RevisionRules, SiteState, revision_rules
from cmp_server.services.retention import erase_records, lock_log
from cmp_server.services.sealing import PendingConsent
from cmp_server.visitor import VisitorContext


def strip_query(url: str | None) -> str | None:
    """The page URL without query string or fragment (they often carry personal data)."""
    if not url:
        return None
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))[:2000]


def check_choices(rules: RevisionRules, action: str, choices: dict) -> None:
    """A decision names every category of its revision, required ones true, and fits its action."""
    keys = set(rules.keys)
    given = set(choices)
    problems = []
    if given - keys:
        problems.append(f"unknown categories for revision {rules.number}: {sorted(given - keys)}")
    if keys - given:
        problems.append(f"missing categories: {sorted(keys - given)}")
    if not problems:
        refused_required = sorted(k for k in rules.required if not choices[k])
        if refused_required:
            problems.append(f"strictly necessary categories are always true: {refused_required}")
        optional = keys - rules.required
        if action == "accept_all" and not all(choices[k] for k in optional):
            problems.append("accept_all grants every category")
        if action in ("reject_all", "withdraw", "close") and any(choices[k] for k in optional):
            problems.append(f"{action} grants only the strictly necessary categories")
        if action == "gpc" and any(choices[k] for k in rules.honor_gpc & optional):
            problems.append("gpc refuses every category that honours Global Privacy Control")
    if problems:
        raise InvalidInput(
            "The choices do not match the banner revision.", fields={"choices": problems}
        )


def body_hash(data: dict) -> str:
    """Hash of the decision as sent, to tell an idempotent replay from a conflicting reuse.
    The device secret is a credential, not part of the decision: it is left out, so no hash
    of it is kept with the record."""
    body = {**data, "client_ts": data["client_ts"].isoformat() if data["client_ts"] else None}
    body.pop("device_secret", None)
    return hashlib.sha256(fast_canonical_bytes(body)).hexdigest()


def consented_kinds(rules, granted: list[str]) -> set[str]:
    """The tracker kinds allowed by the categories granted that are not strictly necessary."""
    return set().union(*(rules.kinds[k] for k in granted if k not in rules.required))


def prepare_consent(
    site: SiteState, data: dict, visitor: VisitorContext, now: datetime | None = None
) -> PendingConsent:
    """Check a decision (already schema-valid) against its revision and build its record."""
    rules = revision_rules(site.id, data["revision"])
    if rules is None:
        raise InvalidInput(
            f"Site {site.site_key!r} has no published revision {data['revision']}.",
            fields={"revision": ["unknown revision"]},
        )
    check_choices(rules, data["action"], data["choices"])
    now = now or utcnow()
    choices = {k: data["choices"][k] for k in rules.keys}
    granted = [k for k in rules.keys if choices[k]]
    allowed_kinds = sorted(set().union(*(rules.kinds[k] for k in granted)) if granted else set())
    regime = regime_for(rules.regimes, visitor.country)
    language = data["language"] or rules.default_language
    gpc = bool(data["gpc"] or visitor.gpc)
    row = {
        "site_id": site.id,
        "entry_type": "consent",
        "revision": rules.number,
        "revision_hash": rules.hash,
        "action": data["action"],
        "choices": choices,
        "allowed_kinds": allowed_kinds,
        "regime": regime,
        "gpc": gpc,
        "received_at": now,
        "expires_at": now + timedelta(days=rules.lifetime_days),
        "consent_id": data["consent_id"],
        "device_id": data["device_id"],
        "language": language,
        "page_url": strip_query(data["page_url"]),
        "country": visitor.country,
        "browser": visitor.browser,
        "os": visitor.os,
        "device_type": visitor.device_type,
        "ip_truncated": visitor.ip_truncated,
        "client_ts": data["client_ts"],
    }
    tallies = [
        ("total", "all"),
        ("action", data["action"]),
        ("regime", regime),
        ("revision", str(rules.number)),
        ("language", language),
        ("country", visitor.country or "unknown"),
        ("device_type", visitor.device_type),
        ("browser", (visitor.browser or "unknown")[:100]),
        ("gpc", "yes" if gpc else "no"),
        *(("granted", k) for k in granted),
        # The dashboard's rate per tracker kind counts only what needed consent: a strictly
        # necessary cookie is allowed in every decision and would read as a 100 % rate.
        *(("kind", k) for k in consented_kinds(rules, granted)),
    ]
    secret = device_secrets.secret_hash(data.get("device_secret"))
    return PendingConsent(site.id, site.site_key, row, body_hash(data), tallies, secret)


def record_consent(pending: PendingConsent, committer) -> tuple[dict, bool]:
    """Seal one decision of a device that presents its secret (the writer checks it, or binds
    it for the device's first consent); returns (receipt, replayed). Forbidden if the device
    has another secret bound, or one and none was presented; InvalidInput if neither; a
    reused consent_id with another body is a Conflict. The caller's session is closed first:
    a thread waiting for the writer must not hold a pooled connection (with many waiting
    threads, the pool would run dry)."""
    pending.authorise = True
    db.session.close()
    outcome, receipt = committer.submit(pending)
    if outcome in device_secrets.REFUSALS:
        raise device_secrets.REFUSALS[outcome]()
    if outcome == "conflict":
        raise Conflict(
            f"consent_id {pending.row['consent_id']} was already recorded with other choices.",
            code="consent_id_conflict",
        )
    return receipt, outcome == "replay"


def device_history(site_id: int, device_id: str, secret: str | None) -> list[ConsentRecord]:
    """A device's records, oldest first, for the device that presents its secret."""
    device_secrets.authorise_device(site_id, device_id, secret)
    return list(
        db.session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.site_id == site_id, ConsentRecord.device_id == device_id)
            .order_by(ConsentRecord.position)
        )
    )


def erase_device(
    site_id: int, device_id: str, secret: str | None, now: datetime | None = None
) -> int:
    """Erase the personal data of the records of a device that presents its secret; the log
    still verifies (personal_digest stays), the tallies are untouched, and the erasure is
    itself appended to the log (services/retention.py). The device's secret is unbound too:
    its ID is personal data, and the device may start afresh. Returns how many records were
    erased."""
    # The log lock first (the one sealing binds secrets under): no secret can be bound to
    # this device between the check and the erasure.
    lock_log(db.session.connection(), site_id)
    device_secrets.authorise_device(site_id, device_id, secret)
    erased = erase_records(site_id, device_id, now)
    device_secrets.forget_device(site_id, device_id)
    return erased
