"""Consent records (the proof), the per-site log head, and daily tallies for the dashboard.

Records are append-only: nothing updates one except an erasure or the retention purge, which
clear the personal columns but keep `personal_digest`, so the log still verifies.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cmp_server.extensions import db
from cmp_server.models.types import PERSONAL, Json, UTCDateTime

BigId = BigInteger().with_variant(Integer, "sqlite")


class ConsentRecord(db.Model):
    """One entry of a site's append-only log: a consent decision (the proof) or a logged
    erasure or purge."""

    __tablename__ = "consent_records"
    __table_args__ = (
        UniqueConstraint("site_id", "position"),
        UniqueConstraint("site_id", "consent_id"),
        Index("ix_consent_records_site_device", "site_id", "device_id"),
        Index("ix_consent_records_site_received", "site_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    # Position in the site's log (1-based) and the hash chain.
    position: Mapped[int] = mapped_column(BigInteger)
    entry_type: Mapped[str] = mapped_column(String(16), default="consent")
    prev_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64))
    # What was decided, on which banner: not personal on its own.
    revision: Mapped[int] = mapped_column(Integer)
    revision_hash: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    choices: Mapped[dict] = mapped_column(Json)
    allowed_kinds: Mapped[list] = mapped_column(Json)
    regime: Mapped[str] = mapped_column(String(16))
    gpc: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at = mapped_column(UTCDateTime, nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    # Who and where: personal data, cleared by erasure and retention.
    consent_id: Mapped[str | None] = mapped_column(String(36), comment=PERSONAL)
    device_id: Mapped[str | None] = mapped_column(String(36), comment=PERSONAL)
    language: Mapped[str | None] = mapped_column(String(16), comment=PERSONAL)
    page_url: Mapped[str | None] = mapped_column(String(2000), comment=PERSONAL)
    country: Mapped[str | None] = mapped_column(String(2), comment=PERSONAL)
    browser: Mapped[str | None] = mapped_column(String(64), comment=PERSONAL)
    os: Mapped[str | None] = mapped_column(String(64), comment=PERSONAL)
    device_type: Mapped[str | None] = mapped_column(String(16), comment=PERSONAL)
    ip_truncated: Mapped[str | None] = mapped_column(
        String(64), comment=PERSONAL + ": IPv4 /24 or IPv6 /48 network, never the full IP"
    )
    client_ts = mapped_column(UTCDateTime, comment=PERSONAL)
    # Random per record; hashed with the personal columns into personal_digest. Deleting it
    # with them leaves a digest that reveals nothing yet keeps the chain verifiable.
    salt: Mapped[bytes | None] = mapped_column(LargeBinary(16), comment=PERSONAL)
    personal_digest: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the request body as decided, to tell a replay from a conflicting reuse.
    body_hash: Mapped[str | None] = mapped_column(String(64), comment=PERSONAL)
    erased_at = mapped_column(UTCDateTime)


class LogHead(db.Model):
    """The size and head hash of a site's log. Writers update this row first, which
    serialises sealing per site on both databases: the log never forks."""

    __tablename__ = "log_heads"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    head_hash: Mapped[str] = mapped_column(String(64))


class ConsentTally(db.Model):
    """Daily counts of decisions by one dimension (action, country, category granted, ...),
    kept in the same transaction as the records: the dashboard reads these, not the log, and
    they survive erasure and retention."""

    __tablename__ = "consent_tallies"
    __table_args__ = (UniqueConstraint("site_id", "day", "dimension", "value"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    day = mapped_column(Date, nullable=False)
    dimension: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(100))
    count: Mapped[int] = mapped_column(BigInteger, default=0)
