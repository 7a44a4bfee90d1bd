"""The export contract: a versioned field list (snapshot), one record exactly as exported
(snapshot), CSV and NDJSON streams in position order, and bundles that verify offline and
report any change to their members."""

import csv
import io
import json
import zipfile
from datetime import UTC, datetime

import pytest

from cmp_server.extensions import db
from cmp_server.proof.chain import verify_records
from cmp_server.proof.verify import verify_bundle
from cmp_server.schemas.export import (
    CSV_FORMAT_VERSION,
    EXPORT_FIELDS,
    EXPORT_FORMAT_VERSION,
    ExportRecordSchema,
)
from cmp_server.services import bundles, exports, lookup, record_rows
from cmp_server.services.consents import prepare_consent
from cmp_server.services.sealing import seal_batch
from cmp_server.visitor import VisitorContext
from tests.fixtures.factories import consent_body, device_headers

SNAPSHOT_FIELDS = (
    "site_key position entry_type consent_id device_id received_at expires_at revision "
    "revision_hash action choices allowed_kinds regime gpc language page_url country browser "
    "os device_type ip_truncated client_ts erased_at salt personal_digest prev_hash record_hash"
)


def test_the_field_list_is_a_versioned_contract():
    """Changing the fields means a new EXPORT_FORMAT_VERSION (and this snapshot)."""
    assert EXPORT_FORMAT_VERSION == 1
    assert " ".join(EXPORT_FIELDS) == SNAPSHOT_FIELDS
    assert tuple(ExportRecordSchema().fields) == EXPORT_FIELDS


@pytest.fixture
def snapshot_site(make_site, monkeypatch):
    """A site with one record sealed at a fixed time with a fixed salt: fully deterministic."""
    site = make_site()
    site.site_key = "snapshot-site"
    db.session.commit()
    lookup.forget_site()
    monkeypatch.setattr("cmp_server.services.sealing.new_salt", lambda: bytes(range(16)))
    state = lookup.site_state("snapshot-site")
    body = consent_body(
        "custom",
        consent_id="3f1c2a4e-8d1b-4c55-9f7e-2b6a1d0c9e11",
        device_id="7d0e4c1a-2b3f-4a5e-8c6d-9e0f1a2b3c4d",
    )
    body["client_ts"] = datetime(2026, 11, 24, 9, 59, 58, tzinfo=UTC)
    visitor = VisitorContext("FR", "Firefox", "Linux", "desktop", "203.0.113.0/24", False)
    pending = prepare_consent(state, body, visitor, now=datetime(2026, 11, 24, 10, tzinfo=UTC))
    with db.engine.begin() as conn:
        seal_batch(conn, [pending])
    return site


def test_one_exported_record_snapshot(snapshot_site):
    [record] = list(record_rows.iter_records(snapshot_site.id))
    revision_hash = record.pop("revision_hash")
    assert len(revision_hash) == 64
    digest, record_hash = record.pop("personal_digest"), record.pop("record_hash")
    assert record == {
        "site_key": "snapshot-site",
        "position": 1,
        "entry_type": "consent",
        "consent_id": "3f1c2a4e-8d1b-4c55-9f7e-2b6a1d0c9e11",
        "device_id": "7d0e4c1a-2b3f-4a5e-8c6d-9e0f1a2b3c4d",
        "received_at": "2026-11-24T10:00:00.000000Z",
        "expires_at": "2027-05-25T10:00:00.000000Z",
        "revision": 1,
        "action": "custom",
        "choices": {"necessary": True, "analytics": True, "marketing": False},
        "allowed_kinds": ["cookie", "storage"],
        "regime": "opt_in",
        "gpc": False,
        "language": "en",
        "page_url": "https://shop.example/cart",
        "country": "FR",
        "browser": "Firefox",
        "os": "Linux",
        "device_type": "desktop",
        "ip_truncated": "203.0.113.0/24",
        "client_ts": "2026-11-24T09:59:58.000000Z",
        "erased_at": None,
        "salt": "000102030405060708090a0b0c0d0e0f",
        "prev_hash": "0" * 64,
    }
    # The same bytes hash the same on both databases: the hash is part of the snapshot.
    assert verify_records(
        "snapshot-site",
        [
            {
                **record,
                "revision_hash": revision_hash,
                "personal_digest": digest,
                "record_hash": record_hash,
            }
        ],
    ).ok


def post_many(client, site, n):
    for i in range(n):
        action = ("accept_all", "reject_all", "custom")[i % 3]
        body = consent_body(action)
        answer = client.post(f"/api/v1/sites/{site.site_key}/consents", json=body)
        assert answer.status_code == 201


