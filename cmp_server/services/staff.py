"""Staff accounts: creation, changes, passwords (argon2id), and who may make them.

Staff accounts are installation-wide: only an admin of every site creates or changes them
(`by` is the acting user; None is the operator at the command line, who holds the database
anyway). Losing access is final for what was issued before: deactivating an account or
resetting its password ends its sessions and revokes its API tokens.
"""

import re
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from cmp_server.extensions import db
from cmp_server.models import User
from cmp_server.services import staff_sessions, tokens
from cmp_server.services.audit import Actor
from cmp_server.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from cmp_server.vocabulary import ROLES

_EMAIL_PART = r"[^@\s\x00-\x1f\x7f-\x9f]+"  # no whitespace, no control characters
EMAIL = re.compile(rf"{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}")
MIN_PASSWORD_LENGTH = 12
hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    """The argon2id hash of a password."""
    return hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    """Whether `password` is the user's; rehashes it when the parameters are outdated."""
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


def check_password_strength(password: str) -> None:
    """InvalidInput unless the password is long enough."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.",
            fields={"password": [f"at least {MIN_PASSWORD_LENGTH} characters"]},
        )


def find_user(email: str) -> User | None:
    """The account with this email (case-insensitive), or None."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def ensure_staff_manager(actor: User | None) -> None:
    """Refuse unless `actor` may manage staff: an admin with no site limit (or the CLI)."""
    if actor is not None and (actor.role != "admin" or not actor.has_every_site):
        raise Forbidden("Only an admin of every site manages staff accounts.", code="site_limited")


def create_user(
    email: str,
    role: str,
    password: str,
    site_keys: list[str] | None = None,
    *,
    by: User | None = None,
) -> User:
    """A new staff account (unaudited: staff and the CLI go through `add_user`). Only an
    admin of every site, or the CLI (`by` None), creates one."""
    ensure_staff_manager(by)
    email = email.strip().lower()
    if not EMAIL.fullmatch(email):
        raise InvalidInput(f"{email!r} is not an email address.", fields={"email": ["not valid"]})
    if role not in ROLES:
        raise InvalidInput(
            f"The role must be one of {', '.join(ROLES)}.", fields={"role": ["unknown role"]}
        )
    check_password_strength(password)
    if find_user(email) is not None:
        raise Conflict(f"A staff account for {email} already exists.", code="user_exists")
    user = User(email=email, role=role, password_hash=hash_password(password), site_keys=site_keys)
    db.session.add(user)
    db.session.flush()
    return user


def add_user(
    email: str,
    role: str,
    password: str,
    site_keys: list[str] | None,
    *,
    by: User | None,
    actor: Actor,
) -> User:
    """`create_user`, audited as `user.create` by `actor` (the console, the API, the CLI)."""
    user = create_user(email, role, password, site_keys, by=by)
    actor.record("user.create", target=user.email, details={"role": role, "site_keys": site_keys})
    return user


# --- Console and admin API: listing, editing, passwords ------------------------------------


def list_users() -> list[User]:
    """Every staff account, by email."""
    return list(db.session.scalars(select(User).order_by(User.email)))


