"""Admin API tokens: bearer secrets that act as their owner, with the owner's role.

Only the SHA-256 of a token is stored (a token is 256 random bits, so a fast hash is enough:
there is nothing to brute-force); the plain token is returned once, at creation.
"""

import hashlib
import secrets

from sqlalchemy import select

from cmp_server.extensions import db
from cmp_server.models import ApiToken, User
from cmp_server.models.types import utcnow
from cmp_server.services.errors import InvalidInput, NotFound

TOKEN_PREFIX = "acc_"  # noqa: S105 - a public marker, not a secret


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token for `user`: (the stored row, the plain token to show once)."""
    name = (name or "").strip()
    if len(name) > 100:
        raise InvalidInput(
            "A token name has at most 100 characters.", fields={"name": ["too long"]}
        )
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(plain),
        prefix=plain[:12],
        created_at=utcnow(),
    )
    db.session.add(token)
    db.session.flush()
    return token, plain


def authenticate(plain: str) -> ApiToken | None:
    """The live token for a bearer secret, or None (unknown, revoked, or owner inactive).

    The lookup is by hash through a unique index, so its time does not depend on how much
    of a guess matches a real token."""
    if not plain or not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plain)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    token.last_used_at = utcnow()
    return token


def list_tokens(user: User | None = None) -> list[ApiToken]:
    """Tokens of one user, or of everyone (None), newest first."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(db.session.scalars(query))


def get_token(token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"No API token has the id {token_id}.", code="unknown_token")
    return token


def revoke_token(token: ApiToken) -> ApiToken:
    """Revoke a token (idempotent); the row stays, for the audit trail."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
    return token
