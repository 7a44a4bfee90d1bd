"""`accord token …`: admin API tokens from the command line (audited, channel "cli")."""

import click

from cmp_server.extensions import db
from cmp_server.schemas.text import escape_controls
from cmp_server.services import staff, tokens
from cmp_server.services.audit import CLI_ACTOR
from cmp_server.services.errors import ServiceError

token_cli = click.Group("token", help="Create, list and revoke admin API tokens.")


def _user(email: str):
    user = staff.find_user(email)
    if user is None:
        raise click.ClickException(f"No staff account has the email {email!r}.")
    return user


@token_cli.command("create")
@click.option("--email", required=True, help="The owner; the token acts with their role.")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
@click.option(
    "--days",
    type=click.IntRange(1, tokens.MAX_LIFETIME_DAYS),
    default=tokens.DEFAULT_LIFETIME_DAYS,
    show_default=True,
    help="The token stops working after this many days.",
)
def token_create(email, name, days):
    """Create a token and print it once (only its SHA-256 is stored)."""
    try:
        token, plain = tokens.issue_token(_user(email), name, days, CLI_ACTOR)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    user = token.user
    db.session.commit()
    click.echo(plain)
    click.echo(
        f"Token for {user.email} ({user.role}), valid until {token.expires_at:%Y-%m-%d %H:%M} "
        "UTC; it will not be shown again.",
        err=True,
    )


@token_cli.command("list")
@click.option("--email", help="Only this owner's tokens.")
def token_list(email):
    """List tokens (id, prefix, owner, state, expiry, last use, name); never the secrets."""
    for token in tokens.list_tokens(_user(email) if email else None):
        state = tokens.state(token)
        expires = f"expires {token.expires_at:%Y-%m-%d}"
        used = token.last_used_at.isoformat() if token.last_used_at else "never used"
        owner, name = escape_controls(token.user.email), escape_controls(token.name)
        click.echo(f"{token.id}\t{token.prefix}…\t{owner}\t{state}\t{expires}\t{used}\t{name}")


@token_cli.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id):
    """Revoke the token with this id (see `accord token list`)."""
    try:
        token = tokens.revoke_token(tokens.get_token(token_id), CLI_ACTOR)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Revoked {token.prefix}….")
