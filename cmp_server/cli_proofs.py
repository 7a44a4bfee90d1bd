"""The proof commands: `accord proofs export|verify|verify-bundle|checkpoint`, `accord keys
rotate|list`, `accord purge`.

Cron (see the README): `accord proofs checkpoint` hourly (sites with little traffic get their
scheduled checkpoint; busy sites get one from the writer anyway) and `accord purge` daily.
`verify-bundle` runs without an app context and never opens the database, so an auditor can
run it anywhere.
"""

import json
import sys
import time
from datetime import UTC, date, datetime, timedelta

import click
from flask.cli import AppGroup

from cmp_server.extensions import db

proofs_cli = AppGroup("proofs", help="Export, verify and checkpoint the consent logs.")
keys_cli = AppGroup("keys", help="The Ed25519 keys that sign receipts and checkpoints.")


class Moment(click.ParamType):
    """A date (2026-11-24) or an ISO 8601 time, as UTC."""

    name = "date"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        try:
            if len(value) <= 10:
                return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is not a date like 2026-11-24 or an ISO 8601 time", param, ctx)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _site(site_key):
    from cmp_server.services import sites
    from cmp_server.services.errors import ServiceError

    try:
        return sites.get_site(site_key)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None


class Progress:
    """Records done and rate, on stderr, at most twice a second."""

    def __init__(self, label: str, total: int | None = None):
        self.label, self.total, self.done = label, total, 0
        self.started = self.shown = time.monotonic()

    def __call__(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.shown >= 0.5:
            self.shown = now
            self.show(end="\r")

    def show(self, end="\n") -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        of = f"/{self.total:,}" if self.total else ""
        rate = self.done / elapsed
        click.echo(f"{self.label}: {self.done:,}{of} records, {rate:,.0f}/s", err=True, nl=False)
        click.echo(end, err=True, nl=False)


def _log_size(site) -> int:
    from cmp_server.models import LogHead

    return db.session.get(LogHead, site.id).size


@proofs_cli.command("export")
@click.option("--site", "site_key", required=True, help="The site's key.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "ndjson", "bundle"]),
    default="bundle",
    show_default=True,
)
@click.option("--since", type=Moment(), help="Records received at or after this time.")
@click.option("--until", type=Moment(), help="Records received before this time.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True))
def export(site_key, fmt, since, until, output):
    """Export a site's consent records (a bundle also holds revisions, checkpoints, keys)."""
    from cmp_server.services import bundles, exports
    from cmp_server.services.audit import record_event

    site = _site(site_key)
    progress = Progress(f"exporting {fmt}", _log_size(site))
    if fmt == "bundle":
        manifest = bundles.write_bundle(site, output, since, until, progress=progress)
        count = manifest["records"]["count"]
    else:
        stream = exports.stream_csv if fmt == "csv" else exports.stream_ndjson
        with open(output, "w", encoding="utf-8", newline="") as out:
            for chunk in stream(site, since, until, progress=progress):
                out.write(chunk)
        count = progress.done
    progress.show()
    record_event(
        "cli",
        "cli",
        "consents.export",
        site.site_key,
        fmt,
        {
            "since": str(since) if since else None,
            "until": str(until) if until else None,
            "records": count,
        },
    )
    db.session.commit()
    click.echo(f"Wrote {count} records of site {site.site_key} to {output} ({fmt}).")


@proofs_cli.command("verify")
@click.option("--site", "site_key", required=True, help="The site's key.")
def verify(site_key):
    """Verify a site's live log, and that it still holds what each witness cosigned; exits 1
    and names the first bad record (or the witness) on failure."""
    from cmp_server.services import checkpoints, verification, witnesses

    site = _site(site_key)
    progress = Progress("verifying", _log_size(site))
    result = verification.verify_site_log(site, progress=progress)
    progress.show()
    last = checkpoints.site_checkpoints(site)[-1:]
    witnessed = witnesses.check_log(site) if result.ok else []
    lag = witnesses.status(site)
    db.session.rollback()
    if not result.ok:
        click.echo(f"Site {site.site_key}: FAILED: {result.problem}", err=True)
        sys.exit(1)
    for row in lag:
        cosigned = f"cosigned up to size {row['size']}" if row["size"] is not None else "none"
        click.echo(f"Witness {row['url']}: {cosigned}, {row['lag']} records behind the head")
    if witnessed:
        for problem in witnessed:
            click.echo(f"Site {site.site_key}: FAILED: {problem}", err=True)
        sys.exit(1)
    click.echo(f"Site {site.site_key}: {result}")
    if not lag:
        click.echo(_undetectable(last[0] if last else None))


def _undetectable(last_checkpoint: dict | None) -> str:
    """What a check of the database alone cannot see (no witness holds a copy)."""
    since = (
        f"after the last signed checkpoint (size {last_checkpoint['size']}, "
        f"{last_checkpoint['created_at']})"
        if last_checkpoint
        else "(there is no signed checkpoint yet)"
    )
    return (
        f"Not detectable from this database alone: records removed from the end of the log or "
        f"rewritten {since}, with the head and later checkpoints moved back to match. Receipts "
        "held by visitors and bundles exported earlier still reveal it."
    )


@proofs_cli.command(
    "verify-bundle",
    with_appcontext=False,
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def verify_bundle(args):
    """Verify a proof bundle offline, as `accord-verify` does (see `--help`)."""
    from cmp_server.proof.cli import main as verify_main

    sys.exit(verify_main(list(args), prog="accord proofs verify-bundle"))


@proofs_cli.command("checkpoint")
@click.option("--site", "site_key", help="Only this site (default: every site).")
@click.option(
    "--if-older-than",
    "minutes",
    type=int,
    default=0,
    show_default=True,
    help="Skip sites whose head has not moved or was checkpointed this recently.",
)
def checkpoint(site_key, minutes):
    """Sign and store a checkpoint of each site's log head (for cron), then send each site's
    latest checkpoint to the witnesses that lack it (ACCORD_WITNESSES)."""
    from cmp_server.models.types import utcnow
    from cmp_server.proof.log import timestamp
    from cmp_server.services import checkpoints, sites

    targets = [_site(site_key)] if site_key else sites.list_sites()
    for site in targets:
        last = checkpoints.site_checkpoints(site)[-1:] if minutes else []
        if last and (
            last[0]["size"] == _log_size(site)
            or last[0]["created_at"] > timestamp(utcnow() - timedelta(minutes=minutes))
        ):
            click.echo(f"{site.site_key}: checkpoint is recent or the log has not moved")
        else:
            statement = checkpoints.make_checkpoint(site, "manual")
            db.session.commit()
            click.echo(f"{site.site_key}: size {statement['size']} head {statement['head_hash']}")
        _send_to_witnesses(site)


def _send_to_witnesses(site) -> None:
    """Outside any transaction that holds the log: a witness that is down costs a timeout."""
    from cmp_server.services import witnesses

    for outcome in witnesses.send_latest(site):
        db.session.commit()
        click.echo(f"{site.site_key}: witness {outcome.url}: {outcome.message}")


@keys_cli.command("rotate")
def keys_rotate():
    """Retire the signing key and start a new one (old keys keep verifying)."""
    from cmp_server.services import checkpoints
    from cmp_server.services.audit import record_event

    key_id = checkpoints.rotate_key()
    record_event("cli", "cli", "keys.rotate", target=key_id)
    db.session.commit()
    click.echo(f"New signing key {key_id}; other hosts pick it up within seconds.")


@keys_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print accord-keys.json.")
def keys_list(as_json):
    """List the signing keys (the public halves, as published)."""
    from cmp_server.services import signing_keys

    documents = signing_keys.key_documents()
    if as_json:
        click.echo(json.dumps({"keys": documents}, indent=2))
        return
    if not documents:
        click.echo("No key yet: one is made on first use, or run `accord keys rotate`.")
    for doc in documents:
        state = f"retired {doc['retired_at']}" if doc["retired_at"] else "signing"
        click.echo(f"{doc['key_id']}  {doc['algorithm']}  created {doc['created_at']}  {state}")


@click.command("purge")
@click.option("--site", "site_key", help="Only this site (default: every site).")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; change nothing.")
def purge(site_key, dry_run):
    """Remove records past their site's retention period (skips sites under legal hold)."""
    from cmp_server.services import retention
    from cmp_server.services.audit import CLI_ACTOR

    if site_key:
        _site(site_key)
    for outcome in retention.purge(site_key, dry_run=dry_run, actor=CLI_ACTOR):
        if outcome.held:
            click.echo(f"{outcome.site_key}: under legal hold, nothing removed")
            continue
        verb = "would remove" if dry_run else "removed"
        through = f" (positions up to {outcome.through_position})" if outcome.deleted else ""
        click.echo(f"{outcome.site_key}: {verb} {outcome.deleted} records{through}")


def register(app) -> None:
    from cmp_server.witness.cli import witness_cli  # listed in --help; cli.main runs it apart

    app.cli.add_command(proofs_cli)
    app.cli.add_command(witness_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(purge)
