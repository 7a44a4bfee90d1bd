"""Database binding: engine options per backend, SQLite pragmas, and the bounds that keep a
hung database from hanging the server (README, "When the database hangs"):

- every PostgreSQL connection has a connect timeout, statement and lock timeouts, and TCP
  keepalives, and the pool's checkout is bounded;
- at most ACCORD_DB_REQUEST_SLOTS requests of a worker use the database at once (`slots`):
  the other threads stay free for what needs none (the snippet, the keys, health checks);
- reads that must answer fast whatever the database does (health, a site's state, the
  signing keys) run in a thread of their own and are waited for a bounded time (`read_within`).
"""

import threading
import time
from concurrent.futures import Future
from pathlib import Path

from flask import current_app, g, request
from sqlalchemy import event, text
from sqlalchemy.exc import SQLAlchemyError

from cmp_server.cli_deferred import migration_commands
from cmp_server.extensions import db
from cmp_server.services.errors import StorageUnavailable
from config import make_private_database_file

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")
KEEPALIVE_PROBES = 3


def engine_options(url: str, config: dict | None = None) -> dict:
    """Per backend; on both, SQL parameters (consent rows) stay out of error messages and so
    out of logs (cmp_server/logs.py). `config` holds the ACCORD_DB_* bounds."""
    if url.startswith("sqlite"):
        return {
            "connect_args": {"timeout": 30, "check_same_thread": False},
            "hide_parameters": True,
        }
    config = config or {}
    return {
        "pool_size": 10,
        "max_overflow": 20,
        "pool_pre_ping": True,
        "pool_recycle": 1800,
        "pool_timeout": config.get("ACCORD_DB_POOL_TIMEOUT", 2.0),
        "hide_parameters": True,
        "connect_args": postgres_connect_args(config),
    }


def postgres_connect_args(config: dict) -> dict:
    """libpq options that bound every wait on the server: connecting, a statement, a lock, and
    a peer that went silent (keepalives, and tcp_user_timeout for data sent but never
    acknowledged)."""
    keepalive = config.get("ACCORD_DB_KEEPALIVE_SECONDS", 10.0)
    interval = max(1, round(keepalive / KEEPALIVE_PROBES))
    statement_ms = round(config.get("ACCORD_DB_STATEMENT_TIMEOUT", 30.0) * 1000)
    lock_ms = round(config.get("ACCORD_DB_LOCK_TIMEOUT", 10.0) * 1000)
    return {
        "connect_timeout": max(1, round(config.get("ACCORD_DB_CONNECT_TIMEOUT", 3.0))),
        "keepalives": 1,
        "keepalives_idle": max(1, round(keepalive)),
        "keepalives_interval": interval,
        "keepalives_count": KEEPALIVE_PROBES,
        "tcp_user_timeout": round(keepalive * 2 * 1000),
        "options": f"-c statement_timeout={statement_ms} -c lock_timeout={lock_ms}",
    }


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def init_app(app):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    options = engine_options(url, app.config)
    options.update(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    on_disk = url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:")
    if on_disk and app.config.get("ACCORD_CREATE_INSTANCE", True):
        make_private_database_file(Path(url.removeprefix("sqlite:///")))
    db.init_app(app)
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
    init_slots(app)


# --- migrations: Flask-Migrate, imported when a migration runs ------------------------------


def forget_inherited_connections(app) -> None:
    """In a process forked from `app`'s (gunicorn's preloaded master): drop, without closing
    them, any pooled connections the parent opened, so that no two processes share one."""
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def init_migrations(app) -> None:
    """What `Migrate(app, db, directory=MIGRATIONS_DIR)` sets up (app.extensions["migrate"]
    and the `db` commands), without importing Flask-Migrate and Alembic: only the `db`
    commands and `flask_migrate.upgrade()` need them, not the server nor the other commands."""
    app.extensions["migrate"] = DeferredMigrateConfig(app)
    app.cli.add_command(migration_commands(), "db")


class DeferredMigrateConfig:
    """app.extensions["migrate"] until it is read (by Flask-Migrate or migrations/env.py):
    then Flask-Migrate is bound to the app, which replaces this entry with its own, and every
    attribute read here is that config's."""

    def __init__(self, app):
        self._app = app
        self._config = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str):
        if name.startswith("_"):  # not the config's (copy, pickle, a half-made instance)
            raise AttributeError(name)
        return getattr(self._bound(), name)

    def _bound(self):
        with self._lock:
            if self._config is None:
                from flask_migrate import Migrate

                Migrate(self._app, db, directory=MIGRATIONS_DIR)
                self._config = self._app.extensions["migrate"]
        return self._config


# --- bounded waits on the database ----------------------------------------------------------


