"""Setting up what a live test acts on over HTTP, as an admin would in the console and the API.

Each `accord` call starts Python and the app afresh (about 0.6 s); a request to the running
server costs a few milliseconds. Where the command line is not what a test checks, one
`accord user create` makes an admin (`SetUp(server)`), and the admin API and the console make
the rest: accounts, their tokens, sites, published configurations. It is still from outside:
the same doors staff use.
"""

import re
import secrets

import requests

from tests.live.conftest import PASSWORD_LENGTH, csrf_token

NEW_TOKEN = re.compile(r'data-test="new-token">([^<]+)<')


def console_token(server, session, name: str = "set-up") -> str:
    """A new API token of the signed-in account, made with the console's token form."""
    page = session.get(server.url + "/admin/tokens", timeout=30)
    answer = session.post(
        server.url + "/admin/tokens",
        data={"name": name, "expires_in_days": "30", "csrf_token": csrf_token(page.text)},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 200, answer.text[:500]
    return NEW_TOKEN.search(answer.text).group(1)


class SetUp:
    """An admin of every site, made with `accord user create`, acting through the admin API
    (`token`) and signed in to the console (`console`).

    With `password`, the admin's account exists already (`accord demo` made it): it signs in
    with it, and no account is made."""

    def __init__(self, server, email: str = "set-up@example.com", password: str | None = None):
        self.server = server
        self.email = email
        self.password = password or server.create_user(email, "admin")
        self.console = server.login(email, self.password)
        self.token = console_token(server, self.console)

    def api(self, method: str, path: str, **kwargs):
        answer = self.server.api(method, path, self.token, **kwargs)
        assert answer.ok, (method, path, answer.status_code, answer.text[:500])
        return answer

    def user(self, email: str, role: str, site_keys=()) -> str:
        """A staff account (what `accord user create` makes); returns its password."""
        password = secrets.token_urlsafe(PASSWORD_LENGTH)
        body = {"email": email, "role": role, "password": password}
        body["site_keys"] = list(site_keys) or None
        self.api("POST", "/users", json=body)
        return password

    def token_of(self, email: str, password: str) -> str:
        """An API token of that account, made in its own console session."""
        return console_token(self.server, self.server.login(email, password))

    def user_with_token(self, email: str, role: str, site_keys=()) -> tuple[str, str]:
        password, _, token = self.signed_in(email, role, site_keys)
        return password, token

    def signed_in(self, email: str, role: str, site_keys=()) -> tuple[str, requests.Session, str]:
        """A new account signed in to the console: its password, the console session and an
        API token made there (one sign-in, one password check, for both)."""
        password = self.user(email, role, site_keys)
        console = self.server.login(email, password)
        return password, console, console_token(self.server, console)

    def site(self, name: str, origin: str = "https://shop.example") -> str:
        """A new site (what `accord site create` makes); returns its key."""
        return self.api("POST", "/sites", json={"name": name, "origins": [origin]}).json()[
            "site_key"
        ]

    def import_site(self, config: dict, publish: bool = False) -> str:
        """A site with this configuration as its draft, published if asked (what `accord site
        import [--publish]` does); returns its key."""
        named = {"name": config["name"], "origins": config.get("origins", [])}
        key = self.api("POST", "/sites", json=named).json()["site_key"]
        self.api("PUT", f"/sites/{key}/config", json=config)
        if publish:
            self.api("POST", f"/sites/{key}/publish", json={})
        return key
