"""A real Accord server for tests that act from outside: gunicorn with two workers, the CLI.

What streams, what each worker caches, and what depends on workers, threads or the server's
own logging only shows on a real server. `live_server` starts one per module and backend
(SQLite, PostgreSQL), the way `make run` serves (the project's gunicorn.conf.py), on a fresh
database migrated by `accord db upgrade`. Tests reach it only through HTTP (`requests`) and
the `accord` command, as an attacker, an auditor or a new user would.

`start_live_server(**env)` starts another one with extra settings (a proxy count, an access
log, a cache lifetime); it is stopped at the end of the test.
"""

import json
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import POSTGRES_ADMIN_URL, _postgres_database
from tests.fixtures.network import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START_TIMEOUT = 30
PASSWORD_LENGTH = 20


class LiveServer:
    """One gunicorn master with its workers, its database, and the CLI pointed at both."""

    def __init__(self, workdir: Path, database_url: str, env: dict | None = None):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.error_log = workdir / "gunicorn-error.log"
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": str(workdir),
            "LANG": "C.UTF-8",
            "DATABASE_URL": database_url,
            "ACCORD_INSTANCE_PATH": str(workdir / "instance"),
            "SECRET_KEY": "live-test-secret-" + secrets.token_hex(8),
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_THREADS": "4",
            "GUNICORN_LOGLEVEL": "info",
            # the scanner tests scan fixture sites on 127.0.0.1 (refused by default)
            "ACCORD_SCAN_PRIVATE_NETWORKS": "1",
            **(env or {}),
        }
        self.process = None

    # --- life cycle -----------------------------------------------------------------------

    def migrate(self):
        self.accord("db", "upgrade")

    def start(self):
        self.error_log.touch()
        self._stderr = self.error_log.open("ab")
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
            cwd=ROOT,
            env=self.env,
            stdout=self._stderr,
            stderr=self._stderr,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start-up:\n{self.log()}")
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /healthz in {START_TIMEOUT} s:\n{self.log()}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self._stderr.close()
        self.process = None

    # --- from outside ----------------------------------------------------------------------

    def accord(self, *args, input=None, check=True, cwd=None) -> subprocess.CompletedProcess:
        """Run the `accord` command with this server's settings (from outside the checkout)."""
        result = subprocess.run(
            [str(BIN / "accord"), *map(str, args)],
            env=self.env,
            cwd=cwd or self.workdir,
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"accord {' '.join(map(str, args))} exited {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """One HTTP request on a new connection (so it may land on either worker)."""
        kwargs.setdefault("timeout", 30)
        kwargs.setdefault("allow_redirects", False)
        return requests.request(method, self.url + path, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def api(self, method: str, path: str, token: str, **kwargs) -> requests.Response:
        """A call to the admin API with a bearer token."""
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return self.request(method, "/api/v1/admin" + path, headers=headers, **kwargs)

    def log(self) -> str:
        """What gunicorn and Accord have logged so far (error log and access log)."""
        paths = [self.error_log]
        access = self.env.get("GUNICORN_ACCESSLOG", "")
        if access not in ("", "-"):
            paths.append(Path(access))
        return "\n".join(p.read_text(errors="replace") for p in paths if p.exists())

    # --- setting up what a test acts on, through the CLI ------------------------------------

    def create_user(self, email: str, role: str, site_keys=()) -> str:
        """A staff account made with `accord user create`; returns its password."""
        password = secrets.token_urlsafe(PASSWORD_LENGTH)
        args = ["user", "create", "--email", email, "--role", role]
        for key in site_keys:
            args += ["--site", key]
        self.accord(*args, input=f"{password}\n{password}\n")
        return password

    def create_token(self, email: str) -> str:
        """An admin API token made with `accord token create`."""
        return self.accord("token", "create", "--email", email).stdout.strip().splitlines()[0]

    def create_site(self, name: str, origin: str = "https://shop.example") -> str:
        """A site made with `accord site create`; returns its key."""
        out = self.accord("site", "create", "--name", name, "--origin", origin, "--json").stdout
        return json.loads(out)["site_key"]

    def login(self, email: str, password: str) -> requests.Session:
        """A browser-like session signed in to the console (CSRF token taken from the form)."""
        session = requests.Session()
        page = session.get(self.url + "/admin/login", timeout=30)
        csrf = _csrf_token(page.text)
        answer = session.post(
            self.url + "/admin/login",
            data={"email": email, "password": password, "csrf_token": csrf},
            allow_redirects=False,
            timeout=30,
        )
        if answer.status_code != 302:
            raise AssertionError(f"sign-in failed ({answer.status_code}): {answer.text[:500]}")
        return session


CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def _csrf_token(html: str) -> str:
    match = CSRF_INPUT.search(html)
    return match.group(1) if match else ""


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in a console page."""
    return _csrf_token(html)


def _database(backend: str, workdir: Path):
    """A fresh database for one server: (url, drop or None)."""
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'instance' / 'accord.db'}", None
    url, drop = _postgres_database()
    if url is None:
        if os.environ.get("ACCORD_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(drop)
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}")
    return url, drop


def _launch(backend: str, workdir: Path, env: dict):
    url, drop = _database(backend, workdir)
    server = LiveServer(workdir, url, env)
    server.migrate()
    return server.start(), drop


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live_server(request, tmp_path_factory):
    """A real server (2 gunicorn workers) on a fresh database, shared by a test module."""
    server, drop = _launch(request.param, tmp_path_factory.mktemp(f"live-{request.param}"), {})
    yield server
    server.stop()
    if drop:
        drop()


@pytest.fixture
def live_backend(live_server) -> str:
    return "postgresql" if "postgresql" in live_server.env["DATABASE_URL"] else "sqlite"


@pytest.fixture(params=["sqlite", "postgresql"])
def start_live_server(request, tmp_path):
    """Start servers with extra settings: `start_live_server(ACCORD_PROXY_COUNT="1")`."""
    started = []

    def start(**env):
        workdir = tmp_path / f"server-{len(started)}"
        workdir.mkdir()
        server, drop = _launch(request.param, workdir, {k: str(v) for k, v in env.items()})
        started.append((server, drop))
        return server

    yield start
    for server, drop in started:
        server.stop()
        if drop:
            drop()