def get_user(user_id: int) -> User:
    """The account with this id, or NotFound (`unknown_user`)."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"No staff account has the id {user_id}.", code="unknown_user")
    return user


def check_own_account(user: User, by: User | None, role, site_keys, active) -> None:
    """No one changes their own role, site limit or active flag: another admin must."""
    if by is None or by.id != user.id:
        return
    if (
        (role is not None and role != user.role)
        or (site_keys is not False and site_keys != user.site_keys)
        or active is False
    ):
        raise InvalidInput(
            "You cannot change your own role, site limit or active flag: ask another admin."
        )


def update_user(
    user: User,
    role: str | None = None,
    site_keys: list[str] | None | Literal[False] = False,
    active: bool | None = None,
    *,
    by: User | None = None,
) -> dict:
    """Change role, site limit (None = every site; False = unchanged) or active flag.

    Returns what changed, {field: [before, after]}, for the audit log. A deactivation ends
    the account's sessions and revokes its tokens: re-activating it revives neither."""
    ensure_staff_manager(by)
    if site_keys is not False and site_keys is not None:
        site_keys = sorted(set(site_keys))
    check_own_account(user, by, role, site_keys, active)
    changes: dict = {}
    if role is not None and role != user.role:
        if role not in ROLES:
            raise InvalidInput(
                f"The role must be one of {', '.join(ROLES)}.", fields={"role": ["unknown role"]}
            )
        changes["role"] = [user.role, role]
        user.role = role
    if site_keys is not False and site_keys != user.site_keys:
        changes["site_keys"] = [user.site_keys, site_keys]
        user.site_keys = site_keys
    if active is not None and active != user.active:
        changes["active"] = [user.active, active]
        user.active = active
        if not active:
            changes["tokens_revoked"] = cut_off(user)
    db.session.flush()
    return changes


def edit_user(
    user: User,
    role: str | None,
    site_keys: list[str] | None | Literal[False],
    active: bool | None,
    new_password: str | None,
    *,
    by: User | None,
    actor: Actor,
) -> dict:
    """One edit of an account as the console and the API make it: `update_user`, then a
    password reset when `new_password` is given, audited together as `user.update`."""
    changes = update_user(user, role, site_keys, active, by=by)
    if new_password is not None:
        revoked = reset_password(user, new_password, by=by)
        changes["password"] = "reset"  # noqa: S105 - a note, not a secret
        changes["tokens_revoked"] = changes.get("tokens_revoked", 0) + revoked
    actor.record("user.update", target=user.email, details=changes)
    return changes


def cut_off(user: User) -> int:
    """End every session of `user` and revoke every token; how many tokens were live."""
    staff_sessions.end_user_sessions(user)
    return tokens.revoke_user_tokens(user)


def set_password(user: User, new_password: str) -> None:
    """Set a user's password, checked for strength (sessions and tokens are the caller's)."""
    check_password_strength(new_password)
    user.password_hash = hash_password(new_password)
    db.session.flush()


def reset_password(user: User, new_password: str, *, by: User | None = None) -> int:
    """An admin sets another's password: whoever had the old one, or a session or token made
    with it, is cut off. Returns how many tokens were revoked."""
    ensure_staff_manager(by)
    if by is not None and by.id == user.id:
        raise InvalidInput(
            "Change your own password on the Password page: it asks for the current one.",
            fields={"password": ["your own: use the Password page"]},
        )
    set_password(user, new_password)
    return cut_off(user)


def recover_password(user: User, new_password: str, actor: Actor) -> int:
    """The operator sets a new password for an account whose password is lost (`accord user
    set-password`): every session of the account ends, its API tokens stay (they were not
    made with the lost password; revoke them apart if it leaked). Audited. Returns how many
    sessions ended."""
    set_password(user, new_password)
    ended = staff_sessions.end_user_sessions(user)
    actor.record(
        "user.password",
        target=user.email,
        details={"set_by": "operator", "sessions_ended": ended},
    )
    return ended


def change_password(
    user: User, current_password: str, new_password: str, keep_session: str | None = None
) -> None:
    """A user's own change: the current password must be right and the new one differ.
    Every other session of the user ends; `keep_session` (the one asking) stays."""
    if not verify_password(user, current_password):
        raise InvalidInput(
            "The current password is not right.", fields={"current_password": ["not right"]}
        )
    if current_password == new_password:
        raise InvalidInput(
            "Choose a new password different from the current one.",
            fields={"new_password": ["same as the current password"]},
        )
    set_password(user, new_password)
    staff_sessions.end_user_sessions(user, keep=keep_session)


def authenticate_staff(email: str, password: str) -> User | None:
    """The active user with this email and password, else None. Hashes a dummy password
    for an unknown email so both cases take the same time."""
    user = find_user(email)
    if user is None:
        hasher.hash(password or "x")
        return None
    if not verify_password(user, password) or not user.active:
        return None
    return user
