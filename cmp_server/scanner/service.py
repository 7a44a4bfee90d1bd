"""Scans as the console, the admin API, the CLI and the job queue see them.

`scan_site` runs a scan and returns its report (no database write: the CLI may run it
inline); `queue_scan` records a scan for the job queue; `execute_scan` is the job's body;
`store_report` keeps a report, hashed, as a finished scan. Like every service these flush and
leave the commit to the caller, except `execute_scan`, which runs outside any request and
commits its progress so the console can show it.
"""

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from cmp_server.extensions import db
from cmp_server.models import LogHead, Scan, Site
from cmp_server.proof.canonical import canonical_json, sha256_hex
from cmp_server.public.cors import origin_allowed
from cmp_server.scanner import evidence, ocd, targets
from cmp_server.scanner.browse import ScanError, Scanner, ScanOptions
from cmp_server.scanner.classify import classify
from cmp_server.services import revisions
from cmp_server.services.errors import InvalidInput, NotFound

log = logging.getLogger(__name__)
MAX_PAGES = 50
HISTORY = 50


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def check_url(url: str) -> str:
    try:
        parts = urlsplit(url or "")
        readable = parts.port is None or parts.port > 0  # ValueError: "https://[::1/", port 99999
    except ValueError:
        readable = False
    if not readable or parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput("Give an http(s) URL to scan.", fields={"url": ["Not an http(s) URL."]})
    return url


def check_pages(pages: int) -> int:
    if not 0 <= pages <= MAX_PAGES:
        raise InvalidInput(
            f"Scan between 0 and {MAX_PAGES} more pages.",
            fields={"pages": [f"Must be between 0 and {MAX_PAGES}."]},
        )
    return pages


def check_own_url(site: Site, url: str) -> str:
    """Staff scan only their site's own pages: the server's browser must not be pointed at
    the network it runs in (the CLI, run by the operator, may scan any URL)."""
    check_url(url)
    parts = urlsplit(url)
    if not origin_allowed(f"{parts.scheme}://{parts.netloc}", tuple(site.origins)):
        raise InvalidInput(
            "Scan a page of one of the site's own origins: " + ", ".join(site.origins),
            fields={"url": ["Not one of the site's origins."]},
        )
    if not current_app.config.get("ACCORD_SCAN_PRIVATE_NETWORKS", False):
        try:
            targets.check_public(url)
        except targets.PrivateTarget as exc:
            raise InvalidInput(
                f"Scan a page on the public internet: {exc}.",
                fields={"url": ["A private or local address."]},
            ) from None
    return url


def options_from_config(pages: int, operator: bool = False) -> ScanOptions:
    """The scan's options; `operator` (the CLI) may always reach private addresses."""
    config = current_app.config
    return ScanOptions(
        pages=pages,
        private_networks=operator or bool(config.get("ACCORD_SCAN_PRIVATE_NETWORKS", False)),
        chromium=config.get("ACCORD_CHROMIUM", ScanOptions.chromium),
        settle_ms=int(config.get("ACCORD_SCAN_SETTLE_MS", ScanOptions.settle_ms)),
        quiet_ms=int(config.get("ACCORD_SCAN_QUIET_MS", ScanOptions.quiet_ms)),
        banner_timeout_ms=int(
            config.get("ACCORD_SCAN_BANNER_TIMEOUT_MS", ScanOptions.banner_timeout_ms)
        ),
    )


def published_snapshot(site: Site) -> tuple[dict, int]:
    revision = revisions.published_revision(site)
    if revision is None:
        raise ScanError(f"site {site.site_key} has no published revision: publish it first")
    return json.loads(revision.canonical_json), revision.number


