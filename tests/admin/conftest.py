"""Fixtures for the console and the admin API: staff of each role, signed-in clients, tokens."""

import pytest
from flask_login.utils import _create_identifier

from cmp_server.admin.auth import SESSION_ID
from cmp_server.extensions import db
from cmp_server.models import User
from cmp_server.services import staff_sessions, tokens
from cmp_server.services.staff import hash_password

PASSWORD = "correct horse battery staple"
_HASH = None


def password_hash() -> str:
    """One argon2 hash for every test account: hashing per account would dominate the run."""
    global _HASH
    if _HASH is None:
        _HASH = hash_password(PASSWORD)
    return _HASH


@pytest.fixture
def make_staff(app):
    """make_staff(role, site_keys=None, email=None) -> User, committed."""

    def make(role="admin", site_keys=None, email=None, active=True):
        user = User(
            email=email or f"{role}-{len(site_keys or [])}@example.com",
            role=role,
            password_hash=password_hash(),
            site_keys=site_keys,
            active=active,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return make


def sign_in(client, user: User) -> None:
    """Put a signed-in session for `user` in the client's cookie, as a login would."""
    with client.application.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    session_id = staff_sessions.start_session(user)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
        session["_id"] = identifier
        session[SESSION_ID] = session_id


@pytest.fixture
def console_as(app, make_staff):
    """console_as(role or None, site_keys=None) -> a test client signed in (or anonymous)."""

    def make(role, site_keys=None):
        client = app.test_client()
        if role is not None:
            sign_in(client, make_staff(role, site_keys))
        return client

    return make


@pytest.fixture
def api_as(app, make_staff):
    """api_as(role or None, site_keys=None) -> request headers with a bearer token (or none)."""

    def make(role, site_keys=None):
        if role is None:
            return {}
        user = make_staff(role, site_keys)
        _, plain = tokens.create_token(user, "test")
        db.session.commit()
        return {"Authorization": f"Bearer {plain}"}

    return make


@pytest.fixture
def seeded_site(make_site):
    """A published demo site with a few consent records in its log."""
    from cmp_server.services.seeding import seed_consents

    site = make_site(published=True)
    seed_consents(site.site_key, 12, days=5)
    return site
