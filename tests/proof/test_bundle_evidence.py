"""Proof bundles carry the site's scans with their signed statements and the screenshots (PNGs
and their SHA-256) of the revisions their records reference, and `accord-verify` checks them
(issue #15 items 5 and 6), on SQLite and PostgreSQL."""

import hashlib
import io
import json
import struct
import zipfile
import zlib

from cmp_server.extensions import db
from cmp_server.models import RevisionScreenshot, Scan
from cmp_server.proof.bundle import MANIFEST, SIGNATURE, BundleWriter
from cmp_server.proof.cli import main as accord_verify
from cmp_server.proof.evidence import png_size
from cmp_server.scanner import evidence
from cmp_server.scanner.service import store_report
from cmp_server.services import bundles, checkpoints, revisions, signing_keys
from tests.scanner.test_screenshots import record_consent

SHOTS = [("en", "desktop", "banner", 1280, 800), ("en", "phone", "preferences", 390, 844)]
DESKTOP = "screenshots/1-en-desktop-banner.png"


def png(width: int, height: int) -> bytes:
    """A real (black, 1-bit) PNG of that size, a few hundred bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = (b"\0" + b"\0" * ((width + 7) // 8)) * height
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def report_of(site) -> dict:
    return {
        "site_key": site.site_key,
        "verdict": "pass",
        "findings": [],
        "pages": [],
        "finished_at": "2026-12-01T10:00:00Z",
    }


def evidenced_site(make_site, app):
    """A published site with a consent, two screenshots of its revision and a signed scan."""
    site = make_site()
    record_consent(app, site.site_key, "en")
    revision = revisions.published_revision(site)
    for language, viewport, layer, width, height in SHOTS:
        data = png(width, height)
        db.session.add(
            RevisionScreenshot(
                revision_id=revision.id,
                language=language,
                viewport=viewport,
                layer=layer,
                width=width,
                height=height,
                png=data,
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )
    scan = Scan(site_id=site.id, url="https://shop.example/", status="running")
    db.session.add(scan)
    db.session.flush()
    store_report(scan, report_of(site))
    db.session.commit()
    return site, scan


def exported(site, tmp_path, name="bundle.zip") -> str:
    path = str(tmp_path / name)
    bundles.write_bundle(site, path)
    db.session.commit()
    return path


def verify(path: str, tmp_path, capsys) -> tuple[int, str]:
    """accord-verify with the site's keys pinned: (exit status, stdout + stderr)."""
    keys = tmp_path / "accord-keys.json"
    keys.write_text(json.dumps({"keys": signing_keys.key_documents()}))
    capsys.readouterr()
    status = accord_verify([path, "--trusted-keys", str(keys)])
    out = capsys.readouterr()
    return status, out.out + out.err


def rebuilt(path: str, change) -> str:
    """The bundle rebuilt around `change(members)` and signed by the site's own key (what a
    careless or dishonest operator could produce): only the evidence checks can tell."""
    source = zipfile.ZipFile(path)
    members = {n: source.read(n) for n in source.namelist() if n not in (MANIFEST, SIGNATURE)}
    manifest = json.loads(source.read(MANIFEST))
    change(members)
    out = path.replace(".zip", "-rebuilt.zip")
    writer = BundleWriter(out)
    for name, data in members.items():
        writer.write_lines(name, [data])
    skip = {"members", "format", "bundle_version"}
    writer.close({k: v for k, v in manifest.items() if k not in skip}, checkpoints.current_signer())
    return out


def test_a_bundle_carries_the_scans_and_the_screenshots_and_verifies(
    app, make_site, tmp_path, capsys
):
    site, scan = evidenced_site(make_site, app)
    path = exported(site, tmp_path)
    bundle = zipfile.ZipFile(path)
    scans = json.loads(bundle.read("scans.json"))
    assert [s["statement"]["scan_id"] for s in scans] == [scan.id]
    assert scans[0]["report"] == scan.report_json
    assert scans[0]["statement"]["site_key"] == site.site_key
    shots = json.loads(bundle.read("screenshots.json"))
    assert [(s["file"], s["width"], s["height"]) for s in shots] == [
        (DESKTOP, 1280, 800),
        ("screenshots/1-en-phone-preferences.png", 390, 844),
    ]
    revision = revisions.published_revision(site)
    for shot in shots:
        data = bundle.read(shot["file"])
        assert hashlib.sha256(data).hexdigest() == shot["sha256"]
        assert png_size(data) == (shot["width"], shot["height"])
        assert (shot["revision"], shot["config_hash"]) == (1, revision.config_hash)
    assert {"scans.json", "screenshots.json", DESKTOP} <= set(
        json.loads(bundle.read(MANIFEST))["members"]
    )
    assert "screenshots/" in bundle.read("README.txt").decode()
    status, output = verify(path, tmp_path, capsys)
    assert status == 0, output
    assert "Scans:               1, each with its signed statement" in output
    assert "Screenshots:         2 PNGs of those revisions" in output
    assert accord_verify([path]) == 2  # intact, signer not established (no pinned keys)


