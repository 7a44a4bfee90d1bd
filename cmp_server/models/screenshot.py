"""Screenshots of each published revision: what its banner and preferences dialog looked like."""

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cmp_server.extensions import db
from cmp_server.models.types import UTCDateTime, utcnow

SCREENSHOT_STATUSES = ("queued", "done", "skipped", "failed")


class ScreenshotRun(db.Model):
    """The screenshots job of one revision: queued on publish, then done, skipped (no
    Chromium) or failed, with the reason."""

    __tablename__ = "screenshot_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(
        ForeignKey("revisions.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(16), default="queued")
    reason: Mapped[str | None] = mapped_column(Text)
    snippet_hash: Mapped[str | None] = mapped_column(String(64))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    finished_at = mapped_column(UTCDateTime)

    revision = relationship("Revision")


class RevisionScreenshot(db.Model):
    """One PNG: a layer (banner, preferences) of a revision in a language and a viewport
    (desktop, phone), with its SHA-256. Rows are never updated."""

    __tablename__ = "revision_screenshots"
    __table_args__ = (UniqueConstraint("revision_id", "language", "viewport", "layer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(
        ForeignKey("revisions.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(String(35))
    viewport: Mapped[str] = mapped_column(String(16))
    layer: Mapped[str] = mapped_column(String(16))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    png: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
