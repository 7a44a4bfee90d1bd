"""A real Accord server for tests that act from outside: gunicorn with two workers, the CLI.

What streams, what each worker caches, and what depends on workers, threads or the server's
own logging only shows on a real server. `live_server` starts one per module and backend
(SQLite, PostgreSQL), the way `make run` serves (the project's gunicorn.conf.py), on a
database of its own. Tests reach it only through HTTP (`requests`) and the `accord` command,
as an attacker, an auditor or a new user would. A module gives its server extra settings with
a module-scoped `live_server_env` fixture (a cache lifetime, a witness).

How databases are made (tests/fixtures/live_databases.py): `accord db upgrade` runs once per
backend and pytest process (each pytest-xdist worker is one) on a fresh template database,
and each server gets a copy, as migrated as the command leaves it: the template's instance
folder with its SQLite file (checkpointed first: no -wal or -shm to miss), or on PostgreSQL
`CREATE DATABASE ... TEMPLATE` (the template is dropped at the end of the session). A copy
costs milliseconds where the command costs a Python process that imports the app. A server
that must run the migrations itself, on a fresh empty database, has `own_migration=True`
(`start_live_server`, `more_live_servers`), or, for `live_server`, a module-scoped
`live_server_own_migration` fixture that returns True. What checks the migrations themselves
runs them on an empty database of its own (tests/test_migrations.py, tests/test_hardening.py).

Which backends: what stores, streams, locks, caches across workers or otherwise depends on the
database (publishing, retention and purge, witnesses and checkpoints, exports, the log and its
transactions, device secrets, sessions and tokens that end, times read back from the
database) runs on both. What only checks behaviour at the HTTP level (access control and
CSRF, escaping, the scanner's SSRF guard, input validation of the API, console and CLI,
headers, what the logs hold, the console's pages in a browser) is marked `sqlite_only` (a
module's `pytestmark` or one test's mark): its PostgreSQL half is deselected, and a module
whose tests are all so marked starts no PostgreSQL server.

`start_live_server(**env)` starts another one with extra settings (a proxy count, an access
log, a cache lifetime); it is stopped at the end of the test. `more_live_servers(**env)` does
the same for a whole module, on `live_server`'s backend.

Each worker has its own memory (its caches): `server.workers()` holds one keep-alive
connection per worker, found by which process accepted it (Linux /proc), so a test can ask
every worker and knows that it did, instead of hoping that some requests landed on each.
`until_every_worker` polls them for a change that must reach all within a bound (the site
cache's lifetime) instead of sleeping for the whole bound.
"""