def test_a_png_that_is_not_the_one_hashed_is_named(app, make_site, tmp_path, capsys):
    site, _ = evidenced_site(make_site, app)
    shot = db.session.scalars(db.select(RevisionScreenshot).order_by("id")).first()
    shot.png = shot.png[:-13] + bytes([shot.png[-13] ^ 1]) + shot.png[-12:]
    db.session.commit()
    status, output = verify(exported(site, tmp_path), tmp_path, capsys)
    assert status == 1
    assert (
        f"FAILED: screenshots.json #1 ({DESKTOP}): the PNG does not hash to the SHA-256 given"
        in output
    )


def test_a_png_changed_in_the_bundle_is_named(app, make_site, tmp_path, capsys):
    site, _ = evidenced_site(make_site, app)
    path = exported(site, tmp_path)

    def flip(members):
        members[DESKTOP] = members[DESKTOP][:-13] + b"\1" + members[DESKTOP][-12:]

    status, output = verify(rebuilt(path, flip), tmp_path, capsys)
    assert status == 1
    assert f"screenshots.json #1 ({DESKTOP}): the PNG does not hash" in output

    data = io.BytesIO()  # the same change without re-signing: the manifest catches it
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(data, "w") as copy:
        for item in source.infolist():
            content = source.read(item)
            copy.writestr(item, content[:-1] + b"\0" if item.filename == DESKTOP else content)
    edited = tmp_path / "edited.zip"
    edited.write_bytes(data.getvalue())
    status, output = verify(str(edited), tmp_path, capsys)
    assert status == 1
    assert f"FAILED: {DESKTOP}: SHA-256 or size differs from the manifest" in output


def test_a_report_changed_after_it_was_signed_is_named(app, make_site, tmp_path, capsys):
    site, scan = evidenced_site(make_site, app)
    scan.report_json = scan.report_json.replace('"pass"', '"fail"')
    db.session.commit()
    status, output = verify(exported(site, tmp_path), tmp_path, capsys)
    assert status == 1
    assert (
        f"FAILED: scans.json #1 (scan {scan.id}): the report is not the one the statement names"
        in output
    )


def test_a_statement_of_another_site_is_named(app, make_site, tmp_path, capsys):
    site, _ = evidenced_site(make_site, app)
    report = {**report_of(site), "site_key": "another-site"}
    text = json.dumps(report, sort_keys=True)
    other = Scan(site_id=site.id, url="https://other.example/", status="done", report_json=text)
    db.session.add(other)
    db.session.flush()
    statement = evidence.sign_scan(
        checkpoints.current_signer(),
        site_key="another-site",
        scan_id=other.id,
        url=other.url,
        verdict="pass",
        report_hash=hashlib.sha256(text.encode()).hexdigest(),
        finished_at=report["finished_at"],
        log_size=1,
        log_head="0" * 64,
    )
    other.statement = json.dumps(statement)
    db.session.commit()
    status, output = verify(exported(site, tmp_path), tmp_path, capsys)
    assert status == 1
    assert (
        f"FAILED: scans.json #2 (scan {other.id}): a scan of site another-site, "
        f"not of {site.site_key}" in output
    )


def test_a_screenshot_of_a_revision_not_in_the_bundle_is_named(app, make_site, tmp_path, capsys):
    site, _ = evidenced_site(make_site, app)
    path = exported(site, tmp_path)
    moved = "screenshots/2-en-desktop-banner.png"

    def of_revision_2(members):
        shots = json.loads(members["screenshots.json"])
        shots[0].update(revision=2, file=moved)
        members["screenshots.json"] = json.dumps(shots).encode()
        members[moved] = members.pop(DESKTOP)

    status, output = verify(rebuilt(path, of_revision_2), tmp_path, capsys)
    assert status == 1
    assert f"FAILED: screenshots.json #1 ({moved}): revision 2 is not one of the bundle's" in output


def test_a_bundle_without_scans_or_screenshots_still_verifies(app, make_site, tmp_path, capsys):
    site, _ = evidenced_site(make_site, app)
    path = exported(site, tmp_path)

    def older(members):
        for name in [n for n in members if n.startswith("screenshots") or n == "scans.json"]:
            del members[name]

    status, output = verify(rebuilt(path, older), tmp_path, capsys)
    assert status == 0, output

    def png_without_entry(members):
        del members["screenshots.json"]

    status, output = verify(rebuilt(path, png_without_entry), tmp_path, capsys)
    assert status == 1
    assert "screenshots.json: missing, but the bundle holds screenshots" in output
