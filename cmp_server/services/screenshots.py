"""Screenshots of every published revision, taken by the job queue after the publish commits.

`note_published` (called by services/publishing.py) adds the revision's ScreenshotRun: queued,
or skipped at once when Chromium is missing (publishing never waits for, nor depends on, a
browser). Once the publishing transaction commits, the job `accord.screenshots` is handed to
the workers; `screenshot_job.take_screenshots` runs there (scanner/screenshots.py draws the
pages) and keeps each PNG with its SHA-256. The console's proof record page shows them as
what the visitor saw.
"""

import logging
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from cmp_server.extensions import db
from cmp_server.models import Revision, RevisionScreenshot, ScreenshotRun, Site
from cmp_server.scanner.jobs import enqueue_screenshots
from cmp_server.scanner.screenshots import LAYERS, VIEWPORTS
from cmp_server.services.screenshot_job import chromium_path

log = logging.getLogger(__name__)
TO_ENQUEUE = "accord_screenshots_to_enqueue"


def note_published(revision: Revision) -> ScreenshotRun:
    """Queue the screenshots of a revision being published (the job is sent after commit)."""
    chromium = chromium_path()
    run = ScreenshotRun(revision_id=revision.id, status="queued")
    if not Path(chromium).exists():
        run.status, run.reason = "skipped", f"{chromium} is missing: install Debian's chromium"
        run.finished_at = datetime.now(UTC)
    db.session.add(run)
    db.session.flush()
    if run.status == "queued":
        db.session.info.setdefault(TO_ENQUEUE, []).append(revision.id)
    return run


def _enqueue_after_commit(session: Session) -> None:
    for revision_id in session.info.pop(TO_ENQUEUE, ()):
        try:
            enqueue_screenshots(revision_id)
        except Exception:  # the revision is live; its run stays "queued" and says so
            log.exception("could not queue the screenshots of revision id %s", revision_id)


def _drop_after_rollback(session: Session) -> None:
    session.info.pop(TO_ENQUEUE, None)


if not event.contains(Session, "after_commit", _enqueue_after_commit):
    event.listen(Session, "after_commit", _enqueue_after_commit)
    event.listen(Session, "after_rollback", _drop_after_rollback)


def run_of(site: Site, number: int) -> ScreenshotRun | None:
    return db.session.scalar(
        select(ScreenshotRun)
        .join(Revision, Revision.id == ScreenshotRun.revision_id)
        .where(Revision.site_id == site.id, Revision.number == number)
    )


def screenshots_of(site: Site, number: int, language: str | None = None) -> list:
    """The screenshots' descriptions (no PNG) of revision `number`, in a stable order;
    only `language`'s when given."""
    query = (
        select(
            RevisionScreenshot.id,
            RevisionScreenshot.language,
            RevisionScreenshot.viewport,
            RevisionScreenshot.layer,
            RevisionScreenshot.width,
            RevisionScreenshot.height,
            RevisionScreenshot.sha256,
        )
        .join(Revision, Revision.id == RevisionScreenshot.revision_id)
        .where(Revision.site_id == site.id, Revision.number == number)
    )
    if language is not None:
        query = query.where(RevisionScreenshot.language == language)
    rows = db.session.execute(query).all()
    order = {v: i for i, v in enumerate(VIEWPORTS)} | {v: i for i, v in enumerate(LAYERS)}
    return sorted(rows, key=lambda r: (r.language, order[r.viewport], order[r.layer]))


def screenshot_png(site: Site, screenshot_id: int) -> RevisionScreenshot | None:
    """One screenshot of one of the site's revisions (None for another site's)."""
    return db.session.scalar(
        select(RevisionScreenshot)
        .join(Revision, Revision.id == RevisionScreenshot.revision_id)
        .where(Revision.site_id == site.id, RevisionScreenshot.id == screenshot_id)
    )
