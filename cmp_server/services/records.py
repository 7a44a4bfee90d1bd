"""Finding and showing consent records (the proofs) for the DPO: search, one record, and
the revision texts the visitor saw. The console, the admin API and tests call these; whether
a record or a log verifies is services/verification.py's."""

import json
from datetime import datetime

from sqlalchemy import select

from cmp_server.extensions import db
from cmp_server.models import ConsentRecord, Revision, Site
from cmp_server.models.types import UTCDateTime
from cmp_server.schemas.export import EXPORT_FIELDS
from cmp_server.services.errors import NotFound

# What a record's page shows: the export's field list, less the site (it is the page's) and
# the salt (it only serves to recompute the digest).
FIELDS = tuple(f for f in EXPORT_FIELDS if f not in ("site_key", "salt"))
# The fields that hold a moment (the record's page shows them in the site's time zone).
TIME_FIELDS = frozenset(
    f for f in FIELDS if isinstance(ConsentRecord.__table__.columns[f].type, UTCDateTime)
)


def record_dict(record: ConsentRecord) -> dict:
    """Every stored column a reader may see (the salt and body hash are internal)."""
    out = {}
    for name in FIELDS:
        value = getattr(record, name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def search_records(
    site: Site,
    consent_id: str | None = None,
    device_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[ConsentRecord], bool]:
    """A page of the site's records, newest first, and whether there is another page."""
    query = select(ConsentRecord).where(ConsentRecord.site_id == site.id)
    if consent_id:
        query = query.where(ConsentRecord.consent_id == consent_id.strip().lower())
    if device_id:
        query = query.where(ConsentRecord.device_id == device_id.strip().lower())
    if since:
        query = query.where(ConsentRecord.received_at >= since)
    if until:
        query = query.where(ConsentRecord.received_at < until)
    query = query.order_by(ConsentRecord.position.desc()).offset((page - 1) * per_page)
    rows = list(db.session.scalars(query.limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


def get_record(site: Site, position: int) -> ConsentRecord:
    """The site's record at `position` in its log, or NotFound (`unknown_record`)."""
    record = db.session.scalar(
        select(ConsentRecord).where(
            ConsentRecord.site_id == site.id, ConsentRecord.position == position
        )
    )
    if record is None:
        raise NotFound(
            f"Site {site.site_key!r} has no record at position {position}.", code="unknown_record"
        )
    return record


def revision_seen(site: Site, record: ConsentRecord) -> dict | None:
    """What the visitor was shown: the revision's texts and purposes in their language."""
    revision = db.session.scalar(
        select(Revision).where(Revision.site_id == site.id, Revision.number == record.revision)
    )
    if revision is None:
        return None
    config = json.loads(revision.canonical_json)
    language = record.language if record.language in config["texts"] else config["default_language"]
    return {
        "number": revision.number,
        "config_hash": revision.config_hash,
        "hash_matches": revision.config_hash == record.revision_hash,
        "published_at": revision.published_at.isoformat(),
        "language": language,
        "texts": config["texts"].get(language, {}),
        "categories": [
            {
                "key": c["key"],
                "required": c["required"],
                "label": c["labels"].get(language) or next(iter(c["labels"].values()), {}),
                "trackers": c["trackers"],
            }
            for c in config["categories"]
        ],
    }
