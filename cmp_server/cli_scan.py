"""`accord scan`, `accord worker` and `accord cookie-database update`.

`accord scan --site KEY URL` runs a scan inline and keeps its report like a console scan;
exit status 0 pass, 1 fail, 2 could not run. `accord worker` runs the job queue's consumer
(scans started in the console or the API). `accord cookie-database update` refreshes the
shipped Open Cookie Database.
"""

import json
import sys

import click
from flask import current_app

from cmp_server.extensions import db
from cmp_server.scanner import service
from cmp_server.scanner.browse import ScanError
from cmp_server.services import sites
from cmp_server.services.audit import CLI_ACTOR
from cmp_server.services.errors import ServiceError

PASS, FAIL, COULD_NOT_RUN = 0, 1, 2


def could_not_run(message: str):
    click.echo(f"Error: the scan could not run: {message}", err=True)
    sys.exit(COULD_NOT_RUN)


class Progress:
    """Progress on stderr: a bar on a terminal, else one line per page (logs, CI)."""

    def __init__(self):
        self.tty = sys.stderr.isatty()
        self.bar = None
        if self.tty:
            self.bar = click.progressbar(
                length=1,
                label="Scanning",
                file=sys.stderr,
                show_eta=False,
                item_show_func=lambda text: text,
            )
            self.bar.__enter__()
        self.shown = 0

    def __call__(self, phase: str, done: int, total: int):
        text = f"{phase}: page {done} of {total}"
        if self.bar is None:
            click.echo(f"Scanning, {text}", err=True)
            return
        self.bar.length = total
        self.bar.update(done - self.shown, text)
        self.shown = done

    def close(self):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@click.command("scan")
@click.option("--site", "site_key", required=True, help="The site whose declarations to check.")
@click.option(
    "--pages",
    default=5,
    show_default=True,
    type=click.IntRange(0, service.MAX_PAGES),
    help="More same-site pages to visit after refusing and after accepting.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.argument("url")
def scan(site_key, url, pages, as_json):
    """Load URL in headless Chromium before any choice, after "Refuse all" and after "Accept
    all", and report what it sets or sends that the site does not declare."""
    try:
        site = sites.get_site(site_key)
        service.check_url(url)
    except ServiceError as exc:
        could_not_run(exc.message)
    progress = None if as_json else Progress()
    try:
        report = service.scan_site(
            site, url, service.options_from_config(pages, operator=True), progress
        )
    except ScanError as exc:
        could_not_run(str(exc))
    finally:
        if progress:
            progress.close()
    site = sites.get_site(site_key)
    kept = service.new_scan(site, url, pages, CLI_ACTOR.email, "running")
    service.store_report(kept, report)
    CLI_ACTOR.record(
        "scan.run",
        site_key=site_key,
        target=f"scan {kept.id}",
        details={"url": url, "verdict": report["verdict"], "report_hash": kept.report_hash},
    )
    db.session.commit()
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print_table(report)
    sys.exit(PASS if report["verdict"] == "pass" else FAIL)


def print_table(report: dict):
    rows = [("", "kind", "name", "host", "phases", "declared", "known")]
    for f in report["findings"]:
        declared = (
            f"{f['declared']['category']}: {f['declared']['tracker']}" if f["declared"] else "-"
        )
        known = f"{f['known']['platform']} ({f['known']['category']})" if f["known"] else "-"
        mark = "VIOLATION" if f["violation"] else ""
        rows.append((mark, f["kind"], f["name"], f["host"], ",".join(f["phases"]), declared, known))
    widths = [min(max(len(r[i]) for r in rows), 60) for i in range(len(rows[0]))]
    for row in rows:
        click.echo(
            "  ".join(cell[:60].ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        )
    violations = sum(f["violation"] for f in report["findings"])
    click.echo(
        f"\n{report['verdict'].upper()}: {len(report['findings'])} findings, {violations} "
        f"violations, on {len(report['pages'])} pages of {report['url']}"
    )


@click.command("worker")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 16),
    help="Jobs run at once (each scan drives one Chromium).",
)
def worker(workers):
    """Run queued jobs (scans started in the console or the API) until stopped."""
    from cmp_server.scanner.jobs import jobs_of

    jobs = jobs_of(current_app._get_current_object())
    where = current_app.config.get("ACCORD_REDIS_URL") and "Redis" or "SQLite (instance folder)"
    click.echo(f"Accord worker: {workers} at once, queue in {where}.", err=True)
    jobs.consumer(workers).run()


cookie_database = click.Group("cookie-database", help="The shipped Open Cookie Database.")


@cookie_database.command("update")
@click.option("--source", default=None, help="A URL or a file (default: the upstream CSV).")
def cookie_database_update(source):
    """Replace the shipped copy with the upstream CSV (checked) and record its provenance."""
    from cmp_server.scanner import ocd_update

    try:
        summary = ocd_update.update(source or ocd_update.UPSTREAM)
    except ocd_update.UpdateError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(summary)


def register(app):
    app.cli.add_command(scan)
    app.cli.add_command(worker)
    app.cli.add_command(cookie_database)
