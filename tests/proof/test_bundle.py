"""Bundles, offline: a good bundle verifies; any change to any member, or to the manifest or
its signature, is reported; a bundle signed by an untrusted key is flagged."""

import hashlib
import io
import json
import zipfile

import pytest

from cmp_server.proof.bundle import MANIFEST, SIGNATURE, BundleWriter
from cmp_server.proof.canonical import canonical_json
from cmp_server.proof.keys import PublicKeys
from cmp_server.proof.purges import sign_purge
from cmp_server.proof.verify import verify_bundle
from tests.proof.chains import checkpoint, keys_json, line_of, make_chain, new_signer

SITE = "site-a"
REVISION_JSON = canonical_json({"categories": [], "name": "Shop"})


def build(
    records,
    signer,
    checkpoints=None,
    start_hash="0" * 64,
    revision_json=REVISION_JSON,
    since=None,
    purges=None,
    version=1,
    lines=None,
):
    """A bundle of `records`: version 1 (records.ndjson) or 2 (records.tsv, whose `lines`
    may be given as they are)."""
    buffer = io.BytesIO()
    writer = BundleWriter(buffer)
    if version == 1:
        writer.write_lines("records.ndjson", (json.dumps(r) + "\n" for r in records))
    else:
        writer.write_lines("records.tsv", lines or [line_of(r) for r in records])
    config_hash = hashlib.sha256(revision_json.encode()).hexdigest()
    writer.write_json(
        "revisions.json",
        [{"revision": 1, "config_hash": config_hash, "canonical_json": revision_json}],
    )
    if checkpoints is None:
        checkpoints = [checkpoint(SITE, records, signer, size=records[-1]["position"])]
    writer.write_json("checkpoints.json", checkpoints)
    writer.write_json("keys.json", keys_json(signer))
    if purges is not None:
        writer.write_json("purges.json", purges)
    first = records[0]["position"] if records else None
    writer.close(
        {
            "site_key": SITE,
            "since": since,
            "records": {
                "count": len(records),
                "first_position": first,
                "last_position": records[-1]["position"] if records else None,
                "start_hash": start_hash,
            },
        },
        signer,
    )
    return buffer.getvalue()


@pytest.fixture
def records():
    chain = make_chain(12)
    for r in chain:
        r["revision_hash"] = hashlib.sha256(REVISION_JSON.encode()).hexdigest()
    # rebuild hashes with the real revision hash
    from tests.proof.chains import make_record

    prev = "0" * 64
    rebuilt = []
    for r in chain:
        record = make_record(SITE, r["position"], prev, revision_hash=r["revision_hash"])
        rebuilt.append(record)
        prev = record["record_hash"]
    return rebuilt


