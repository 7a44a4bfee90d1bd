"""Commands whose module is imported only when they are used: Flask-Migrate's `db` group
(it imports Alembic, about a sixth of `accord`'s start-up) and the plugins Flask finds by
entry point (Flask-Limiter's `limiter` imports rich). Every other command runs without them.

A `DeferredCommand` stands in its group with its name and short help; when it is run,
completed or described, it hands over to the real command: its `make_context` returns the
real command's context, and click invokes that context's command, the real one.
"""

from collections.abc import Callable

import click
from flask.cli import FlaskGroup


class DeferredCommand(click.Command):
    """The command `load()` returns, loaded on first use. `help`: the real command's short
    help, so that listing this one loads nothing; without it, listing loads it."""

    def __init__(self, name: str, load: Callable[[], click.Command], help: str | None = None):
        super().__init__(name, help=help, add_help_option=False)
        self._load = load
        self._command: click.Command | None = None

    def load(self) -> click.Command:
        if self._command is None:
            self._command = self._load()
        return self._command

    def get_short_help_str(self, limit: int = 45) -> str:
        if self.help is None:
            return self.load().get_short_help_str(limit)
        return super().get_short_help_str(limit)

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        return self.load().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context):
        return ctx.command.invoke(ctx)  # the real command's context (make_context)

    def to_info_dict(self, ctx: click.Context) -> dict:
        return self.load().to_info_dict(ctx)


def migration_commands() -> DeferredCommand:
    """Flask-Migrate's `db` group (`accord db upgrade`, ...)."""

    def load():
        from flask_migrate.cli import db

        return db

    return DeferredCommand("db", load, help="Perform database migrations.")


class FlaskGroupDeferringPlugins(FlaskGroup):
    """A `FlaskGroup` that adds Flask's plugin commands (entry points of group
    `flask.commands`) as it does, but each loaded when it is used, not for every command."""

    def _load_plugin_commands(self) -> None:  # FlaskGroup's, which loads them all at once
        if self._loaded_plugin_commands:
            return
        from importlib import metadata

        for ep in metadata.entry_points(group="flask.commands"):
            self.add_command(DeferredCommand(ep.name, ep.load), ep.name)
        self._loaded_plugin_commands = True