class SingleFlight:
    """Runs a call in a thread of its own, at most one per key at a time, and lets each caller
    wait for it a bounded time, counted from the call's start: a database that hangs holds
    one thread per key, never the request threads, and callers that arrive while the call is
    known to be stuck learn it at once."""

    def __init__(self):
        self._lock = threading.Lock()
        self._calls: dict = {}

    def call(self, key, fn, wait: float):
        """fn()'s result, or its exception; TimeoutError if it has run `wait` seconds."""
        with self._lock:
            call = self._calls.get(key)
            if call is None:
                call = self._calls[key] = (time.monotonic(), Future())
                thread = threading.Thread(target=self._run, args=(key, call[1], fn), daemon=True)
                thread.start()
        started, future = call
        return future.result(timeout=max(0.0, started + wait - time.monotonic()))

    def _run(self, key, future: Future, fn):
        try:
            future.set_result(fn())
        except BaseException as exc:  # handed to every waiter
            future.set_exception(exc)
        finally:
            with self._lock:
                self._calls.pop(key, None)


_reads = SingleFlight()


def read_within(key, fn, wait: float):
    """fn() run with this app's context in a thread of its own (one per `key` at a time),
    waited for at most `wait` seconds: TimeoutError after that."""
    app = current_app._get_current_object()

    def run():
        with app.app_context():
            return fn()

    return _reads.call((id(app), key), run, wait)


def _select_one(engine, read=None):
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        return read(conn) if read is not None else None


def health_read(read=None) -> tuple[bool, object]:
    """(True, read(connection)) when the database answers `SELECT 1` and then `read` within
    ACCORD_HEALTH_TIMEOUT_SECONDS in all; (False, None) when it does not, or fails. `read`
    runs in the same bounded thread, so a detail never makes the health check wait longer."""
    engine = db.engine
    wait = current_app.config["ACCORD_HEALTH_TIMEOUT_SECONDS"]
    key = ("health", id(engine), read is not None)
    try:
        return True, _reads.call(key, lambda: _select_one(engine, read), wait)
    except (TimeoutError, SQLAlchemyError):
        return False, None


def read_or_last_known(key, fn):
    """fn()'s fresh result when the database answers in time; else the last one read, after
    ACCORD_DB_STALE_WAIT_SECONDS; StorageUnavailable if there is none. For what visitors'
    pages need and rarely changes (the signing keys)."""
    config = current_app.config
    last_known = current_app.extensions.setdefault("accord_last_known", {})
    known = last_known.get(key)
    wait = config["ACCORD_DB_STALE_WAIT_SECONDS" if known else "ACCORD_DB_WAIT_SECONDS"]
    try:
        value = read_within(key, fn, wait)
    except (TimeoutError, SQLAlchemyError):
        if known is None:
            raise StorageUnavailable("The database did not answer in time.") from None
        return known[0]
    last_known[key] = (value,)
    return value


# Paths that need no database, or bound their own waits on it: never queued behind the slots.
SLOTLESS_PREFIXES = ("/livez", "/healthz", "/static/", "/s/", "/.well-known/")


def init_slots(app) -> None:
    """Let at most ACCORD_DB_REQUEST_SLOTS requests of this worker use the database at once;
    one that finds no slot within ACCORD_DB_SLOT_WAIT_SECONDS answers 503 with Retry-After.
    A hung database then holds those threads only, and the others keep serving the snippet,
    the keys and health checks."""
    slots = DatabaseSlots(app.config["ACCORD_DB_REQUEST_SLOTS"])
    wait = app.config["ACCORD_DB_SLOT_WAIT_SECONDS"]
    app.extensions["accord_db_slots"] = (slots, wait)  # the consent fast path takes them too

    @app.before_request
    def take_slot():
        if request.path.startswith(SLOTLESS_PREFIXES) or request.path == "/api/v1/openapi.json":
            return
        if not slots.take(wait):
            raise StorageUnavailable("The server is waiting for its database; try again shortly.")
        g.accord_slot = True

    @app.teardown_request
    def give_slot(_exc):
        if g.pop("accord_slot", False):
            slots.give()


class DatabaseSlots:
    """A semaphore that does not make requests wait in vain: when every slot is taken and
    none was taken or given back for `wait` seconds, the database hangs, and a request is
    refused at once instead of holding a thread for `wait` first."""

    def __init__(self, count: int):
        self._semaphore = threading.BoundedSemaphore(count)
        self._last_change = time.monotonic()

    def take(self, wait: float) -> bool:
        taken = self._semaphore.acquire(blocking=False)
        if not taken and time.monotonic() - self._last_change < wait:
            taken = self._semaphore.acquire(timeout=wait)
        if taken:
            self._last_change = time.monotonic()
        return taken

    def give(self) -> None:
        self._last_change = time.monotonic()
        self._semaphore.release()
