"""`accord site …`, `accord user …`, `accord demo` and `accord seed`; `register_cli` adds
every Accord command group to an app (the factory calls it)."""

import json
import secrets
import sys

import click

from cmp_server.cli_admin import token_cli
from cmp_server.cli_proofs import register as register_proof_commands
from cmp_server.extensions import db
from cmp_server.schemas.text import escape_controls
from cmp_server.services import publishing, revisions, sites, staff
from cmp_server.services.audit import CLI_ACTOR
from cmp_server.services.demo import DEMO_SITE_NAME, demo_site_config
from cmp_server.services.errors import Conflict, ServiceError


def fail(exc: ServiceError):
    if exc.code == "not_compliant":
        refuse_publishing(exc)
    message = exc.message
    for field, problems in (exc.fields or {}).items():
        message += f"\n  {field}: {json.dumps(problems, ensure_ascii=False)}"
    raise click.ClickException(message)


def refuse_publishing(exc: ServiceError):
    """The compliance problems that stop a publish, one line each (the console cites the
    rules in full on the site's Publish page)."""
    lines = ["Publishing is refused and nothing was changed: the configuration breaks these rules."]
    lines += [f"  - {p['code']}: {p['message']}" for p in exc.fields["compliance"]]
    raise click.ClickException("\n".join(lines))


site_cli = click.Group("site", help="Create, list, import, export and publish sites.")
user_cli = click.Group("user", help="Manage staff accounts.")