import http.client
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from tests.conftest import POSTGRES_ADMIN_URL, _postgres_database
from tests.fixtures.live_databases import LiveDatabases
from tests.fixtures.network import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START_TIMEOUT = 30
PASSWORD_LENGTH = 20
BACKENDS = ["sqlite", "postgresql"]
POLL_SECONDS = 0.05
# Between tries of /healthz at start-up: a try is cheap (refused until gunicorn listens,
# then held until a worker answers), and a short sleep loses little once it listens.
START_POLL_SECONDS = 0.02


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
        self.pinned: list[Worker] = []  # closed when the server stops

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
            time.sleep(START_POLL_SECONDS)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /healthz in {START_TIMEOUT} s:\n{self.log()}")

    def begin_stop(self):
        """Ask gunicorn to stop, without waiting: servers stopped together stop side by side
        (each takes a few tenths of a second, mostly its workers' exit)."""
        for worker in self.pinned:
            worker.close()
        self.pinned = []
        if self.process and self.process.poll() is None:
            # Gunicorn's quick shutdown: a graceful one waits out idle keep-alive connections
            # (seconds per server), and nothing acknowledged is pending (2xx after commit).
            self.process.send_signal(signal.SIGINT)

    def stop(self):
        self.begin_stop()
        if self.process:
            try:
                self.process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
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

    # --- each worker on its own ------------------------------------------------------------

    def worker_pids(self) -> list[int]:
        """The gunicorn workers' process ids: the master's children."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # ended meanwhile
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                pids.append(int(entry.name))
        return sorted(pids)

    def worker_of(self, connection: http.client.HTTPConnection) -> int | None:
        """The worker holding the server's end of an open connection (None if none does)."""
        if connection.sock is None:  # closed after its answer
            return None
        client_port = connection.sock.getsockname()[1]
        inode = _server_socket_inode(self.port, client_port)
        if inode is None:
            return None
        target = f"socket:[{inode}]"
        for pid in self.worker_pids():
            try:
                fds = list(Path(f"/proc/{pid}/fd").iterdir())
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink(fd) == target:
                        return pid
                except OSError:
                    continue
        return None

    def _connections(self, count: int) -> list[tuple[http.client.HTTPConnection, int | None]]:
        """`count` keep-alive connections opened at once (so that several workers accept
        some), each with one answered request, and the worker that accepted it."""

        def one(_):
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            connection.request("GET", "/livez")
            connection.getresponse().read()
            return connection

        with ThreadPoolExecutor(count) as pool:
            connections = list(pool.map(one, range(count)))
        return [(connection, self.worker_of(connection)) for connection in connections]

    def connection_to(self, pid: int | None = None, exclude=()) -> tuple[int, object]:
        """A keep-alive connection that worker `pid` (or any worker not in `exclude`)
        accepted."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            found = None
            for connection, owner in self._connections(8):
                wanted = owner == pid if pid is not None else owner not in (None, *exclude)
                if found is None and wanted:
                    found = (owner, connection)
                else:
                    connection.close()
            if found:
                found[1].auto_open = 0  # never reconnect silently (to another worker)
                return found
            assert time.monotonic() < deadline, f"no connection reached worker {pid or 'new'}"

    def workers(self) -> list["Worker"]:
        """One connection to each worker, all of them (GUNICORN_WORKERS): asking each is
        asking every worker, never some of them by chance."""
        workers = []
        for _ in range(int(self.env["GUNICORN_WORKERS"])):
            pid, connection = self.connection_to(exclude=[w.pid for w in workers])
            workers.append(Worker(self, pid, connection))
        self.pinned += workers
        assert len(set(self.worker_pids())) == len(workers), self.worker_pids()
        return workers

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


def _server_socket_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server's end of a loopback TCP connection (from /proc/net/tcp)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if int(local.split(":")[1], 16) == server_port and (
            int(remote.split(":")[1], 16) == client_port
        ):
            return inode if inode != "0" else None
    return None


class WorkerAnswer:
    """What one worker answered: the parts of a `requests.Response` the tests read."""

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes):
        self.status_code = status
        self.headers = CaseInsensitiveDict(headers)
        self.content = body
        self.text = body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.text)


class Worker:
    """One gunicorn worker, through a keep-alive connection it accepted: every request sent
    here is answered by that worker (checked after each answer)."""

    def __init__(self, server: LiveServer, pid: int, connection: http.client.HTTPConnection):
        self.server = server
        self.pid = pid
        self.connection = connection

    def request(self, method: str, path: str, headers=None, body=None) -> WorkerAnswer:
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=headers or {})
                response = self.connection.getresponse()
                answer = WorkerAnswer(response.status, response.getheaders(), response.read())
            except (http.client.HTTPException, ConnectionError):
                # Idle past gunicorn's keep-alive: the worker closed it. Reach it again.
                assert attempt == 1, f"worker {self.pid} does not answer"
                self.connection.close()
                _, self.connection = self.server.connection_to(self.pid)
                continue
            owner = self.server.worker_of(self.connection)
            assert owner == self.pid, f"asked worker {self.pid}, answered by {owner}"
            return answer

    def get(self, path: str, **headers) -> WorkerAnswer:
        return self.request("GET", path, headers)

    def close(self):
        self.connection.close()


def until_every_worker(workers: list[Worker], check, seconds: float, what: str) -> None:
    """Ask each worker until `check(worker)` holds, for at most `seconds`: what must reach
    every worker within a bound is seen on each (and the test goes on as soon as it is)."""
    deadline = time.monotonic() + seconds
    waiting = list(workers)
    while True:
        waiting = [worker for worker in waiting if not check(worker)]
        if not waiting:
            return
        late = [worker.pid for worker in waiting]
        assert time.monotonic() < deadline, f"after {seconds} s, workers {late}: not {what}"
        time.sleep(POLL_SECONDS)


CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def _csrf_token(html: str) -> str:
    match = CSRF_INPUT.search(html)
    return match.group(1) if match else ""


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in a console page."""
    return _csrf_token(html)


