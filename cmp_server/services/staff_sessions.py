"""Console sessions held on the server, so that signing out (or losing access) ends them.

The signed session cookie alone cannot be taken back: a copy made before sign-out would
work for as long as the secret key lives. So each sign-in gets a row here, named by the
SHA-256 of a random id that the cookie carries, and a session is valid only while its row
exists and has not expired. Sign-out deletes the row; a password change deletes the user's
other sessions; a password reset by an admin and a deactivation delete them all.
"""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from cmp_server.extensions import db
from cmp_server.models import StaffSession, User
from cmp_server.models.types import utcnow

LIFETIME = timedelta(hours=12)  # a working day; then sign in again


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(user: User) -> str:
    """A new session for `user`; returns the id to put in the (signed) cookie."""
    now = utcnow()
    db.session.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
    session_id = secrets.token_urlsafe(32)
    db.session.add(
        StaffSession(
            user_id=user.id,
            session_hash=_hash(session_id),
            created_at=now,
            expires_at=now + LIFETIME,
        )
    )
    db.session.flush()
    return session_id


def session_user(user_id: int, session_id: str | None) -> User | None:
    """The active user a cookie's session belongs to, or None if that session has ended."""
    if not session_id or len(session_id) > 100:
        return None
    row = db.session.scalar(
        select(StaffSession).where(StaffSession.session_hash == _hash(session_id))
    )
    if row is None or row.user_id != user_id or row.expires_at <= utcnow():
        return None
    return row.user if row.user.active else None


def end_session(session_id: str | None) -> None:
    """Sign-out: this session only (the user's other browsers stay signed in)."""
    if session_id:
        db.session.execute(
            delete(StaffSession).where(StaffSession.session_hash == _hash(session_id))
        )
        db.session.flush()


def end_user_sessions(user: User, keep: str | None = None) -> int:
    """End every session of `user` but `keep` (the caller's own, after a password change)."""
    query = delete(StaffSession).where(StaffSession.user_id == user.id)
    if keep:
        query = query.where(StaffSession.session_hash != _hash(keep))
    count = db.session.execute(query).rowcount  # type: ignore[attr-defined]  # a CursorResult
    db.session.flush()
    return count
