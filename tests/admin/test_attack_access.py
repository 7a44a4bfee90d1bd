"""Access-control rules as pure logic: the capability table with site limits, the staff
service's own checks (so that no door walks around the views), the sign-in backoff, the
account-wide ceiling, and the token expiry given to tokens that exist at upgrade.

What a real server does with them is tested from outside in tests/live/test_live_access.py.
"""

from datetime import UTC, datetime, timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from cmp_server.admin.access import CAPABILITIES, INSTALLATION_WIDE, can
from cmp_server.extensions import db
from cmp_server.models import User
from cmp_server.services import audit, login_throttle
from cmp_server.services import staff as staff_service
from cmp_server.services.errors import Forbidden, InvalidInput
from tests.admin.conftest import PASSWORD
from tests.conftest import _postgres_database, make_app

NEW_PASSWORD = "a brand new passphrase"


@pytest.mark.parametrize("capability", sorted(CAPABILITIES))
@pytest.mark.parametrize("role", ["admin", "marketer", "dpo"])
def test_a_site_limit_takes_away_every_installation_wide_capability(role, capability):
    everywhere = User(role=role, site_keys=None)
    limited = User(role=role, site_keys=["shop"])
    by_role = role in CAPABILITIES[capability]
    assert can(everywhere, capability) is by_role
    assert can(limited, capability) is (by_role and capability not in INSTALLATION_WIDE)


def test_the_installation_wide_capabilities_are_the_admins():
    assert {"staff", "all_tokens", "keys", "create_site"} <= INSTALLATION_WIDE
    assert all(CAPABILITIES[c] == {"admin"} for c in INSTALLATION_WIDE)


# --- the staff service refuses on its own, whoever calls it ---------------------------------


@pytest.fixture
def limited_admin(make_staff):
    return make_staff("admin", site_keys=["shop"], email="limited@example.com")


@pytest.fixture
def root(make_staff):
    return make_staff("admin", email="root@example.com")


def test_a_site_limited_admin_cannot_create_any_account(app, limited_admin):
    for site_keys in (None, ["shop"]):
        with pytest.raises(Forbidden):
            staff_service.create_user(
                "mallory@example.com", "marketer", NEW_PASSWORD, site_keys, by=limited_admin
            )


def test_a_site_limited_admin_cannot_lift_its_own_limit_or_touch_others(app, limited_admin, root):
    with pytest.raises(Forbidden):
        staff_service.update_user(limited_admin, site_keys=None, by=limited_admin)
    with pytest.raises(Forbidden):
        staff_service.update_user(root, active=False, by=limited_admin)
    with pytest.raises(Forbidden):
        staff_service.reset_password(root, NEW_PASSWORD, by=limited_admin)
    db.session.rollback()
    assert db.session.get(User, limited_admin.id).site_keys == ["shop"]
    assert staff_service.authenticate_staff("root@example.com", PASSWORD) is not None


@pytest.mark.parametrize(
    "change",
    [{"role": "dpo"}, {"site_keys": ["shop"]}, {"active": False}],
    ids=["role", "site limit", "deactivate"],
)
def test_no_one_changes_their_own_standing(app, root, change):
    with pytest.raises(InvalidInput):
        staff_service.update_user(root, by=root, **change)


def test_an_admin_resets_others_passwords_not_its_own(app, root):
    with pytest.raises(InvalidInput):
        staff_service.reset_password(root, NEW_PASSWORD, by=root)


def test_a_site_limited_admin_can_still_be_managed_by_an_unrestricted_one(app, root, limited_admin):
    changes = staff_service.update_user(limited_admin, site_keys=["shop", "blog"], by=root)
    assert changes == {"site_keys": [["shop"], ["blog", "shop"]]}


# --- sign-in throttling ---------------------------------------------------------------------


