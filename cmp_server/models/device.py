"""The device secret bound to each device of a site (DESIGN.md, "Device secret").

Kept beside the log, not in it: the proof records (hashed, exported, verified offline) keep
their shape, and the secret never enters them. Only the secret's SHA-256 is stored.
"""

from sqlalchemy import ForeignKey, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from cmp_server.extensions import db
from cmp_server.models.types import PERSONAL, UTCDateTime


class DeviceSecret(db.Model):
    """One row per (site, device), written by the device's first consent (or its first
    consent after this table existed) and deleted by the device's erasure, or by the purge
    with the device's last record. The primary key decides a race of two first consents: one
    binding wins, the other is refused."""

    __tablename__ = "device_secrets"
    # device_id first: the writer looks up a batch's devices with `device_id = ANY(...)`,
    # which PostgreSQL answers from the index, statistics or not, only on the first column.
    __table_args__ = (PrimaryKeyConstraint("device_id", "site_id"),)

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    device_id: Mapped[str] = mapped_column(String(36), comment=PERSONAL)
    # SHA-256 (hex) of the secret: the secret is 128 random bits or more, so a plain hash
    # cannot be reversed by guessing.
    secret_hash: Mapped[str] = mapped_column(String(64))
    bound_at = mapped_column(UTCDateTime, nullable=False)