def live_database(backend: str, workdir: Path, databases: LiveDatabases, own_migration=False):
    """A database for one server: (url, drop or None). A copy of the backend's migrated
    template, or with `own_migration` a fresh, empty one (for the server to migrate)."""
    if own_migration:
        if backend == "sqlite":
            return f"sqlite:///{workdir / 'instance' / 'accord.db'}", None
        url, drop = _postgres_database()
    else:
        url, drop = databases.database(backend, workdir, _migrate)
    if url is None:
        if os.environ.get("ACCORD_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(drop)
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}")
    return url, drop


def _migrate(url: str, workdir: Path) -> None:
    """`accord db upgrade` on a template database, run as for any server."""
    LiveServer(workdir, url).migrate()


def _launch(backend: str, workdir: Path, env: dict, databases: LiveDatabases, own_migration=False):
    url, drop = live_database(backend, workdir, databases, own_migration)
    try:
        server = LiveServer(workdir, url, env)
        if own_migration:
            server.migrate()
        return server.start(), drop
    except BaseException:
        if drop:  # no fixture holds the database of a server that did not start
            drop()
        raise


def backend_of(server: LiveServer) -> str:
    return "postgresql" if "postgresql" in server.env["DATABASE_URL"] else "sqlite"


def _module_fixture(request, name: str, default):
    """The value of the module's fixture `name` if it has one (modules outside tests/live
    import `live_server` without the ones they do not need)."""
    try:
        return request.getfixturevalue(name)
    except pytest.FixtureLookupError:
        return default


@pytest.fixture(scope="module", params=BACKENDS)
def live_server(request, tmp_path_factory, live_databases):
    """A real server (2 gunicorn workers) on a database of its own, shared by a test
    module."""
    workdir = tmp_path_factory.mktemp(f"live-{request.param}")
    env = {k: str(v) for k, v in _module_fixture(request, "live_server_env", {}).items()}
    own_migration = _module_fixture(request, "live_server_own_migration", False)
    server, drop = _launch(request.param, workdir, env, live_databases, own_migration)
    yield server
    server.stop()
    if drop:
        drop()


@pytest.fixture
def live_backend(live_server) -> str:
    return backend_of(live_server)


@pytest.fixture(params=BACKENDS)
def start_live_server(request, tmp_path, live_databases):
    """Start servers with extra settings: `start_live_server(ACCORD_PROXY_COUNT="1")`."""
    with _servers(request.param, tmp_path, live_databases) as start:
        yield start


@pytest.fixture(scope="module")
def more_live_servers(live_server, tmp_path_factory, live_databases):
    """Start servers with extra settings for the whole module, on `live_server`'s backend
    (a module-scoped fixture builds them once): `more_live_servers(ACCORD_WITNESSES=url)`."""
    folder = tmp_path_factory.mktemp("more")
    with _servers(backend_of(live_server), folder, live_databases) as start:
        yield start


class _servers:
    """Servers started on one backend under `folder`, all stopped on leaving."""

    def __init__(self, backend: str, folder: Path, databases: LiveDatabases):
        self.backend, self.folder, self.databases, self.started = backend, folder, databases, []

    def __enter__(self):
        return self.start

    def start(self, own_migration=False, **env) -> LiveServer:
        """`own_migration=True`: on a fresh database that `accord db upgrade` migrates for
        this server alone, not on a copy of the template."""
        workdir = self.folder / f"server-{len(self.started)}"
        workdir.mkdir()
        env = {k: str(v) for k, v in env.items()}
        server, drop = _launch(self.backend, workdir, env, self.databases, own_migration)
        self.started.append((server, drop))
        return server

    def __exit__(self, *exc):
        for server, _ in self.started:
            server.begin_stop()
        for server, drop in self.started:
            server.stop()
            if drop:
                drop()