def scan_site(
    site: Site,
    url: str,
    options: ScanOptions,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict:
    """Scan `url` against the site's published revision; ScanError when it cannot run."""
    snapshot, revision = published_snapshot(site)
    site_key = site.site_key
    db.session.rollback()  # hold no transaction (nor SQLite lock) during the browser run
    started_at = now_iso()
    seen = Scanner(check_url(url), site_key, options, progress).run()
    return classify(seen, snapshot, revision, ocd.load(), started_at, now_iso())


def store_report(scan: Scan, report: dict) -> Scan:
    """Keep the report as canonical JSON with its SHA-256; counts for the console."""
    text = canonical_json(report)
    scan.report_json = text
    scan.report_hash = sha256_hex(text.encode())
    scan.verdict = report["verdict"]
    scan.violations = sum(f["violation"] for f in report["findings"])
    scan.undeclared = sum(
        1 for f in report["findings"] if f["declared"] is None and not is_accord_finding(f)
    )
    scan.status = "done"
    scan.finished_at = datetime.now(UTC)
    db.session.flush()
    scan.statement = canonical_json(sign_statement(scan, report))
    db.session.flush()
    return scan


def sign_statement(scan: Scan, report: dict) -> dict:
    """The scan statement, signed with the site's proof key and bound to its log head."""
    from cmp_server.services.checkpoints import current_signer

    size, head = db.session.execute(
        select(LogHead.size, LogHead.head_hash).where(LogHead.site_id == scan.site_id)
    ).one()
    return evidence.sign_scan(
        current_signer(),
        site_key=report["site_key"],
        scan_id=scan.id,
        url=scan.url,
        verdict=report["verdict"],
        report_hash=scan.report_hash,
        finished_at=report["finished_at"],
        log_size=size,
        log_head=head,
    )


def is_accord_finding(finding: dict) -> bool:
    return (finding.get("known") or {}).get("source") == "accord"


def new_scan(site: Site, url: str, pages: int, requested_by: str | None, status: str) -> Scan:
    scan = Scan(
        site_id=site.id,
        url=url,
        pages=check_pages(pages),
        status=status,
        requested_by=requested_by,
        progress={},
    )
    db.session.add(scan)
    db.session.flush()
    return scan


def queue_scan(site: Site, url: str, pages: int, actor) -> Scan:
    """A queued scan of one of the site's pages; the caller commits, then `jobs.enqueue`."""
    scan = new_scan(site, check_own_url(site, url), pages, actor.email, "queued")
    actor.record(
        "scan.start", site_key=site.site_key, target=f"scan {scan.id}", details={"url": url}
    )
    return scan


def execute_scan(scan_id: int) -> None:
    """The job: run a queued scan, committing its progress and then its report."""
    scan = db.session.get(Scan, scan_id)
    if scan is None or scan.status != "queued":
        return
    scan.status, scan.started_at = "running", datetime.now(UTC)
    scan.progress = {"phase": "starting", "done": 0, "total": 0}
    db.session.commit()
    site, url, pages = scan.site, scan.url, scan.pages

    def progress(phase: str, done: int, total: int) -> None:
        db.session.execute(
            Scan.__table__.update()
            .where(Scan.id == scan_id)
            .values(progress={"phase": phase, "done": done, "total": total})
        )
        db.session.commit()

    try:
        report = scan_site(site, url, options_from_config(pages), progress)
    except ScanError as exc:
        fail_scan(scan_id, str(exc))
        return
    except Exception:
        log.exception("scan %s failed", scan_id)
        fail_scan(scan_id, "the scan stopped on an internal error (see the worker's log)")
        return
    scan = db.session.get(Scan, scan_id)
    store_report(scan, report)
    db.session.commit()


def fail_scan(scan_id: int, message: str) -> None:
    db.session.rollback()
    scan = db.session.get(Scan, scan_id)
    scan.status, scan.error, scan.finished_at = "failed", message, datetime.now(UTC)
    db.session.commit()


def list_scans(site: Site, limit: int = HISTORY) -> list[Scan]:
    return list(
        db.session.scalars(
            select(Scan).where(Scan.site_id == site.id).order_by(Scan.id.desc()).limit(limit)
        )
    )


def latest_finished(site: Site) -> Scan | None:
    return db.session.scalar(
        select(Scan)
        .where(Scan.site_id == site.id, Scan.status == "done")
        .order_by(Scan.id.desc())
        .limit(1)
    )


def get_scan(site: Site, scan_id: int) -> Scan:
    scan = db.session.get(Scan, scan_id)
    if scan is None or scan.site_id != site.id:
        raise NotFound(f"Site {site.site_key} has no scan {scan_id}.")
    return scan


def report_of(scan: Scan) -> dict | None:
    return json.loads(scan.report_json) if scan.report_json else None


def scan_notices(site: Site, publishing: bool = False) -> list[str]:
    """What the dashboard (drift) and the publish page (staleness) say about the last scan."""
    last = latest_finished(site)
    notices = []
    if last is not None and last.violations:
        notices.append(
            f"The last scan (#{last.id}) found {last.violations} violation"
            f"{'s' if last.violations != 1 else ''}: something ran before a choice or after "
            "refusal that is not declared as strictly necessary."
        )
    if last is not None and last.undeclared:
        notices.append(
            f"The last scan (#{last.id}) found {last.undeclared} tracker"
            f"{'s' if last.undeclared != 1 else ''} the site does not declare."
        )
    if publishing and last is None:
        notices.append("The site has never been scanned: a scan shows what its pages really do.")
    elif publishing and draft_is_newer(site, last):
        notices.append("The last scan is older than the draft: scan again after publishing.")
    return notices


def draft_is_newer(site: Site, scan: Scan) -> bool:
    """Whether the draft differs from the revision the scan checked the site against."""
    published = revisions.published_revision(site)
    scanned = (report_of(scan) or {}).get("revision")
    if published is None or published.number != scanned:
        return True
    draft = canonical_json(revisions.revision_snapshot(site))
    return sha256_hex(draft.encode()) != published.config_hash
