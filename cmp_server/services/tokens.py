"""Admin API tokens: bearer secrets that act as their owner, with the owner's role.

Only the SHA-256 of a token is stored (a token is 256 random bits, so a fast hash is enough:
there is nothing to brute-force); the plain token is returned once, at creation.

Every token expires (90 days unless its creator asks for 1 to 365), so one forgotten in a
script or a CI log stops working on its own. Revocation is final: deactivating an account
revokes its tokens, and re-activating it does not bring them back.
"""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from cmp_server.extensions import db
from cmp_server.models import ApiToken, User
from cmp_server.models.types import utcnow
from cmp_server.schemas.text import LINE_CONTROLS
from cmp_server.services.audit import Actor
from cmp_server.services.errors import InvalidInput, NotFound

TOKEN_PREFIX = "acc_"  # noqa: S105 - a public marker, not a secret
DEFAULT_LIFETIME_DAYS = 90
MAX_LIFETIME_DAYS = 365


def hash_token(token: str) -> str:
    """The SHA-256 of a token: what is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_lifetime(days) -> int:
    """A lifetime of 1 to MAX_LIFETIME_DAYS whole days, or InvalidInput."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_LIFETIME_DAYS:
        raise InvalidInput(
            f"A token lives from 1 to {MAX_LIFETIME_DAYS} days.",
            fields={"expires_in_days": [f"a whole number from 1 to {MAX_LIFETIME_DAYS}"]},
        )
    return days


def create_token(
    user: User, name: str = "", expires_in_days: int = DEFAULT_LIFETIME_DAYS
) -> tuple[ApiToken, str]:
    """A new token for `user`: (the stored row, the plain token to show once)."""
    name = (name or "").strip()
    if len(name) > 100:
        raise InvalidInput(
            "A token name has at most 100 characters.", fields={"name": ["too long"]}
        )
    if LINE_CONTROLS.search(name):
        raise InvalidInput(
            "A token name must not contain control characters.",
            fields={"name": ["control characters"]},
        )
    now = utcnow()
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(plain),
        prefix=plain[:12],
        created_at=now,
        expires_at=now + timedelta(days=check_lifetime(expires_in_days)),
    )
    db.session.add(token)
    db.session.flush()
    return token, plain


def issue_token(user: User, name: str, expires_in_days: int, actor: Actor) -> tuple[ApiToken, str]:
    """`create_token`, audited as `token.create` by `actor` (the console, the API, the CLI)."""
    if not user.active:
        raise InvalidInput(f"The account {user.email} is inactive.", code="inactive_user")
    token, plain = create_token(user, name, expires_in_days)
    actor.record(
        "token.create",
        target=token.prefix,
        details={
            "name": token.name,
            "owner": user.email,
            "expires_at": token.expires_at.isoformat(),
        },
    )
    return token, plain


def authenticate(plain: str) -> ApiToken | None:
    """The live token for a bearer secret, or None (unknown, revoked, expired, or owner
    inactive).

    The lookup is by hash through a unique index, so its time does not depend on how much
    of a guess matches a real token."""
    if not plain or not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plain)))
    now = utcnow()
    if token is None or not is_live(token, now) or not token.user.active:
        return None
    token.last_used_at = now
    return token


def is_live(token: ApiToken, now=None) -> bool:
    """Neither revoked nor expired."""
    return token.revoked_at is None and token.expires_at > (now or utcnow())


def state(token: ApiToken) -> str:
    """The token's state as the console, the API and the CLI show it."""
    if token.revoked_at is not None:
        return "revoked"
    return "active" if is_live(token) else "expired"


def list_tokens(user: User | None = None) -> list[ApiToken]:
    """Tokens of one user, or of everyone (None), newest first."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(db.session.scalars(query))


def get_token(token_id: int) -> ApiToken:
    """The token with this id, or NotFound (`unknown_token`)."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"No API token has the id {token_id}.", code="unknown_token")
    return token


def manageable_token(token_id: int, user: User, every_owner: bool) -> ApiToken:
    """The token `user` may manage: their own, or anyone's when `every_owner` (an admin of
    every site). Another's token is as unknown as a missing one: NotFound either way."""
    token = get_token(token_id)
    if token.user_id != user.id and not every_owner:
        raise NotFound(f"No API token has the id {token_id}.", code="unknown_token")
    return token


def revoke_user_tokens(user: User) -> int:
    """Revoke every token of `user` not yet revoked; how many. Used when an account is
    deactivated or its password reset by an admin: those tokens never come back."""
    result = db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    db.session.flush()
    return result.rowcount  # type: ignore[attr-defined]  # a CursorResult


def revoke_token(token: ApiToken, actor: Actor) -> ApiToken:
    """Revoke a token (idempotent), audited as `token.revoke` by `actor`; the row stays, for
    the audit trail."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
    actor.record("token.revoke", target=token.prefix, details={"owner": token.user.email})
    return token
