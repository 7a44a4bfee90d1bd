"""Staff accounts, their API tokens, and the append-only audit log of what staff did."""

from flask_login import UserMixin
from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cmp_server.extensions import db
from cmp_server.models.types import PERSONAL, Json, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


class User(UserMixin, db.Model):
    """A staff account: email, role (admin, marketer, dpo), optional site limit."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, comment=PERSONAL)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    # None: every site; else the site keys this account may see.
    site_keys: Mapped[list | None] = mapped_column(Json)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_login_at = mapped_column(UTCDateTime)

    tokens = relationship("ApiToken", back_populates="user", cascade="all, delete-orphan")
    sessions = relationship("StaffSession", back_populates="user", cascade="all, delete-orphan")

    @property
    def is_active(self):  # Flask-Login
        return self.active

    @property
    def has_every_site(self) -> bool:
        """No site limit: the account's role applies to every site, present and future."""
        return self.site_keys is None

    def can_see_site(self, site_key: str) -> bool:
        return self.site_keys is None or site_key in self.site_keys


class ApiToken(db.Model):
    """A bearer token for the admin API; only its SHA-256 is stored. It acts as its owner."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_used_at = mapped_column(UTCDateTime)
    revoked_at = mapped_column(UTCDateTime)
    expires_at = mapped_column(UTCDateTime, nullable=False)

    user = relationship("User", back_populates="tokens")


class StaffSession(db.Model):
    """A signed-in console session, held on the server so that it can be ended there.

    The session cookie carries a random id; only its SHA-256 is stored. Sign-out deletes the
    row, and so do a password change (other sessions), an admin's password reset and a
    deactivation (every session): a cookie captured before then no longer signs anyone in."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=False)

    user = relationship("User", back_populates="sessions")


class AuditEvent(db.Model):
    """Who did what, when. Append-only: rows are never updated or deleted.

    Sign-in throttling counts an account's recent `login.*` events: hence the index on
    (action, target, at)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_action_target", "action", "target", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    actor: Mapped[str] = mapped_column(String(320), comment=PERSONAL)
    via: Mapped[str] = mapped_column(String(16))  # console, api, cli
    action: Mapped[str] = mapped_column(String(64))
    site_key: Mapped[str | None] = mapped_column(String(32), index=True)
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict] = mapped_column(Json, default=dict)
    ip_truncated: Mapped[str | None] = mapped_column(String(64), comment=PERSONAL)
