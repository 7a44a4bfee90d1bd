"""The evidence a proof bundle carries besides the log (checked by proof/evidence.py): the
site's finished scans with their signed statements, and the screenshots (the PNGs, and a
manifest of them with their SHA-256) of the revisions the bundle's records reference."""

import json
from collections.abc import Iterable

from sqlalchemy import select

from cmp_server.extensions import db
from cmp_server.models import Revision, RevisionScreenshot, Scan
from cmp_server.proof.evidence import SCANS_MEMBER, SCREENSHOTS_MEMBER, screenshot_member


def scan_documents(site) -> list[dict]:
    """Each finished, signed scan of the site: its statement and its report as hashed."""
    rows = db.session.scalars(
        select(Scan)
        .where(Scan.site_id == site.id, Scan.status == "done", Scan.statement.is_not(None))
        .order_by(Scan.id)
    )
    return [{"statement": json.loads(s.statement or "{}"), "report": s.report_json} for s in rows]


def _screenshot_rows(site, numbers: Iterable[int]):
    """The screenshots of the given revisions, in a stable order, a few PNGs in memory at a
    time (rows, not ORM objects: nothing accumulates in the session)."""
    shot = RevisionScreenshot
    query = (
        select(
            Revision.number,
            Revision.config_hash,
            shot.language,
            shot.viewport,
            shot.layer,
            shot.width,
            shot.height,
            shot.sha256,
            shot.png,
        )
        .join(Revision, Revision.id == shot.revision_id)
        .where(Revision.site_id == site.id, Revision.number.in_(sorted(numbers)))
        .order_by(Revision.number, shot.language, shot.viewport, shot.layer)
        .execution_options(yield_per=8)
    )
    return db.session.execute(query)


def write_evidence(writer, site, numbers: Iterable[int]) -> None:
    """Add scans.json, the screenshots' PNGs and screenshots.json to a bundle being written."""
    writer.write_json(SCANS_MEMBER, scan_documents(site))
    documents = []
    for row in _screenshot_rows(site, numbers):
        doc = {
            "revision": row.number,
            "config_hash": row.config_hash,
            "language": row.language,
            "viewport": row.viewport,
            "layer": row.layer,
            "width": row.width,
            "height": row.height,
            "sha256": row.sha256,
        }
        doc["file"] = screenshot_member(doc)
        writer.write_lines(doc["file"], [bytes(row.png)])
        documents.append(doc)
    writer.write_json(SCREENSHOTS_MEMBER, documents)
