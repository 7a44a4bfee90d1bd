"""The `accord` command: the Flask CLI with the app loaded, plus Accord's own commands
(cli_sites.py, cli_admin.py, cli_proofs.py, registered by the factory)."""

import sys

import click
from flask.cli import FlaskGroup
from sqlalchemy.exc import DBAPIError

from cmp_server import preflight
from cmp_server.factory import create_app
from cmp_server.proof.cli import main as verify_main
from cmp_server.witness.cli import witness_cli
from config import ConfigError


def main():
    """The `accord` console script: offline and witness commands without the app, a
    one-line error for a missing database or a wrong setting, else the Flask CLI."""
    args = sys.argv[1:]
    if preflight.command_words(args) == ("proofs", "verify-bundle"):  # offline: no app at all
        sys.exit(
            verify_main(args[args.index("verify-bundle") + 1 :], "accord proofs verify-bundle")
        )
    if preflight.command_words(args)[:1] == ("witness",):  # its own key and database
        witness_cli.main(args[args.index("witness") + 1 :], prog_name="accord witness")
    if preflight.needs_database(args) and (problem := preflight.database_problem()):
        click.echo(f"Error: {problem}", err=True)
        sys.exit(1)
    settings = {"ACCORD_CREATE_INSTANCE": preflight.creates_instance(args)}
    cli = FlaskGroup(create_app=lambda: create_app(settings), help="Accord, the consent platform.")
    try:
        cli.main(prog_name="accord")
    except ConfigError as exc:  # a wrong setting: its message names it
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    except DBAPIError as exc:  # one line, not a page of traceback
        reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        click.echo(f"Error: the database refused the command: {reason}", err=True)
        sys.exit(1)
