"""Database binding: engine options per backend, SQLite pragmas, and the group committer."""

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
