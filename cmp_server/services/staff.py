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


def create_user(
    email: str, role: str, password: str, site_keys: list[str] | None = None
) -> User:
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
