"""Signing keys and signed checkpoints of the consent logs.

Keys live in the database, not on a host, so every host behind the load balancer signs with
the same key and rotation is one row update everywhere. The private key is stored encrypted
(AES-256-GCM under a key derived from SECRET_KEY with HKDF): a database dump alone cannot sign.
Retired keys are kept, with their public half, so everything they signed still verifies.
"""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cmp_server.extensions import db
from cmp_server.models.types import UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


class SigningKey(db.Model):
    """An Ed25519 key; the newest one not retired signs, every one verifies."""

    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    algorithm: Mapped[str] = mapped_column(String(16), default="Ed25519")
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    # nonce (12 bytes) || AES-GCM ciphertext of the 32-byte raw private key; key_id is the AAD.
    encrypted_private_key: Mapped[bytes] = mapped_column(LargeBinary(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Checkpoint(db.Model):
    """A signed statement of a site's log size and head hash at a time (proof/checkpoints.py).

    `reason` says why it was made: schedule, export, purge (the anchor of a purged log), manual.
    """

    __tablename__ = "checkpoints"
    __table_args__ = (Index("ix_checkpoints_site_size", "site_id", "size"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    size: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))
    created_at = mapped_column(UTCDateTime, nullable=False)
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(16))


class PurgeStatement(db.Model):
    """A signed statement of a retention purge (proof/purges.py), as signed (JSON text)."""

    __tablename__ = "purge_statements"
    __table_args__ = (Index("ix_purge_statements_site_first", "site_id", "first_position"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    first_position: Mapped[int] = mapped_column(BigInteger)
    statement: Mapped[str] = mapped_column(Text)


class WitnessCosignature(db.Model):
    """A witness's cosignature of one of a site's checkpoints (proof/cosign.py), as received.

    The newest row per (site, witness URL) is how far that witness has followed the log."""

    __tablename__ = "witness_cosignatures"
    __table_args__ = (Index("ix_witness_cosignatures_site_witness", "site_id", "witness_url"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    witness_url: Mapped[str] = mapped_column(String(500))
    size: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))
    cosignature: Mapped[str] = mapped_column(Text)
    received_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
