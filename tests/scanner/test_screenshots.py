"""Screenshots of every published revision (#15 item 6): publishing through the console queues
a job once the publish commits; the job draws the revision with the real snippet in Debian's
Chromium and keeps the PNGs (SQLite and PostgreSQL); the proof record page shows them to proof
readers only. Without Chromium, publishing still works and the revision says its screenshots
were skipped. The deployment's path (the CLI publishes, a real `accord worker` draws, gunicorn
serves) runs on SQLite: the worker keeps what the job keeps, stored and read back on both
backends by the first test (and a real worker on PostgreSQL runs in test_scan_jobs.py)."""

import hashlib
import json
import re
import struct
import time

import pytest
from sqlalchemy import select

from cmp_server.extensions import db
from cmp_server.models import RevisionScreenshot, ScreenshotRun, User
from cmp_server.scanner.jobs import jobs_of
from cmp_server.services import demo, revisions
from cmp_server.services.screenshot_job import take_screenshots
from tests.admin.conftest import password_hash, sign_in
from tests.fixtures.factories import consent_body
from tests.scanner.test_scan_jobs import start_worker

pytestmark = pytest.mark.browser
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
IMAGE = re.compile(r'<img src="(/admin/sites/[^"]+/screenshots/\d+\.png)"')
SHA = re.compile(r"SHA-256 <code>([0-9a-f]{64})</code>")


def console(app, role=None):
    client = app.test_client()
    if role is not None:
        user = User(email=f"{role}@example.com", role=role, password_hash=password_hash())
        db.session.add(user)
        db.session.commit()
        sign_in(client, user)
    return client


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def publish(admin, site_key):
    answer = admin.post(f"/admin/sites/{site_key}/publish", data={})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return answer


def record_consent(app, site_key, language) -> int:
    body = consent_body("accept_all", language=language)
    answer = app.test_client().post(f"/api/v1/sites/{site_key}/consents", json=body)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.json["position"]


def test_publish_queues_the_job_which_keeps_each_language_and_viewport(app, make_site):
    site = make_site(published=False)
    pending = jobs_of(app).huey.pending_count()
    publish(console(app, "admin"), site.site_key)
    revision = revisions.published_revision(site)
    run = db.session.scalar(select(ScreenshotRun).where(ScreenshotRun.revision_id == revision.id))
    assert run.status == "queued"
    assert jobs_of(app).huey.pending_count() == pending + 1  # sent once the publish committed

    assert take_screenshots(revision.id).status == "done"
    shots = db.session.scalars(
        select(RevisionScreenshot).where(RevisionScreenshot.revision_id == revision.id)
    ).all()
    assert {(s.language, s.viewport, s.layer) for s in shots} == {
        (lang, viewport, layer)
        for lang in ("en", "fr")
        for viewport in SIZES
        for layer in ("banner", "preferences")
    }
    for shot in shots:
        assert shot.sha256 == hashlib.sha256(shot.png).hexdigest()
        assert png_size(shot.png) == SIZES[shot.viewport] == (shot.width, shot.height)
    # Each is a different picture: the layer, the language and the viewport all show.
    assert len({s.sha256 for s in shots}) == len(shots) == 8
    hashes_of = {lang: {s.sha256 for s in shots if s.language == lang} for lang in ("en", "fr")}

    # The proof record page shows what this visitor saw: their language's four PNGs.
    dpo = console(app, "dpo")
    for language in ("en", "fr"):
        position = record_consent(app, site.site_key, language)
        page = dpo.get(f"/admin/sites/{site.site_key}/proofs/{position}").get_data(as_text=True)
        urls, hashes = IMAGE.findall(page), SHA.findall(page)
        assert len(urls) == len(hashes) == 4
        assert "banner-replay" not in page  # no re-drawing when there are screenshots
        assert set(hashes) == hashes_of[language]
        for url, expected in zip(urls, hashes, strict=True):
            answer = dpo.get(url)
            assert answer.status_code == 200 and answer.mimetype == "image/png"
            assert hashlib.sha256(answer.data).hexdigest() == expected

    # Roles as for proof records: an anonymous visitor and a marketer get no PNG.
    answer = console(app).get(urls[0])
    assert answer.status_code == 302 and "/admin/login" in answer.location
    assert console(app, "marketer").get(urls[0]).status_code == 403
    # Another site's screenshot is as unknown as a missing one.
    other = make_site(published=True, name="Other shop")
    assert dpo.get(urls[0].replace(site.site_key, other.site_key)).status_code == 404


def test_without_chromium_publishing_works_and_says_skipped(app, make_site, tmp_path):
    app.config["ACCORD_CHROMIUM"] = str(tmp_path / "no-chromium")
    site = make_site(published=False)
    pending = jobs_of(app).huey.pending_count()
    admin = console(app, "admin")
    answer = publish(admin, site.site_key)
    shown = admin.get(answer.location).get_data(as_text=True)
    assert "Revision 1 is live." in shown and "Its screenshots were skipped" in shown
    revision = revisions.published_revision(site)
    assert revision is not None and revision.number == 1
    run = db.session.scalar(select(ScreenshotRun).where(ScreenshotRun.revision_id == revision.id))
    assert run.status == "skipped" and "no-chromium is missing" in run.reason
    assert jobs_of(app).huey.pending_count() == pending  # nothing for a worker to do
    assert app.test_client().get(f"/s/{site.site_key}.js").status_code == 200  # it is live

    position = record_consent(app, site.site_key, "en")
    page = console(app, "dpo").get(f"/admin/sites/{site.site_key}/proofs/{position}")
    text = page.get_data(as_text=True)
    assert "Screenshots of this revision were skipped" in text and "no-chromium" in text
    assert "banner-replay" in text and not IMAGE.search(text)  # today's re-drawing instead


@pytest.mark.sqlite_only
def test_a_worker_draws_a_revision_published_by_the_cli(live_server, tmp_path):
    """The deployment's path: `accord site import --publish`, a real `accord worker` on the
    embedded queue, a DPO reading the PNGs over HTTP from gunicorn."""
    path = tmp_path / "site.json"
    path.write_text(json.dumps(demo.demo_site_config(["https://shop.example"])))
    out = live_server.accord("site", "import", str(path), "--publish", "--json").stdout
    site_key = json.loads(out)["site_key"]
    body = consent_body("accept_all", language="fr")
    assert live_server.post(f"/api/v1/sites/{site_key}/consents", json=body).status_code == 201
    password = live_server.create_user("shots-dpo@example.com", "dpo")
    dpo = live_server.login("shots-dpo@example.com", password)
    record = f"{live_server.url}/admin/sites/{site_key}/proofs/1"
    assert "Screenshots of this revision are queued" in dpo.get(record, timeout=30).text

    worker = start_worker(live_server)
    try:
        deadline = time.monotonic() + 120
        while not IMAGE.search(page := dpo.get(record, timeout=30).text):
            assert time.monotonic() < deadline, "no screenshots after 120 s"
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    urls, hashes = IMAGE.findall(page), SHA.findall(page)
    assert len(urls) == len(hashes) == 4 and "(desktop, fr)" in page and "(phone, fr)" in page
    for url, expected in zip(urls, hashes, strict=True):
        answer = dpo.get(live_server.url + url, timeout=30)
        assert answer.headers["Content-Type"] == "image/png"
        assert hashlib.sha256(answer.content).hexdigest() == expected
    assert live_server.get(urls[0]).status_code == 302  # anonymous: sent to the login page
