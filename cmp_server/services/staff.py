"""Staff accounts: creation and password hashing (argon2id)."""

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from cmp_server.extensions import db
from cmp_server.models import User
from cmp_server.services.errors import Conflict, InvalidInput
from cmp_server.vocabulary import ROLES

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 12
hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.",
            fields={"password": [f"at least {MIN_PASSWORD_LENGTH} characters"]},
        )


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(email: str, role: str, password: str, site_keys: list[str] | None = None) -> User:
    email = email.strip().lower()
    if not EMAIL.match(email):
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


# --- Console and admin API: listing, editing, passwords, sign-in lockout -------------------

LOCKOUT_FAILURES = 5
LOCKOUT_MINUTES = 15


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.email)))


def get_user(user_id: int) -> User:
    from cmp_server.services.errors import NotFound

    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"No staff account has the id {user_id}.", code="unknown_user")
    return user


def update_user(
    user: User,
    role: str | None = None,
    site_keys: list[str] | None | bool = False,
    active: bool | None = None,
) -> dict:
    """Change role, site limit (None = every site; False = unchanged) or active flag.

    Returns what changed, {field: [before, after]}, for the audit log."""
    changes = {}
    if role is not None and role != user.role:
        if role not in ROLES:
            raise InvalidInput(
                f"The role must be one of {', '.join(ROLES)}.", fields={"role": ["unknown role"]}
            )
        changes["role"] = [user.role, role]
        user.role = role
    if site_keys is not False:
        keys = None if site_keys is None else sorted(set(site_keys))
        if keys != user.site_keys:
            changes["site_keys"] = [user.site_keys, keys]
            user.site_keys = keys
    if active is not None and active != user.active:
        changes["active"] = [user.active, active]
        user.active = active
    db.session.flush()
    return changes


def set_password(user: User, new_password: str) -> None:
    check_password_strength(new_password)
    user.password_hash = hash_password(new_password)
    db.session.flush()


def change_password(user: User, current_password: str, new_password: str) -> None:
    """A user's own change: the current password must be right and the new one differ."""
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


def login_locked(email: str) -> bool:
    """True after LOCKOUT_FAILURES failed sign-ins for this email within LOCKOUT_MINUTES.

    Counted from the audit log's `login.failed` events, so the lockout holds across workers
    and costs no extra table; it also slows a password-guessing run on one account even
    when it comes from many addresses (the per-IP rate limit covers the other case)."""
    from datetime import timedelta

    from cmp_server.models.types import utcnow
    from cmp_server.services.audit import count_recent

    since = utcnow() - timedelta(minutes=LOCKOUT_MINUTES)
    return count_recent("login.failed", email.strip().lower(), since) >= LOCKOUT_FAILURES


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