def rewrite(data: bytes, name: str, change) -> bytes:
    """The bundle with member `name` replaced by change(old bytes)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            target.writestr(info.filename, change(content) if info.filename == name else content)
    return out.getvalue()


def test_a_good_bundle_verifies(records):
    signer = new_signer()
    report = verify_bundle(io.BytesIO(build(records, signer)))
    assert report.ok, report.problems
    assert report.chain.records == 12
    assert report.key_ids == [signer.key_id]
    assert report.signer_key_id == signer.key_id
    assert not report.pinned  # checked with the bundle's own keys: the signer is not established
    pinned = verify_bundle(io.BytesIO(build(records, signer)), trusted=keys_of(signer))
    assert pinned.ok and pinned.pinned


def keys_of(*signers) -> PublicKeys:
    return PublicKeys.from_documents(keys_json(*signers)["keys"])


def flip_last_byte(content: bytes) -> bytes:
    return content[:-2] + bytes([content[-2] ^ 1]) + content[-1:]


@pytest.mark.parametrize(
    "member",
    ["records.ndjson", "revisions.json", "checkpoints.json", "keys.json", MANIFEST, SIGNATURE],
)
def test_any_changed_member_is_reported(records, member):
    data = rewrite(build(records, new_signer()), member, flip_last_byte)
    report = verify_bundle(io.BytesIO(data))
    assert not report.ok


def test_a_changed_record_with_a_fixed_manifest_fails_the_signature(records):
    """Fixing up the manifest hash after editing a record breaks the manifest signature."""
    signer = new_signer()
    data = build(records, signer)
    edited = rewrite(data, "records.ndjson", lambda c: c.replace(b'"custom"', b'"accept_all"', 1))
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(edited)).read(MANIFEST))
    new_records = zipfile.ZipFile(io.BytesIO(edited)).read("records.ndjson")
    manifest["members"]["records.ndjson"] = {
        "sha256": hashlib.sha256(new_records).hexdigest(),
        "size": len(new_records),
    }
    forged = rewrite(edited, MANIFEST, lambda _: canonical_json(manifest).encode())
    report = verify_bundle(io.BytesIO(forged))
    assert any("manifest signature" in p for p in report.problems)


def test_a_bundle_re_signed_by_another_key_fails_when_keys_are_pinned(records):
    genuine, forger = new_signer(), new_signer()
    records[3]["action"] = "accept_all"  # forger rebuilds everything with their own key
    from tests.proof.chains import make_record

    prev, forged = "0" * 64, []
    for r in records:
        record = make_record(SITE, r["position"], prev, revision_hash=r["revision_hash"])
        forged.append(record)
        prev = record["record_hash"]
    data = build(forged, forger)
    assert verify_bundle(io.BytesIO(data)).ok
    report = verify_bundle(io.BytesIO(data), trusted=keys_of(genuine))
    [problem] = report.problems
    assert problem.startswith(
        f"manifest signature: signed by key {forger.key_id}, which is not a trusted key"
    )


def test_pinned_keys_check_the_checkpoints_too(records):
    """A genuine manifest cannot vouch for a checkpoint signed by another key."""
    genuine, forger = new_signer(), new_signer()
    forged_checkpoint = checkpoint(SITE, records, forger, size=12)
    data = build(records, genuine, [forged_checkpoint])
    assert verify_bundle(io.BytesIO(data), trusted=keys_of(genuine)).problems == [
        f"checkpoints.json #1: unknown key {forger.key_id!r}"
    ]


def test_a_tampered_record_is_named_even_inside_a_consistent_bundle(records):
    """A bundle built (and signed) over a tampered chain still names the bad record."""
    records[6]["action"] = "accept_all"
    report = verify_bundle(io.BytesIO(build(records, new_signer())))
    assert any("position 7" in p for p in report.problems)


def test_a_slice_needs_a_signed_anchor(records):
    signer = new_signer()
    tail = records[4:]
    anchor = checkpoint(SITE, records, signer, size=4)
    end = checkpoint(SITE, records, signer, size=12)
    since = tail[0]["received_at"]
    good = build(tail, signer, [anchor, end], start_hash=records[3]["record_hash"], since=since)
    assert verify_bundle(io.BytesIO(good)).ok
    unanchored = build(tail, signer, [end], start_hash=records[3]["record_hash"], since=since)
    assert any("anchors" in p for p in verify_bundle(io.BytesIO(unanchored)).problems)


def test_an_unknown_revision_is_reported(records):
    other = canonical_json({"categories": [], "name": "Other"})
    report = verify_bundle(io.BytesIO(build(records, new_signer(), revision_json=other)))
    assert any("revision 1" in p for p in report.problems)


def test_an_extra_member_is_reported(records):
    data = build(records, new_signer())
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a") as archive:
        archive.writestr("extra.txt", b"hello")
    assert any("extra.txt" in p for p in verify_bundle(io.BytesIO(out.getvalue())).problems)


def test_not_a_zip_is_reported():
    report = verify_bundle(io.BytesIO(b"not a zip"))
    assert report.problems and "zip" in report.problems[0]


def swap(records):
    records[4], records[5] = records[5], records[4]
    return records


def delete(records):
    del records[6]
    return records


def edit(records):
    records[8]["gpc"] = True
    return records


@pytest.mark.parametrize(
    "tamper", [swap, delete, edit, None], ids=["swap", "delete", "edit", "intact"]
)
def test_checking_in_runs_on_several_processes_finds_what_one_pass_finds(records, tamper):
    """The records of a large bundle are checked in runs by worker processes; a break at or
    between runs is named exactly as one pass over the whole chain names it."""
    signer = new_signer()
    signed = [checkpoint(SITE, records, signer, size=12)]
    data = build(tamper(records) if tamper else records, signer, signed)
    one_pass = verify_bundle(io.BytesIO(data), workers=1)
    for batch in (1, 3, 5):
        done = []
        report = verify_bundle(io.BytesIO(data), workers=2, batch=batch, progress=done.append)
        assert report.problems == one_pass.problems
        assert report.chain.records == one_pass.chain.records
        if tamper is None:
            assert sum(done) == 12 and report.chain.last_position == 12


def test_a_line_that_is_not_json_is_named_in_runs_too(records):
    signer = new_signer()
    lines = [json.dumps(r) + "\n" for r in records]
    lines[9] = "{not json\n"
    buffer = io.BytesIO()
    writer = BundleWriter(buffer)
    writer.write_lines("records.ndjson", lines)
    data = build(records, signer)
    source = zipfile.ZipFile(io.BytesIO(data))
    for name in ("revisions.json", "checkpoints.json", "keys.json"):
        writer.write_json(name, json.loads(source.read(name)))
    writer.close(json.loads(source.read(MANIFEST)), signer)
    for workers, batch in ((1, None), (2, 4)):
        report = verify_bundle(io.BytesIO(buffer.getvalue()), workers=workers, batch=batch)
        assert report.problems == ["records.ndjson line 10: not JSON"]


def purge_of(records, signer, through, retention_days=30, purged_at="2027-12-01T00:00:00.000000Z"):
    removed = records[:through]
    return sign_purge(
        signer,
        site_key=SITE,
        first_position=1,
        through_position=through,
        head_hash=removed[-1]["record_hash"],
        retention_days=retention_days,
        newest_received_at=max(r["received_at"] for r in removed),
        latest_expires_at=max(r["expires_at"] for r in removed),
        purged_at=purged_at,
    )


def test_a_whole_log_missing_its_start_verifies_only_with_a_signed_purge(records):
    """A bundle of a whole log (no --since) whose first records are gone: a checkpoint at the
    gap proves a size, not a purge; signed purge statements past retention do."""
    signer = new_signer()
    tail, head = records[4:], records[3]["record_hash"]
    cps = [checkpoint(SITE, records, signer, size=4), checkpoint(SITE, records, signer, size=12)]
    bare = verify_bundle(io.BytesIO(build(tail, signer, cps, start_hash=head)))
    assert bare.problems == [
        "record at position 1: missing (deleted?): records 1-4 are gone and no signed purge "
        "covers them"
    ]
    purged = build(tail, signer, cps, start_hash=head, purges=[purge_of(records, signer, 4)])
    assert verify_bundle(io.BytesIO(purged)).ok
    early = purge_of(records, signer, 4, retention_days=3650)
    too_soon = build(tail, signer, cps, start_hash=head, purges=[early])
    [problem] = verify_bundle(io.BytesIO(too_soon)).problems
    assert "within the 3650 days of retention it states" in problem
    short = build(tail, signer, cps, start_hash=head, purges=[purge_of(records, signer, 3)])
    assert "records 4-4 are gone" in verify_bundle(io.BytesIO(short)).problems[0]
