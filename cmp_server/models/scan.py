"""Scans of a site: what its pages really do, against what it declares."""

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cmp_server.extensions import db
from cmp_server.models.types import Json, UTCDateTime, utcnow

SCAN_STATUSES = ("queued", "running", "done", "failed")


class Scan(db.Model):
    """One scan of a site: queued by staff (or run by the CLI), then its report. The report is
    kept as the canonical JSON that was hashed and logged, and is never changed afterwards."""

    __tablename__ = "scans"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    pages: Mapped[int] = mapped_column(Integer, default=5)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    requested_by: Mapped[str | None] = mapped_column(String(320))
    progress: Mapped[dict] = mapped_column(Json, default=dict)
    verdict: Mapped[str | None] = mapped_column(String(8))
    violations: Mapped[int] = mapped_column(Integer, default=0)
    undeclared: Mapped[int] = mapped_column(Integer, default=0)
    report_json: Mapped[str | None] = mapped_column(Text)
    report_hash: Mapped[str | None] = mapped_column(String(64))
    # The signed scan statement (scanner/evidence.py), as signed (JSON text).
    statement: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    started_at = mapped_column(UTCDateTime)
    finished_at = mapped_column(UTCDateTime)

    site = relationship("Site")