def test_backoff_doubles_after_the_free_failures_up_to_an_hour():
    free = login_throttle.FREE_FAILURES
    assert login_throttle.backoff(free - 1) == timedelta(0)
    assert [login_throttle.backoff(free + n).total_seconds() for n in range(4)] == [
        30,
        60,
        120,
        240,
    ]
    assert login_throttle.backoff(free + 50) == login_throttle.MAX_DELAY


def sign_in(client, address, password):
    return client.post(
        "/admin/login",
        data={"email": "dpo@example.com", "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_a_success_from_a_network_starts_its_count_again(client, make_staff):
    make_staff("dpo", email="dpo@example.com")
    for _ in range(login_throttle.FREE_FAILURES - 1):
        assert sign_in(client, "192.0.2.10", "a wrong password").status_code == 401
    assert sign_in(client, "192.0.2.10", PASSWORD).status_code == 302
    for _ in range(login_throttle.FREE_FAILURES - 1):
        assert sign_in(client, "192.0.2.10", "a wrong password").status_code == 401
    assert sign_in(client, "192.0.2.10", PASSWORD).status_code == 302


def test_a_long_email_is_throttled_too(client, make_staff):
    """The audit log keeps 200 characters of a target: the count must still find them."""
    email = "d" * 240 + "@example.com"
    make_staff("dpo", email=email)
    for _ in range(login_throttle.FREE_FAILURES):
        wrong = client.post("/admin/login", data={"email": email, "password": "a wrong one"})
        assert wrong.status_code == 401
    right = client.post("/admin/login", data={"email": email, "password": PASSWORD})
    assert right.status_code == 429


def failures_from_many_networks(count: int) -> None:
    """`count` failed sign-ins for the DPO, each from another /24 (a botnet)."""
    for n in range(count):
        audit.record_event(
            "dpo@example.com",
            "console",
            "login.failed",
            target="dpo@example.com",
            ip_truncated=f"10.{n // 256}.{n % 256}.0/24",
        )
    db.session.commit()


def test_past_the_account_ceiling_only_known_networks_may_try(client, make_staff):
    make_staff("dpo", email="dpo@example.com")
    assert sign_in(client, "198.51.100.20", PASSWORD).status_code == 302  # her office
    client.post("/admin/logout")
    failures_from_many_networks(login_throttle.ACCOUNT_CEILING)
    unknown = sign_in(client, "203.0.113.5", PASSWORD)
    assert unknown.status_code == 429
    assert sign_in(client, "198.51.100.20", PASSWORD).status_code == 302


def test_below_the_account_ceiling_a_new_network_signs_in(client, make_staff):
    make_staff("dpo", email="dpo@example.com")
    failures_from_many_networks(login_throttle.ACCOUNT_CEILING - 1)
    assert sign_in(client, "203.0.113.5", PASSWORD).status_code == 302


# --- migration 0003: tokens that exist at upgrade get an expiry -----------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def database_at_0002(request, tmp_path):
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path / 'old.db'}", None
    else:
        url, drop = _postgres_database()
        if url is None:
            pytest.skip(drop)
    app = make_app(url, tmp_path / "instance")
    with app.app_context():
        upgrade(revision="0002")
        yield app
        db.session.remove()
        db.engine.dispose()
    if drop:
        drop()


def test_tokens_made_before_the_upgrade_expire_90_days_after_it(database_at_0002):
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (email, password_hash, role, active, created_at) "
                "VALUES ('old@example.com', 'x', 'admin', :yes, :at)"
            ),
            {"yes": True, "at": "2025-01-01 00:00:00"},
        )
        connection.execute(
            text(
                "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) "
                "SELECT id, 'ci', :hash, 'acc_old', :at FROM users"
            ),
            {"hash": "0" * 64, "at": "2025-01-01 00:00:00"},
        )
    upgrade()
    from cmp_server.models import ApiToken

    token = db.session.scalar(db.select(ApiToken))
    expected = datetime.now(UTC) + timedelta(days=90)
    assert abs(token.expires_at - expected) < timedelta(minutes=5)