@site_cli.command("create")
@click.option("--name", required=True, help="The site's name, shown to staff.")
@click.option("--origin", "origins", multiple=True, help="An allowed origin (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def site_create(name, origins, as_json):
    """Create a site with one strictly necessary category."""
    try:
        site = sites.create_site(name, list(origins), CLI_ACTOR)
    except ServiceError as exc:
        fail(exc)
    db.session.commit()
    if as_json:
        click.echo(json.dumps({"site_key": site.site_key, "name": site.name}))
    else:
        click.echo(f"Created site {site.name!r} with key {site.site_key}.")
        click.echo(f"Next: edit it (accord site export {site.site_key} > site.json), then publish.")


@site_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def site_list(as_json):
    """List the sites and their published revision."""
    rows = []
    for site in sites.list_sites():
        revision = revisions.published_revision(site)
        rows.append(
            {
                "site_key": site.site_key,
                "name": site.name,
                "origins": site.origins,
                "revision": revision.number if revision else None,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        click.echo("No sites yet: `accord site create --name NAME --origin https://…`.")
    for row in rows:
        revision = f"revision {row['revision']}" if row["revision"] else "not published"
        line = f"{row['site_key']}  {row['name']}  ({revision})  {' '.join(row['origins'])}"
        click.echo(escape_controls(line))


@site_cli.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--site", "site_key", help="Replace this site's draft instead of creating a site.")
@click.option("--publish", is_flag=True, help="Publish the imported configuration.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def site_import(file, site_key, publish, as_json):
    """Import a site configuration (JSON) as a new site, or as the draft of --site."""
    try:
        data = json.load(file)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{file.name} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise click.ClickException(f"{file.name} must hold one JSON object.")
    try:
        if site_key:
            site = sites.save_draft(sites.get_site(site_key), data, CLI_ACTOR, True, "cli import")
        else:
            site = sites.import_site(data)
        revision = publish_imported(site) if publish else None
    except ServiceError as exc:
        fail(exc)
    db.session.commit()
    number = revision.number if revision else None
    if as_json:
        click.echo(json.dumps({"site_key": site.site_key, "revision": number}))
    else:
        click.echo(site.site_key)


def publish_imported(site):
    """Publish an imported configuration; one that is already live is not an error (a deploy
    may import the same file again), it keeps the published revision."""
    try:
        return publishing.publish(site, None, CLI_ACTOR)
    except Conflict as exc:
        if exc.code != "nothing_to_publish":
            raise
        revision = revisions.published_revision(site)
        click.echo(f"Revision {revision.number} is already this configuration.", err=True)
        return revision


@site_cli.command("export")
@click.argument("site_key")
def site_export(site_key):
    """Print a site's configuration as JSON (the import format)."""
    try:
        site = sites.get_site(site_key)
    except ServiceError as exc:
        fail(exc)
    click.echo(json.dumps(sites.export_site(site), indent=2, ensure_ascii=False))


@site_cli.command("snippet")
@click.argument("site_key")
@click.option(
    "--base-url",
    help="Where browsers reach this server (default: ACCORD_PUBLIC_URL), e.g. https://consent.example.com",
)
def site_snippet(site_key, base_url):
    """Print the HTML the site pastes first in its <head>: the recommended integration, which
    does not hold first paint. On a page with a CSP, replace NONCE by the page's nonce."""
    from flask import current_app

    from cmp_server.services.snippet import install_html

    try:
        site = sites.get_site(site_key)
    except ServiceError as exc:
        fail(exc)
    base_url = base_url or current_app.config.get("ACCORD_PUBLIC_URL")
    if not base_url or not base_url.startswith(("https://", "http://")):
        raise click.ClickException(
            "Give the server's address as browsers reach it: --base-url https://consent.example.com"
            " (or set ACCORD_PUBLIC_URL)."
        )
    if revisions.published_revision(site) is None:
        click.echo(f"Note: site {site_key} has nothing published yet; publish it first.", err=True)
    click.echo(install_html(base_url, site.site_key), nl=False)


@site_cli.command("publish")
@click.argument("site_key")
@click.option(
    "--reconsent/--no-reconsent",
    default=None,
    help="Whether visitors must decide again (default: only when purposes or trackers widen).",
)
def site_publish(site_key, reconsent):
    """Publish the site's draft as a new revision."""
    try:
        revision = publishing.publish(sites.get_site(site_key), reconsent, CLI_ACTOR)
    except ServiceError as exc:
        fail(exc)
    db.session.commit()
    again = "visitors will be asked again" if revision.requires_reconsent else "no re-consent"
    click.echo(f"Published revision {revision.number} ({again}): {revision.reconsent_reasons}")


def read_password(confirm=True) -> str:
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise click.ClickException("Give the password on standard input.")
        return password
    return click.prompt("Password", hide_input=True, confirmation_prompt=confirm)


@user_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "marketer", "dpo"]))
@click.option("--site", "site_keys", multiple=True, help="Limit the account to these sites.")
def user_create(email, role, site_keys):
    """Create a staff account; the password is read from standard input or a prompt."""
    password = read_password()
    try:
        user = staff.add_user(
            email, role, password, list(site_keys) or None, by=None, actor=CLI_ACTOR
        )
    except ServiceError as exc:
        fail(exc)
    db.session.commit()
    click.echo(f"Created {user.role} account {user.email}.")


@user_cli.command("set-password")
@click.option("--email", required=True)
def user_set_password(email):
    """Set a new password for an account (a lost one); the password is read from standard
    input or a prompt. Every session of the account ends; the change is audited."""
    user = staff.find_user(email)
    if user is None:
        raise click.ClickException(f"No staff account has the email {email!r}.")
    password = read_password()
    try:
        ended = staff.recover_password(user, password, CLI_ACTOR)
    except ServiceError as exc:
        fail(exc)
    db.session.commit()
    click.echo(
        f"New password set for {user.email}; {ended} session{'s' if ended != 1 else ''} "
        "signed out. API tokens are kept: `accord token list --email` and `token revoke` "
        "if the old password may have leaked."
    )
    if not user.active:
        click.echo("The account is deactivated: an admin must re-activate it.", err=True)


@click.command("demo")
@click.option("--origin", "origins", multiple=True, help="Origins of the demo page.")
@click.option("--email", default="admin@example.com", show_default=True)
@click.option("--password", envvar="ACCORD_DEMO_PASSWORD", help="Admin password (else generated).")
def demo(origins, email, password):
    """Create the demo site (published) and an admin account, if they do not exist."""
    from sqlalchemy import select

    from cmp_server.models import Site

    site = db.session.scalar(select(Site).where(Site.name == DEMO_SITE_NAME))
    if site is None:
        site = sites.import_site(demo_site_config(list(origins) or None))
        publishing.publish(site, None, CLI_ACTOR)
        click.echo(f"Created the demo site, key {site.site_key}.")
    else:
        click.echo(f"The demo site exists, key {site.site_key}.")
    if staff.find_user(email) is None:
        password = password or secrets.token_urlsafe(12)
        staff.create_user(email, "admin", password)
        click.echo(f"Admin account: {email} / {password}")
    else:
        click.echo(f"Admin account {email} exists (password unchanged).")
    db.session.commit()
    click.echo("Demo page: /demo   Console: /admin/")


def register_cli(app):
    app.cli.add_command(site_cli)
    app.cli.add_command(user_cli)
    app.cli.add_command(demo)
    app.cli.add_command(token_cli)
    app.cli.add_command(seed)
    register_proof_commands(app)
    from cmp_server.cli_scan import register as register_scan_commands

    register_scan_commands(app)


@click.command("seed")
@click.option("--site", "site_key", required=True)
@click.option("--count", default=10_000, show_default=True, type=click.IntRange(1))
@click.option("--days", default=30, show_default=True, type=click.IntRange(1))
def seed(site_key, count, days):
    """Append COUNT realistic consent records to a site's log (benchmarks, demos)."""
    from cmp_server.services.seeding import seed_consents

    try:
        sites.get_site(site_key)
    except ServiceError as exc:
        fail(exc)
    with click.progressbar(length=count, label="Seeding consents", file=sys.stderr) as bar:
        seed_consents(site_key, count, days=days, progress=bar.update)
    click.echo(f"Added {count} records to site {site_key}.")
