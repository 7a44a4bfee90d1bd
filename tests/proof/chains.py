"""Build logs in the export form without a database: the same hashing as sealing."""

import json
import os

from cmp_server.proof.checkpoints import sign_checkpoint
from cmp_server.proof.keys import Signer, generate, key_document, public_raw
from cmp_server.proof.layout import VERIFY_COLUMNS
from cmp_server.proof.log import GENESIS_HASH, personal_digest, record_hash
from cmp_server.schemas.export import EXPORT_FIELDS

REVISION_HASH = "ab" * 32


def make_record(site_key: str, position: int, prev: str, **overrides) -> dict:
    public = {
        "site_key": site_key,
        "position": position,
        "entry_type": "consent",
        "revision": 1,
        "revision_hash": REVISION_HASH,
        "action": "custom",
        "choices": {"necessary": True, "analytics": position % 2 == 0, "marketing": False},
        "allowed_kinds": ["cookie"],
        "regime": "opt_in",
        "gpc": False,
        "received_at": f"2026-11-24T10:00:{position % 60:02d}.000001Z",
        "expires_at": "2027-05-25T10:00:00.000001Z",
    }
    personal = {
        "consent_id": f"00000000-0000-4000-8000-{position:012d}",
        "device_id": f"00000000-0000-4000-9000-{position:012d}",
        "language": "fr",
        "page_url": "https://shop.example/é",
        "country": "FR",
        "browser": "Firefox",
        "os": "Linux",
        "device_type": "desktop",
        "ip_truncated": "192.0.2.0/24",
        "client_ts": None,
    }
    for key, value in overrides.items():
        (public if key in public else personal)[key] = value
    salt = os.urandom(16)
    digest = personal_digest(salt, personal)
    record = {
        **public,
        **personal,
        "erased_at": None,
        "salt": salt.hex(),
        "personal_digest": digest,
        "prev_hash": prev,
        "record_hash": record_hash(public, digest, prev),
    }
    return {f: record[f] for f in EXPORT_FIELDS}


def make_chain(n: int, site_key: str = "site-a", start: int = 1, prev: str = GENESIS_HASH):
    records = []
    for position in range(start, start + n):
        record = make_record(site_key, position, prev)
        records.append(record)
        prev = record["record_hash"]
    return records


def erase(record: dict, at: str = "2026-12-01T00:00:00.000000Z") -> dict:
    """The record as an erasure leaves it: personal fields and salt gone, digest kept."""
    from cmp_server.proof.log import PERSONAL_FIELDS

    return {**record, **dict.fromkeys(PERSONAL_FIELDS), "salt": None, "erased_at": at}


def rows(records):
    from cmp_server.proof.chain import row_from_export

    return [row_from_export(r) for r in records]


def new_signer() -> Signer:
    return Signer(generate())


def keys_json(*signers) -> dict:
    return {"keys": [key_document(public_raw(s.key), None, None) for s in signers]}


def checkpoint(site_key, records, signer, size=None):
    size = len(records) if size is None else size
    head = records[size - 1]["record_hash"] if size else GENESIS_HASH
    return sign_checkpoint(site_key, size, head, "2026-11-24T11:00:00.000000Z", signer)


assert VERIFY_COLUMNS  # the verifier's columns are all export fields
assert set(VERIFY_COLUMNS) <= set(EXPORT_FIELDS)


def line_of(record: dict) -> str:
    """An exported record as a version 2 bundle line (proof/chain.py `record_line`), built
    here from the definition, not with the code under test."""
    from cmp_server.proof.canonical import canonical_json
    from cmp_server.proof.log import PERSONAL_FIELDS, PUBLIC_FIELDS

    hashed = {f: record[f] for f in (*PUBLIC_FIELDS, "personal_digest", "prev_hash")}
    erased = record["salt"] is None
    personal = "" if erased else canonical_json({f: record[f] for f in PERSONAL_FIELDS})
    fields = (
        canonical_json(hashed),
        record["record_hash"],
        record["salt"] or "",
        personal,
        record["erased_at"] or "",
    )
    return "\t".join(fields) + "\n"


def records_of(data: bytes) -> list[dict]:
    """The lines of a version 2 records member back as exported records."""
    from cmp_server.proof.log import PERSONAL_FIELDS

    records = []
    for line in data.decode().splitlines():
        hashed, record_hash, salt, personal, erased_at = line.split("\t")
        personal_values = json.loads(personal) if personal else dict.fromkeys(PERSONAL_FIELDS)
        record = {
            **json.loads(hashed),
            **personal_values,
            "record_hash": record_hash,
            "salt": salt or None,
            "erased_at": erased_at or None,
        }
        records.append({f: record[f] for f in EXPORT_FIELDS})
    return records
