"""A customer website, its purposes (categories) and the trackers in them: the editable draft.

What the visitor is shown is never read from these rows directly: publishing freezes them into
a `Revision`.
"""

import secrets
import string

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cmp_server.extensions import db
from cmp_server.models.types import Json, UTCDateTime, utcnow

SITE_KEY_ALPHABET = string.ascii_letters + string.digits
SITE_KEY_LENGTH = 12  # 71 bits


def new_site_key() -> str:
    """A random public key for a site, of letters and digits only: a key starting with `-`
    (as base64url allows) would read as an option on the command line (`accord site export`)."""
    return "".join(secrets.choice(SITE_KEY_ALPHABET) for _ in range(SITE_KEY_LENGTH))


class Site(db.Model):
    """A customer website: its public key, allowed origins, settings and the draft's purposes."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_key: Mapped[str] = mapped_column(String(32), unique=True, default=new_site_key)
    name: Mapped[str] = mapped_column(String(200))
    origins: Mapped[list] = mapped_column(Json, default=list)
    languages: Mapped[list] = mapped_column(Json, default=lambda: ["en"])
    default_language: Mapped[str] = mapped_column(String(16), default="en")
    privacy_policy_url: Mapped[str | None] = mapped_column(String(2000))
    consent_lifetime_days: Mapped[int] = mapped_column(Integer, default=182)
    regimes: Mapped[dict] = mapped_column(Json, default=lambda: {"default": "opt_in"})
    texts: Mapped[dict] = mapped_column(Json, default=dict)
    look: Mapped[dict] = mapped_column(Json, default=dict)
    retention_days: Mapped[int] = mapped_column(Integer, default=5 * 365)
    # Visitor options (docs/site-config.md): how long a refusal or a closed banner is
    # remembered, whether withdrawing a category whose code ran reloads the page, and whether
    # a floating "privacy settings" button stays on the page.
    refusal_interval_days: Mapped[int] = mapped_column(Integer, default=182)
    reload_on_withdraw: Mapped[bool] = mapped_column(Boolean, default=True)
    floating_button: Mapped[bool] = mapped_column(Boolean, default=False)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    # The IANA zone the console shows this site's dates in (a display setting: times are
    # stored in UTC, and exports and proofs stay in UTC).
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    categories: Mapped[list["Category"]] = relationship(
        back_populates="site", order_by="Category.position", cascade="all, delete-orphan"
    )
    revisions = relationship(
        "Revision", back_populates="site", order_by="Revision.number", lazy="dynamic"
    )


class Category(db.Model):
    """A purpose the visitor can allow or refuse; `required` ones are strictly necessary."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("site_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    honor_gpc: Mapped[bool] = mapped_column(Boolean, default=True)
    consent_mode: Mapped[list] = mapped_column(Json, default=list)
    labels: Mapped[dict] = mapped_column(Json, default=dict)

    site: Mapped[Site] = relationship(back_populates="categories")
    trackers: Mapped[list["Tracker"]] = relationship(
        back_populates="category", order_by="Tracker.position", cascade="all, delete-orphan"
    )


class Tracker(db.Model):
    """A cookie, web beacon, fingerprinting script or storage item, declared to the visitor."""

    __tablename__ = "trackers"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    # What the visitor reads, per language: {"en": "Counts visits", "fr": "Compte les visites"}.
    purpose: Mapped[dict] = mapped_column(Json, default=dict)
    duration: Mapped[dict] = mapped_column(Json, default=dict)
    cookies: Mapped[list] = mapped_column(Json, default=list)
    domains: Mapped[list] = mapped_column(Json, default=list)
    privacy_policy_url: Mapped[str | None] = mapped_column(String(2000))

    category: Mapped[Category] = relationship(back_populates="trackers")
