"""What `accord` checks before it loads the app: that a command which needs the database has
one, migrated, and the secret key that goes with it.

Run from the wrong folder, `accord site list` used to create `./instance` with an empty
database and a new secret key, then fail with a page of SQLAlchemy traceback. Now it says in
one line which database it tried and how to create it, and writes nothing: only the `db`
commands (`accord db upgrade`) create the instance folder.

`accord` imports this module before any other of its own, so it imports only what every
command needs: SQLAlchemy's URL parser when a database is checked, psycopg when that
database is PostgreSQL.
"""

import os
import sqlite3
from pathlib import Path

from config import ConfigError, database_url_of, instance_path_of

# Commands that need no database (nor a key), or that create it.
NO_DATABASE = {
    ("db",),
    ("proofs", "verify-bundle"),
    ("routes",),
    ("run",),
    ("shell",),
    ("cookie-database",),
}
OPTIONS_WITH_VALUES = {"-A", "--app", "-e", "--env-file"}
HELP = {"--help", "-h", "--version"}


def command_words(args: list[str]) -> tuple[str, ...]:
    """The command and subcommand named by `args` (`("site", "list")`), options left out."""
    words, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in OPTIONS_WITH_VALUES:
            skip = True
        elif not arg.startswith("-"):
            words.append(arg)
    return tuple(words[:2])


def creates_instance(args: list[str]) -> bool:
    """Whether this command line may create the instance folder and the database."""
    return command_words(args)[:1] == ("db",)


def needs_database(args: list[str]) -> bool:
    words = command_words(args)
    if not words or HELP & set(args):
        return False
    return not any(words[: len(prefix)] == prefix for prefix in NO_DATABASE)


def database_problem(env=None) -> str | None:
    """Why the configured database cannot serve a command, in one line; None if it can."""
    from sqlalchemy.engine import make_url

    env = os.environ if env is None else env
    try:
        instance_path = instance_path_of(env)
        url = database_url_of(env, instance_path)
    except ConfigError as exc:
        return str(exc)
    shown = make_url(url).render_as_string(hide_password=True)
    create = "create it with `accord db upgrade`"
    where = "(or set DATABASE_URL or ACCORD_INSTANCE_PATH to the one the server uses)"
    if url.startswith("sqlite"):
        problem = _sqlite_problem(make_url(url).database or "")
    else:
        problem = _postgresql_problem(url)
    if problem == "missing":
        return f"No Accord database at {shown}: {create} {where}."
    if problem:
        return f"Cannot use the database at {shown}: {problem}"
    if not env.get("SECRET_KEY") and not (instance_path / "secret_key").exists():
        return (
            f"No SECRET_KEY and no key file at {instance_path / 'secret_key'}: set SECRET_KEY "
            "(or ACCORD_INSTANCE_PATH) as the server has it."
        )
    return None


def _sqlite_problem(path: str) -> str | None:
    """'missing' when there is no migrated database at `path` (nothing is created)."""
    if not path or path == ":memory:" or not Path(path).is_file():
        return "missing"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True)
        try:
            row = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"{exc}."
    return None if row else "missing"


def _postgresql_problem(url: str) -> str | None:
    import psycopg
    from sqlalchemy.engine import make_url

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(conninfo, connect_timeout=5) as conn:
            found = conn.execute("SELECT to_regclass('alembic_version')").fetchone()[0]
    except psycopg.Error as exc:
        return (str(exc).strip().splitlines() or [type(exc).__name__])[0] + "."
    return None if found else "missing"
