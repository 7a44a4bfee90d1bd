"""A published, immutable snapshot of everything a visitor is shown."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cmp_server.extensions import db
from cmp_server.models.types import UTCDateTime, utcnow


class Revision(db.Model):
    """Revision N of a site: its canonical JSON (RFC 8785), that JSON's SHA-256, and the
    SHA-256 of the snippet build that renders it. Rows are never updated."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("site_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    canonical_json: Mapped[str] = mapped_column(Text)
    config_hash: Mapped[str] = mapped_column(String(64))
    snippet_hash: Mapped[str] = mapped_column(String(64))
    requires_reconsent: Mapped[bool] = mapped_column(Boolean)
    # The first revision whose decisions are still valid under this one.
    reconsent_revision: Mapped[int] = mapped_column(Integer)
    reconsent_reasons: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    published_by: Mapped[str | None] = mapped_column(String(320))

    site = relationship("Site", back_populates="revisions")
