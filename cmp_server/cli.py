"""The `accord` command: the Flask CLI with the app loaded, plus Accord's own commands
(cli_sites.py, cli_admin.py, cli_proofs.py, registered by the factory).

Importing this module loads little (click, the preflight checks): each command imports what
it needs, so that the offline ones (`accord proofs verify-bundle`) start without Flask or
SQLAlchemy, and the others without Alembic or the plugins' modules (cli_deferred.py).
"""

import gc
import sys
from contextlib import contextmanager

import click

from cmp_server import preflight
from config import ConfigError


def main():
    """The `accord` console script: offline and witness commands without the app, a
    one-line error for a missing database or a wrong setting, else the Flask CLI."""
    args = sys.argv[1:]
    if preflight.command_words(args) == ("proofs", "verify-bundle"):  # offline: no app at all
        from cmp_server.proof.cli import main as verify_main

        sys.exit(
            verify_main(args[args.index("verify-bundle") + 1 :], "accord proofs verify-bundle")
        )
    if preflight.command_words(args)[:1] == ("witness",):  # its own key and database
        from cmp_server.witness.cli import witness_cli

        witness_cli.main(args[args.index("witness") + 1 :], prog_name="accord witness")
    with collection_paused():
        if preflight.needs_database(args) and (problem := preflight.database_problem()):
            click.echo(f"Error: {problem}", err=True)
            sys.exit(1)
        from sqlalchemy.exc import DBAPIError

        cli = app_cli(args)
    try:
        cli.main(prog_name="accord")
    except ConfigError as exc:  # a wrong setting: its message names it
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    except DBAPIError as exc:  # one line, not a page of traceback
        reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        click.echo(f"Error: the database refused the command: {reason}", err=True)
        sys.exit(1)


def app_cli(args: list[str]):
    """The Flask CLI, with the app `accord` commands need: it creates the instance folder for
    the `db` commands only, and loads what requests need only for `accord run`."""
    from cmp_server.cli_deferred import FlaskGroupDeferringPlugins
    from cmp_server.factory import create_app

    settings = {
        "ACCORD_CREATE_INSTANCE": preflight.creates_instance(args),
        "ACCORD_SERVES_REQUESTS": preflight.command_words(args)[:1] == ("run",),
    }

    def make_app():
        with collection_paused():
            return create_app(settings)

    return FlaskGroupDeferringPlugins(create_app=make_app, help="Accord, the consent platform.")


@contextmanager
def collection_paused():
    """No garbage collection while modules are imported and the app is made. Start-up makes
    some 180,000 objects that live as long as the command, and almost no garbage (under a
    thousand objects in cycles), yet the collector's full passes over them took a tenth of a
    second. What was made is then frozen out of later passes (`gc.freeze`), and the collector
    runs again for the command itself."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
