"""The screenshots job (run by `accord worker`, scanner/jobs.py): draw a published revision in
each of its languages and viewports with the real snippet, keep the PNGs with their SHA-256.
services/screenshots.py queues it on publish and reads what it kept."""

import json
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from cmp_server.extensions import db
from cmp_server.models import Revision, RevisionScreenshot, ScreenshotRun, Site
from cmp_server.scanner.browse import ScanError
from cmp_server.scanner.screenshots import capture
from cmp_server.services import client_config
from cmp_server.services.snippet import render_snippet, snippet_build_hash, ui_chunk

NOWHERE = "https://accord.invalid"  # the drawn page's requests are all aborted anyway


def chromium_path() -> str:
    return current_app.config.get("ACCORD_CHROMIUM") or "/usr/bin/chromium"


def revision_script(revision: Revision, site_key: str) -> str:
    """The snippet as a visitor under opt_in got it for this revision, texts embedded."""
    client = client_config.client_config(revision, site_key, "opt_in", NOWHERE, gpc=False)
    config = client_config.snippet_config(client, texts=True)
    key = ("screenshots", site_key, revision.number, revision.config_hash)
    return render_snippet(key, lambda: config).body.decode()


def snippet_assets() -> dict[str, bytes]:
    """What the snippet fetches to draw the preferences dialog: the UI chunk, by its path."""
    name, chunk = ui_chunk()
    return {f"/s/{name}": chunk.body}


def take_screenshots(revision_id: int) -> ScreenshotRun | None:
    """The job: draw the revision in each language and viewport, keep the PNGs."""
    run = db.session.scalar(select(ScreenshotRun).where(ScreenshotRun.revision_id == revision_id))
    revision = db.session.get(Revision, revision_id)
    if run is None or revision is None or run.status == "done":
        return run
    site = db.session.get_one(Site, revision.site_id)
    config = json.loads(revision.canonical_json)
    script = revision_script(revision, site.site_key)
    chromium, title, run_id = chromium_path(), site.name, run.id
    db.session.rollback()  # hold no transaction (nor SQLite lock) during the browser run
    try:
        shots = capture(script, config["languages"], title, chromium, snippet_assets())
    except ScanError as exc:
        run = db.session.get_one(ScreenshotRun, run_id)
        missing = not Path(chromium).exists()
        run.status, run.reason = ("skipped" if missing else "failed"), str(exc)
        run.finished_at = datetime.now(UTC)
        db.session.commit()
        return run
    run = db.session.get_one(ScreenshotRun, run_id)
    db.session.execute(
        RevisionScreenshot.__table__.delete().where(RevisionScreenshot.revision_id == revision_id)
    )
    for shot in shots:
        db.session.add(
            RevisionScreenshot(
                revision_id=revision_id,
                language=shot.language,
                viewport=shot.viewport,
                layer=shot.layer,
                width=shot.width,
                height=shot.height,
                png=shot.png,
                sha256=shot.sha256,
            )
        )
    run.status, run.reason = "done", None
    run.snippet_hash = snippet_build_hash()
    run.finished_at = datetime.now(UTC)
    db.session.commit()
    return run
