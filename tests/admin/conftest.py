"""Fixtures for the console and the admin API: staff of each role, signed-in clients, tokens.

`app` is tests/fixtures/module_app.py's: tests/conftest.py's (each test on empty tables, on
SQLite and PostgreSQL), built once per module, backend and settings. Checks that do not
depend on the database (authorisation, CSRF, escaping, rendering, input validation) are
marked `sqlite_only`: tests/conftest.py deselects their PostgreSQL half.
"""

import pytest
from argon2 import PasswordHasher
from flask_login.utils import _create_identifier

from cmp_server.admin.auth import SESSION_ID
from cmp_server.extensions import db
from cmp_server.models import User
from cmp_server.services import staff, staff_sessions, tokens
from tests.fixtures.module_app import _module_apps, module_app  # noqa: F401 - fixtures

PASSWORD = "correct horse battery staple"
# argon2id at the smallest cost the library accepts. These tests check who may sign in and
# what each attempt leaves behind, not what a guess costs; at the deployment's cost (64 MiB,
# 3 passes) the hashing of every sign-in attempt (the dummy one for an unknown email too) was
# most of their time.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_HASH = None


def password_hash() -> str:
    """One argon2 hash for every test account: hashing per account would dominate the run."""
    global _HASH
    if _HASH is None:
        _HASH = FAST_HASHER.hash(PASSWORD)
    return _HASH


@pytest.fixture(scope="module", autouse=True)
def _fast_password_hashing():
    """The staff service hashes and verifies with FAST_HASHER in these tests (module-wide, so
    that accounts a module's fixtures make get cheap hashes too)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(staff, "hasher", FAST_HASHER)
        yield


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
