"""The audit log: who did what to which site, when, through which channel.

Append-only: this module only inserts. Staff changes, publishes, exports, token use and
failed logins are recorded here by the console, the admin API and the CLI alike, in the same
transaction as the change they describe (so a rolled-back change leaves no event).
"""

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select

from cmp_server.extensions import db
from cmp_server.models import AuditEvent
from cmp_server.models.types import utcnow
from cmp_server.services.csv_cells import safe_row

CHANNELS = ("console", "api", "cli")
EXPORT_FIELDS = ("at", "actor", "via", "action", "site_key", "target", "details", "ip_truncated")


def record_event(
    actor: str,
    via: str,
    action: str,
    site_key: str | None = None,
    target: str | None = None,
    details: dict | None = None,
    ip_truncated: str | None = None,
) -> AuditEvent:
    """Append one event (flushed, not committed: the caller's transaction commits it)."""
    event = AuditEvent(
        at=utcnow(),
        actor=(actor or "anonymous")[:320],
        via=via if via in CHANNELS else "console",
        action=action[:64],
        site_key=site_key,
        target=None if target is None else str(target)[:200],
        details=details or {},
        ip_truncated=ip_truncated,
    )
    db.session.add(event)
    db.session.flush()
    return event


@dataclass(frozen=True)
class Actor:
    """Who acts, through which channel, from which (truncated) address: what a service that
    audits its own changes needs from its caller (the console, the API or the CLI)."""

    email: str
    via: str
    ip_truncated: str | None = None

    def record(self, action: str, site_key=None, target=None, details=None) -> AuditEvent:
        return record_event(
            self.email, self.via, action, site_key, target, details, self.ip_truncated
        )


CLI_ACTOR = Actor("cli", "cli")


@dataclass(frozen=True)
class AuditFilter:
    """What a reader asks for. `site_keys` None means every site (and site-less events)."""

    actor: str | None = None
    action: str | None = None
    site_key: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    site_keys: tuple[str, ...] | None = None


def _query(f: AuditFilter) -> Select:
    query = select(AuditEvent)
    if f.actor:
        query = query.where(func.lower(AuditEvent.actor).contains(f.actor.lower()))
    if f.action:
        query = query.where(AuditEvent.action.startswith(f.action))
    if f.site_key:
        query = query.where(AuditEvent.site_key == f.site_key)
    if f.since:
        query = query.where(AuditEvent.at >= f.since)
    if f.until:
        query = query.where(AuditEvent.at < f.until)
    if f.site_keys is not None:
        # A site-limited reader sees the events of its sites only.
        query = query.where(AuditEvent.site_key.in_(f.site_keys))
    return query


def list_events(f: AuditFilter, page: int = 1, per_page: int = 50) -> tuple[list[AuditEvent], bool]:
    """One page of events, newest first, and whether there is a next page."""
    query = _query(f).order_by(AuditEvent.id.desc()).offset((page - 1) * per_page)
    rows = list(db.session.scalars(query.limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


def event_row(event: AuditEvent) -> dict:
    """One event as a JSON-ready dict (the API) with the CSV export's field names."""
    return {
        "at": event.at.isoformat(),
        "actor": event.actor,
        "via": event.via,
        "action": event.action,
        "site_key": event.site_key,
        "target": event.target,
        "details": event.details or {},
        "ip_truncated": event.ip_truncated,
    }


def export_events_csv(f: AuditFilter, actor: "Actor", asked: dict) -> Iterator[str]:
    """`stream_events_csv`, the export itself audited first (`audit.export`, with the filter
    as `asked`): the caller commits, then streams."""
    actor.record("audit.export", details={"filter": asked})
    return stream_events_csv(f)


def stream_events_csv(f: AuditFilter) -> Iterator[str]:
    """The filtered log as CSV, oldest first, fetched in batches (constant memory)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_FIELDS)
    last_id = 0
    while True:
        batch = list(
            db.session.scalars(
                _query(f).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(1000)
            )
        )
        if not batch:
            break
        for event in batch:
            row = event_row(event)
            row["details"] = json.dumps(row["details"], ensure_ascii=False, sort_keys=True)
            writer.writerow(safe_row([row[k] for k in EXPORT_FIELDS]))
        last_id = batch[-1].id
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
