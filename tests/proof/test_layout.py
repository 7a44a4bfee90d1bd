"""The record layout is defined once (proof/layout.py) and everything that lists a record's
fields follows it: the hashed parts, the verifier's columns and named indices, the byte
templates, the export fields and the export schema."""

import pytest

from cmp_server.proof import layout, templates
from cmp_server.proof.canonical import canonical_bytes
from cmp_server.proof.layout import Col
from cmp_server.schemas.export import EXPORT_FIELDS, ExportRecordSchema
from cmp_server.services.sealing import hash_fields

ROW_VALUES = {
    "position": 7,
    "entry_type": "consent",
    "prev_hash": "p" * 64,
    "record_hash": "r" * 64,
    "personal_digest": "d" * 64,
    "salt": b"\x01" * 16,
    "erased_at": None,
    "revision": 3,
    "revision_hash": "h" * 64,
    "action": "custom",
    "choices": {"necessary": True, "analytics": False},
    "allowed_kinds": ["cookie"],
    "regime": "opt_in",
    "gpc": False,
    "received_at": "2026-11-24T10:00:00.000001Z",
    "expires_at": "2027-05-25T10:00:00.000001Z",
    "consent_id": "c",
    "device_id": "d",
    "language": "fr",
    "page_url": "https://shop.example/",
    "country": "FR",
    "browser": "Firefox",
    "os": "Linux",
    "device_type": "desktop",
    "ip_truncated": "192.0.2.0/24",
    "client_ts": None,
}
OTHER_VALUES = {
    "position": 8,
    "entry_type": "erasure",
    "revision": 4,
    "revision_hash": "i" * 64,
    "action": "accept_all",
    "choices": {"necessary": True, "analytics": True},
    "allowed_kinds": ["cookie", "beacon"],
    "regime": "opt_out",
    "gpc": True,
    "received_at": "2026-11-24T10:00:00.000002Z",
    "expires_at": "2027-05-25T10:00:00.000002Z",
    "personal_digest": "e" * 64,
}


def row(**changes) -> tuple:
    values = {**ROW_VALUES, **changes}
    return tuple(values[name] for name in layout.VERIFY_COLUMNS)


def test_every_field_is_in_exactly_one_part_and_exported_once():
    parts = {f.part for f in layout.RECORD_FIELDS}
    assert parts == {layout.PUBLIC, layout.PERSONAL, layout.CHAIN, layout.STATE}
    assert len(set(EXPORT_FIELDS)) == len(EXPORT_FIELDS) == len(layout.RECORD_FIELDS)
    assert set(layout.PUBLIC_FIELDS) | set(layout.PERSONAL_FIELDS) < set(EXPORT_FIELDS)
    assert not set(layout.PUBLIC_FIELDS) & set(layout.PERSONAL_FIELDS)


def test_the_verifier_reads_every_field_but_the_site_key():
    assert set(layout.VERIFY_COLUMNS) == set(EXPORT_FIELDS) - {"site_key"}


@pytest.mark.parametrize(
    "name", [n for n in dir(Col) if n.isupper() and not n.startswith("PERSONAL")]
)
def test_each_named_index_points_at_its_column(name):
    assert layout.VERIFY_COLUMNS[getattr(Col, name)] == name.lower()


def test_the_personal_fields_follow_their_start():
    start = Col.PERSONAL_START
    assert layout.VERIFY_COLUMNS[start:] == layout.PERSONAL_FIELDS
    assert all(layout.VERIFY_COLUMNS[i] == n for n, i in Col.PERSONAL.items())


def test_the_export_schema_is_derived_from_the_layout():
    schema = ExportRecordSchema()
    assert tuple(schema.fields) == EXPORT_FIELDS
    for field in layout.RECORD_FIELDS:
        assert schema.fields[field.name].allow_none == field.nullable, field.name


def test_the_public_template_covers_exactly_the_hashed_fields():
    """Every hashed field changes the bytes, and the bytes are the JCS of those fields."""
    base = templates.public_bytes("site", row(), "p" * 64)
    expected = {n: ROW_VALUES[n] for n in layout.HASHED_FIELDS if n != "site_key"}
    assert base == canonical_bytes({**expected, "site_key": "site"})
    for name, value in OTHER_VALUES.items():
        assert templates.public_bytes("site", row(**{name: value}), "p" * 64) != base, name
    assert templates.public_bytes("other", row(), "p" * 64) != base
    assert templates.public_bytes("site", row(), "q" * 64) != base


def test_the_personal_template_covers_exactly_the_personal_fields():
    base = templates.personal_bytes(row())
    assert base == canonical_bytes({n: ROW_VALUES[n] for n in layout.PERSONAL_FIELDS})
    for name in layout.PERSONAL_FIELDS:
        assert templates.personal_bytes(row(**{name: "changed"})) != base, name


def test_sealing_hashes_the_layouts_fields():
    record = {**ROW_VALUES, "received_at": None, "expires_at": None, "client_ts": None}
    public, personal = hash_fields("site", record)
    assert tuple(public) == layout.PUBLIC_FIELDS
    assert tuple(personal) == layout.PERSONAL_FIELDS
