"""Who may do what: the role table, site limits, and the audit helper both sides share.

The console and the API check the same capabilities (`requires("publish")`), so a role means
the same in both. `g.staff` is the acting user: the session's user in the console, the
token's owner in the API.

A site limit bounds every power, not only which sites one sees: the installation-wide
capabilities (staff accounts, everyone's tokens, the signing keys, new sites) belong to
admins of every site. An admin limited to some sites keeps the admin's powers on those sites.
"""

from functools import wraps

from flask import g, redirect, request, url_for

from cmp_server.models import Site, User
from cmp_server.services import audit, sites
from cmp_server.services.errors import Forbidden, NotFound, ServiceError
from cmp_server.visitor import client_ip, truncate_ip

ALL = frozenset({"admin", "marketer", "dpo"})
EDITORS = frozenset({"admin", "marketer"})
PROOF_READERS = frozenset({"admin", "dpo"})
ADMIN = frozenset({"admin"})

# capability -> roles that have it (DESIGN.md, "Who uses it")
CAPABILITIES = {
    "view_sites": ALL,
    "dashboard": ALL,
    "own_tokens": ALL,
    "create_site": ADMIN,
    "edit_config": EDITORS,
    "preview": EDITORS,
    "publish": EDITORS,
    "proofs": PROOF_READERS,
    "verify": PROOF_READERS,
    "retention": PROOF_READERS,
    "audit": PROOF_READERS,
    "staff": ADMIN,
    "all_tokens": ADMIN,
    "keys": ADMIN,
    "view_scans": ALL,
    "scan": EDITORS,
}

# Capabilities over the whole installation: an account with a site limit never has them.
INSTALLATION_WIDE = frozenset({"create_site", "staff", "all_tokens", "keys"})


class Unauthenticated(ServiceError):
    status = 401
    code = "unauthorized"


def can(user: User | None, capability: str) -> bool:
    if user is None or user.role not in CAPABILITIES[capability]:
        return False
    return capability not in INSTALLATION_WIDE or user.has_every_site


def refusal(user: User, capability: str) -> Forbidden:
    """Why `user` may not use `capability`, as the 403 the console and the API show."""
    if user.role in CAPABILITIES[capability]:
        return Forbidden(
            "An account limited to some sites cannot do this: it is for admins of every site.",
            code="site_limited",
        )
    return Forbidden(f"The {user.role} role cannot do this.", code="role_forbidden")


def staff() -> User | None:
    return g.get("staff")


def requires(capability: str):
    """Allow the view only to a signed-in user whose role has `capability`.

    Console: a visitor who is not signed in is sent to the login page. API: 401."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = staff()
            if user is None:
                if g.get("via") == "api":
                    raise Unauthenticated("Send an API token: Authorization: Bearer <token>.")
                return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
            if not can(user, capability):
                raise refusal(user, capability)
            return view(*args, **kwargs)

        wrapped.capability = capability
        return wrapped

    return decorate


def site_for(site_key: str) -> Site:
    """The site, if the acting user may see it; another site is as unknown as a missing one.
    The page then shows moments in the site's time zone (admin/context.py)."""
    user = staff()
    if user is None or not user.can_see_site(site_key):
        raise NotFound(f"No site has the key {site_key!r}.", code="unknown_site")
    site = sites.get_site(site_key)
    g.time_zone = site.time_zone
    return site


def visible_sites() -> list[Site]:
    user = staff()
    return [s for s in sites.list_sites() if user is not None and user.can_see_site(s.site_key)]


def audit_scope() -> tuple[str, ...] | None:
    """The sites whose audit events the acting user may read (None: all)."""
    user = staff()
    return None if user.site_keys is None else tuple(user.site_keys)


def record(action: str, site_key: str | None = None, target=None, details=None, actor=None):
    """Append an audit event for the acting user, channel and (truncated) address."""
    user = staff()
    return audit.record_event(
        actor or (user.email if user else "anonymous"),
        g.get("via", "console"),
        action,
        site_key=site_key,
        target=target,
        details=details,
        ip_truncated=truncate_ip(client_ip()),
    )


def acting() -> audit.Actor:
    """The acting user, channel and (truncated) address, for services that audit themselves."""
    user = staff()
    return audit.Actor(
        user.email if user else "anonymous",
        g.get("via", "console"),
        truncate_ip(client_ip()),
    )