CSV_SNAPSHOT = (
    "site_key position received_at expires_at entry_type action choice_necessary "
    "choice_analytics choice_marketing allowed_kinds revision regime gpc consent_id device_id "
    "language page_url country browser os device_type ip_truncated client_ts erased_at details"
)


def test_the_csv_columns_are_a_versioned_contract(make_site):
    """The CSV for DPOs: one column per category, no salt and no hashes. Changing its columns
    means a new CSV_FORMAT_VERSION, this snapshot and the README's export section."""
    site = make_site()
    assert CSV_FORMAT_VERSION == 2
    assert " ".join(exports.csv_header(exports.site_categories(site.id))) == CSV_SNAPSHOT
    technical = {"salt", "personal_digest", "prev_hash", "record_hash", "revision_hash"}
    assert not technical & set(CSV_SNAPSHOT.split())


def test_csv_and_ndjson_stream_every_record_in_order(client, make_site):
    site = make_site()
    post_many(client, site, 5)
    text = "".join(exports.stream_csv(site))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["position"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert " ".join(rows[0]) == CSV_SNAPSHOT
    assert [r["action"] for r in rows[:3]] == ["accept_all", "reject_all", "custom"]
    assert [r["choice_marketing"] for r in rows[:2]] == ["granted", "refused"]
    assert {r["choice_necessary"] for r in rows} == {"granted"}
    assert rows[0]["gpc"] == "no" and rows[0]["client_ts"] == "2026-11-24T10:00:00.000000Z"

    lines = "".join(exports.stream_ndjson(site)).splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["position"] for r in records] == [1, 2, 3, 4, 5]
    assert verify_records(site.site_key, records).ok


def test_exports_filter_by_time(client, make_site):
    site = make_site()
    post_many(client, site, 2)
    future = datetime(2100, 1, 1, tzinfo=UTC)
    assert "".join(exports.stream_ndjson(site, since=future)) == ""
    assert len("".join(exports.stream_ndjson(site, until=future)).splitlines()) == 2
    assert len("".join(exports.stream_csv(site, since=future)).splitlines()) == 1  # header


def test_iter_records_finds_a_consent_or_a_device(client, make_site):
    site = make_site()
    body = consent_body()
    client.post(f"/api/v1/sites/{site.site_key}/consents", json=body)
    post_many(client, site, 2)
    [by_consent] = record_rows.iter_records(site.id, consent_id=body["consent_id"])
    [by_device] = record_rows.iter_records(site.id, device_id=body["device_id"])
    assert by_consent == by_device and by_consent["position"] == 1


def test_a_bundle_of_the_live_log_verifies_offline(client, make_site, tmp_path):
    site = make_site()
    post_many(client, site, 7)
    path = tmp_path / "proof.zip"
    manifest = bundles.write_bundle(site, str(path))
    db.session.commit()
    assert manifest["records"] == {
        "count": 7,
        "first_position": 1,
        "last_position": 7,
        "start_hash": "0" * 64,
    }
    report = verify_bundle(str(path))
    assert report.ok, report.problems
    assert report.chain.records == 7 and report.revisions == 1
    assert manifest["bundle_version"] == 2
    members = set(zipfile.ZipFile(path).namelist())
    assert members == {
        "records.tsv",
        "revisions.json",
        "checkpoints.json",
        "keys.json",
        "manifest.json",
        "manifest.sig.json",
        "README.txt",
        "purges.json",
        "cosignatures.json",
        "scans.json",  # empty: no scan, and no screenshot of the revision
        "screenshots.json",
    }
    readme = zipfile.ZipFile(path).read("README.txt").decode()
    assert f"site {site.site_key}, exported" in readme
    assert "accord-verify THIS_BUNDLE.zip --trusted-keys accord-keys.json" in readme
    assert "PINNED KEY" in readme


def test_a_time_slice_bundle_is_anchored_by_checkpoints(client, make_site, tmp_path):
    site = make_site()
    post_many(client, site, 3)
    middle = datetime.now(UTC)
    post_many(client, site, 3)
    path = tmp_path / "slice.zip"
    manifest = bundles.write_bundle(site, str(path), since=middle)
    db.session.commit()
    assert manifest["records"]["first_position"] == 4
    assert verify_bundle(str(path)).ok


def test_a_bundle_of_a_tampered_log_names_the_record(client, make_site, tmp_path):
    from sqlalchemy import text

    site = make_site()
    post_many(client, site, 4)
    bundles.write_bundle(site, str(tmp_path / "before.zip"))  # checkpoints the honest log
    db.session.commit()
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE consent_records SET regime = 'notice' WHERE position = 2"))
    bundles.write_bundle(site, str(tmp_path / "after.zip"))
    db.session.commit()
    report = verify_bundle(str(tmp_path / "after.zip"))
    assert any("position 2" in p for p in report.problems)


