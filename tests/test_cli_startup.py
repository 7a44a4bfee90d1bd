"""`accord` starts without what its command does not use: Alembic (only the `db` commands),
the user-agent parser (only requests), the plugins' commands (only when run), and, for the
offline ones, Flask, SQLAlchemy and psycopg. Each check runs the real command in a process
of its own and reads which modules it had loaded when it exited; none measures time, which
a shared machine blurs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Run `accord ARGS...` as the console script does; at exit, write the loaded modules' names
# and whether the garbage collector is on.
ACCORD = """
import atexit, gc, json, os, sys

def write_modules():
    with open(os.environ["MODULES_FILE"], "w") as out:
        json.dump({"modules": sorted(sys.modules), "gc": gc.isenabled()}, out)

atexit.register(write_modules)
sys.argv = ["accord", *sys.argv[1:]]
from cmp_server.cli import main
main()
"""

MIGRATIONS = ("alembic", "flask_migrate")
USER_AGENT_PARSER = ("user_agents", "ua_parser")
PLUGIN_COMMANDS = ("flask_limiter.commands", "rich")


@pytest.fixture
def accord(tmp_path):
    """Run `accord` with a database of its own: (completed process, loaded modules). Each
    time, the garbage collector must be on again when it ends (cli.py pauses it while it
    starts): a long command must not grow without bound."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'accord.db'}",
        "ACCORD_INSTANCE_PATH": str(tmp_path / "instance"),
        "MODULES_FILE": str(tmp_path / "modules.json"),
    }

    def run(*args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
        Path(env["MODULES_FILE"]).unlink(missing_ok=True)
        done = subprocess.run(
            [sys.executable, "-c", ACCORD, *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        at_exit = json.loads(Path(env["MODULES_FILE"]).read_text())
        assert at_exit["gc"]
        return done, set(at_exit["modules"])

    return run


def python_modules_after(code: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def loaded(modules: set[str], names: tuple[str, ...]) -> set[str]:
    return {name for name in names if name in modules}


def test_importing_the_cli_loads_neither_flask_nor_a_database_driver():
    modules = python_modules_after("import cmp_server.cli")
    assert {"cmp_server.cli", "cmp_server.preflight", "click"} <= modules
    app = ("flask", "sqlalchemy", "psycopg", "cmp_server.factory")
    assert loaded(modules, MIGRATIONS + USER_AGENT_PARSER + app) == set()


def test_help_lists_every_command_without_loading_alembic_or_the_parser(accord):
    done, modules = accord("--help")
    assert done.returncode == 0, done.stderr
    assert "cmp_server.factory" in modules  # the app was made: its commands are listed
    for command in ("db               Perform database migrations.", "limiter", "site", "token"):
        assert command in done.stdout
    assert loaded(modules, MIGRATIONS + USER_AGENT_PARSER) == set()


def test_db_commands_load_flask_migrate_and_the_others_do_not(accord):
    done, modules = accord("db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert loaded(modules, MIGRATIONS) == set(MIGRATIONS)

    done, modules = accord("db", "--help")
    assert done.returncode == 0, done.stderr
    assert "upgrade" in done.stdout
    assert loaded(modules, MIGRATIONS) == set(MIGRATIONS)

    done, modules = accord("site", "list")
    assert done.returncode == 0, done.stderr
    assert "No sites yet" in done.stdout
    assert {"cmp_server.factory", "sqlalchemy", "flask_sqlalchemy"} <= modules
    # on SQLite, not PostgreSQL's driver either
    not_needed = MIGRATIONS + USER_AGENT_PARSER + PLUGIN_COMMANDS + ("psycopg",)
    assert loaded(modules, not_needed) == set()


def test_a_plugin_command_is_loaded_when_it_is_run(accord):
    done, modules = accord("limiter", "--help")
    assert done.returncode == 0, done.stderr
    assert "Flask-Limiter" in done.stdout
    assert "flask_limiter.commands" in modules


def test_verify_bundle_starts_without_the_app(accord):
    done, modules = accord("proofs", "verify-bundle", "--help")
    assert done.returncode == 0, done.stderr
    assert "cmp_server.proof.cli" in modules
    assert loaded(modules, ("flask", "sqlalchemy", "cmp_server.factory")) == set()


def app_settings(tmp_path) -> dict:
    return {"ACCORD_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "a-secret-key-of-some-length"}


def test_a_server_app_loads_the_user_agent_parser_before_its_first_request(tmp_path):
    """gunicorn's workers (wsgi.py) make the app with the defaults: the parser is loaded
    then, so no visitor waits for it; `accord` commands say they serve no request."""
    make = "from cmp_server import create_app\ncreate_app({!r})"
    server = python_modules_after(make.format(app_settings(tmp_path)))
    assert loaded(server, USER_AGENT_PARSER) == set(USER_AGENT_PARSER)
    command = python_modules_after(
        make.format({**app_settings(tmp_path), "ACCORD_SERVES_REQUESTS": False})
    )
    assert "cmp_server.factory" in command
    assert loaded(command, USER_AGENT_PARSER) == set()


def test_the_deferred_db_group_shows_flask_migrates_own_help():
    from flask_migrate.cli import db

    from cmp_server.cli_deferred import migration_commands

    deferred = migration_commands()
    assert deferred.get_short_help_str() == db.get_short_help_str()
    assert deferred.load() is db


def test_flask_migrate_reads_the_apps_migrations_through_the_deferred_entry(tmp_path):
    """Flask-Migrate's functions (the test fixtures' `upgrade()`) and migrations/env.py read
    app.extensions["migrate"]: it answers as `Migrate(app, db, directory=...)` would."""
    from cmp_server import create_app
    from cmp_server.database import MIGRATIONS_DIR, DeferredMigrateConfig
    from cmp_server.extensions import db

    app = create_app(app_settings(tmp_path))
    config = app.extensions["migrate"]
    assert isinstance(config, DeferredMigrateConfig)  # nothing read it yet
    assert config.directory == MIGRATIONS_DIR
    assert config.db is db
    assert config.configure_args == {"compare_type": True, "render_as_batch": True}
    with app.app_context():
        alembic_config = app.extensions["migrate"].migrate.get_config()
    assert alembic_config.get_main_option("script_location") == MIGRATIONS_DIR
