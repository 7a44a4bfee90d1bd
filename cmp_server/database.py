"""Database binding: engine options per backend, SQLite pragmas, and the group committer."""

import fcntl
import os
import threading
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import event

from cmp_server.extensions import db

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


def engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_size": 10, "max_overflow": 20, "pool_pre_ping": True, "pool_recycle": 1800}


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def init_app(app):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    options = engine_options(url)
    options.update(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        from cmp_server.services.sealing import DirectCommitter, GroupCommitter

        committer = GroupCommitter if app.config["ACCORD_GROUP_COMMIT"] else DirectCommitter
        app.extensions["accord_committer"] = committer(engine)


class SQLiteWriteLock:
    """Queue SQLite writers across processes without polling.

    SQLite admits one writer at a time and makes the others retry with sleeps of up to
    100 ms, which wrecks latency under several gunicorn workers. A writer that first takes
    this file lock waits in the kernel and wakes as soon as the previous one is done.
    """

    def __init__(self, database_path: str):
        self.path = database_path + ".write-lock"
        self._thread_lock = threading.Lock()
        self._fd = None
        self._pid = None

    @contextmanager
    def __call__(self):
        with self._thread_lock:
            if self._pid != os.getpid():  # a file lock belongs to the process that opened it
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


def write_lock_for(engine):
    """What a batch writer holds around its transaction: a file lock on SQLite, nothing on
    PostgreSQL (where the log head's row lock orders writers)."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return SQLiteWriteLock(database)
    return nullcontext