def test_csv_says_in_words_what_the_ndjson_holds(client, make_site, runner):
    """Each CSV row is its NDJSON record for a person: the same values, choices spread one
    column per category, booleans yes/no, kinds space-separated, an erasure entry's details
    in `details`, and none of the technical fields."""
    site = make_site()
    post_many(client, site, 4)
    device_id = next(record_rows.iter_records(site.id))["device_id"]
    client.delete(
        f"/api/v1/sites/{site.site_key}/devices/{device_id}/consents",
        headers=device_headers(device_id),
    )
    rows = list(csv.DictReader(io.StringIO("".join(exports.stream_csv(site)))))
    records = [json.loads(line) for line in "".join(exports.stream_ndjson(site)).splitlines()]
    assert len(rows) == len(records) == 5  # four consents and the erasure entry

    def spelled(value):
        if value is None:
            return ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, list):
            return " ".join(value)
        return str(value)

    for row, record in zip(rows, records, strict=True):
        for name, cell in row.items():
            if name.startswith("choice_"):
                granted = record["choices"].get(name[len("choice_") :])
                expected = "" if record["entry_type"] != "consent" else spelled(granted)
                assert cell == expected.replace("yes", "granted").replace("no", "refused")
            elif name == "details":
                assert (json.loads(cell) if cell else None) == (
                    None if record["entry_type"] == "consent" else record["choices"]
                )
            else:
                assert cell == spelled(record[name]), name
    assert rows[-1]["entry_type"] == "erasure" and rows[0]["consent_id"] == ""  # erased


def test_csv_cells_with_commas_quotes_or_line_breaks_are_quoted(snapshot_site):
    """Rows the database joins are checked before they are written as they are: a cell with a
    comma, a quote or a line break sends its row through csv.writer, so every row still
    reads back cell for cell (formula cells made safe too)."""
    state = lookup.site_state("snapshot-site")
    hostile = [
        VisitorContext("FR", 'Fire,fox "9"', "Linux", "desktop", "203.0.113.0/24", False),
        VisitorContext("DE", "Chrome", "=1+1\nWin", "desk\rtop", "198.51.100.0/24", False),
        VisitorContext("NL", "Edge", "Windows", "mobile", "192.0.2.0/24", False),
        # The separator the database joins cells with, inside a cell: read again by position.
        VisitorContext("BE", "Odd\x1fone", "Linux, GNU", "desktop", "192.0.2.0/24", False),
    ]

    def body():
        return {**consent_body(), "client_ts": datetime(2026, 11, 24, 9, 59, 58, tzinfo=UTC)}

    with db.engine.begin() as conn:
        seal_batch(conn, [prepare_consent(state, body(), visitor) for visitor in hostile])
    text = "".join(exports.stream_csv(snapshot_site))
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["position"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert [(r["browser"], r["os"], r["device_type"]) for r in rows[1:]] == [
        ('Fire,fox "9"', "Linux", "desktop"),
        ("Chrome", "'=1+1\nWin", "desk\rtop"),
        ("Edge", "Windows", "mobile"),
        ("Odd\x1fone", "Linux, GNU", "desktop"),
    ]
    assert {len(r) for r in rows} == {len(CSV_SNAPSHOT.split())}
    assert rows[1] == {**rows[3], **{k: rows[1][k] for k in ("position", "received_at",
        "expires_at", "consent_id", "device_id", "country", "browser", "os", "device_type",
        "ip_truncated")}}  # fmt: skip
    # Quoted cells only: the browser, the OS and device type, then the OS of the last.
    assert text.endswith("\r\n") and text.count('"') == 2 + 4 + 2 + 2 + 2


def test_ndjson_lines_are_what_json_dumps_writes_for_any_string(snapshot_site):
    """Every NDJSON line is what json.dumps writes for the record, whatever its strings
    hold: a quote, a backslash, a control character, JSON-like text or a rare character."""
    state = lookup.site_state("snapshot-site")
    browsers = ['Fire"fox', "Back\\slash", "Tab\there", 'x":null,"y', "Zero\u200bwidth", "Fine"]
    visitors = [
        VisitorContext("FR", b, "Linux", "desktop", "203.0.113.0/24", False) for b in browsers
    ]

    def body():
        return {**consent_body(), "client_ts": datetime(2026, 11, 24, 9, 59, 58, tzinfo=UTC)}

    with db.engine.begin() as conn:
        seal_batch(conn, [prepare_consent(state, body(), visitor) for visitor in visitors])
    lines = "".join(exports.stream_ndjson(snapshot_site)).splitlines()
    records = list(record_rows.iter_records(snapshot_site.id))
    assert [json.loads(line)["browser"] for line in lines[1:]] == browsers
    expected = [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in records]
    assert lines == expected
