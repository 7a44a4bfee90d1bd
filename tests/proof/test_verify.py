"""The pure chain verifier: a good log passes; any modified, deleted, inserted or reordered
record is named by position; checkpoints pin history; erasure keeps the chain verifiable."""

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmp_server.proof.chain import ChainVerifier, checkpoint_map, verify_records
from cmp_server.proof.keys import PublicKeys
from cmp_server.proof.log import GENESIS_HASH
from tests.proof.chains import checkpoint, erase, keys_json, make_chain, new_signer, rows

SITE = "site-a"


def test_a_sealed_chain_verifies():
    records = make_chain(20)
    result = verify_records(SITE, records)
    assert result.ok, result
    assert (result.records, result.last_position) == (20, 20)
    assert result.head_hash == records[-1]["record_hash"]


def test_an_empty_log_verifies():
    assert verify_records(SITE, []).ok


@pytest.mark.parametrize(
    "field, value",
    [
        ("action", "accept_all"),
        ("choices", {"necessary": True, "analytics": True, "marketing": True}),
        ("received_at", "2026-11-24T10:00:00.000002Z"),
        ("revision", 2),
        ("gpc", True),
        ("entry_type", "erasure"),
        ("record_hash", "f" * 64),
    ],
)
def test_a_modified_public_field_names_the_record(field, value):
    records = make_chain(10)
    records[4][field] = value
    result = verify_records(SITE, records)
    assert not result.ok
    assert result.problem.position == 5


@pytest.mark.parametrize("field", ["consent_id", "device_id", "page_url", "country", "salt"])
def test_modified_personal_data_names_the_record(field):
    records = make_chain(10)
    records[6][field] = "00" * 16 if field == "salt" else "changed"
    result = verify_records(SITE, records)
    assert result.problem.position == 7
    assert "personal data" in result.problem.reason


def test_a_deleted_record_is_named():
    records = make_chain(10)
    del records[3]
    result = verify_records(SITE, records)
    assert result.problem.position == 4
    assert "missing" in result.problem.reason


def test_a_deleted_last_record_is_caught_by_the_head():
    records = make_chain(10)
    verifier = ChainVerifier(SITE)
    verifier.feed(rows(records[:-1]))
    result = verifier.finish(10, records[-1]["record_hash"])
    assert result.problem.position == 10


def test_an_inserted_record_is_named():
    records = make_chain(10)
    forged = copy.deepcopy(records[2])
    forged["action"] = "accept_all"
    shifted = records[:3] + [forged] + records[3:]
    for position, record in enumerate(shifted, 1):
        record["position"] = position
    result = verify_records(SITE, shifted)
    assert not result.ok
    assert result.problem.position == 4


def test_reordered_records_are_named():
    records = make_chain(10)
    records[5]["position"], records[6]["position"] = 7, 6
    records[5], records[6] = records[6], records[5]
    result = verify_records(SITE, records)
    assert result.problem.position == 6


def test_a_rehashed_record_breaks_the_next_link():
    """Someone who recomputes a modified record's hash breaks the record after it."""
    from cmp_server.proof.log import record_hash

    records = make_chain(10)
    record = records[4]
    record["action"] = "accept_all"
    public = {
        k: record[k]
        for k in record
        if k
        in (
            "site_key",
            "position",
            "entry_type",
            "revision",
            "revision_hash",
            "action",
            "choices",
            "allowed_kinds",
            "regime",
            "gpc",
            "received_at",
            "expires_at",
        )
    }
    record["record_hash"] = record_hash(public, record["personal_digest"], record["prev_hash"])
    result = verify_records(SITE, records)
    assert result.problem.position == 6
    assert "link" in result.problem.reason


def test_a_signed_checkpoint_catches_a_rewritten_history():
    """Rewriting the whole chain consistently is caught by a checkpoint made before."""
    signer = new_signer()
    original = make_chain(10)
    cp = checkpoint(SITE, original, signer, size=5)
    rewritten = make_chain(10)  # same shape, other salts: every hash differs
    assert verify_records(SITE, rewritten).ok
    result = verify_records(SITE, rewritten, [cp])
    assert result.problem.position == 5
    assert "checkpoint" in result.problem.reason


def test_a_checkpoint_past_the_end_reveals_truncation():
    signer = new_signer()
    records = make_chain(10)
    cp = checkpoint(SITE, records, signer)
    result = verify_records(SITE, records[:7], [cp])
    assert result.problem.position == 8


def test_erased_records_still_verify_and_cannot_hide_changes():
    records = make_chain(6)
    records[2] = erase(records[2])
    assert verify_records(SITE, records).ok
    records[2]["country"] = "DE"  # personal data back on an erased record
    assert verify_records(SITE, records).problem.position == 3


def test_a_salt_removed_without_erasure_is_reported():
    records = make_chain(6)
    records[1]["salt"] = None
    assert verify_records(SITE, records).problem.position == 2


def test_live_verification_wants_every_erasure_logged():
    records = make_chain(6)
    records[3] = erase(records[3])
    verifier = ChainVerifier(SITE)
    verifier.feed(rows(records))
    result = verifier.finish(require_logged_erasures=True)
    assert result.problem.position == 4
    assert "erasure" in result.problem.reason


def test_a_slice_verifies_from_its_anchor():
    records = make_chain(30)
    tail = records[10:]
    result = verify_records(SITE, tail, start_position=11, start_hash=records[9]["record_hash"])
    assert result.ok and result.first_position == 11
    assert not verify_records(SITE, tail, start_position=11, start_hash=GENESIS_HASH).ok


def test_the_site_key_is_part_of_every_hash():
    assert not verify_records("site-b", make_chain(3)).ok


def test_checkpoint_signatures():
    from cmp_server.proof.checkpoints import checkpoint_problem

    signer, other = new_signer(), new_signer()
    keys = PublicKeys.from_documents(keys_json(signer)["keys"])
    cp = checkpoint(SITE, make_chain(3), signer)
    assert checkpoint_problem(cp, keys, SITE) is None
    assert "site" in checkpoint_problem(cp, keys, "site-b")
    assert checkpoint_problem({**cp, "size": 4}, keys) == f"bad signature (key {signer.key_id})"
    assert "unknown key" in checkpoint_problem(checkpoint(SITE, [], other), keys)
    assert checkpoint_map([cp]) == {3: {cp["head_hash"]}}


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=25),
    data=st.data(),
)
def test_any_single_change_to_a_log_is_caught(n, data):
    """Property: delete, duplicate, swap or modify any record(s), and verification fails at or
    before the first record touched; an untouched log always verifies."""
    records = make_chain(n)
    assert verify_records(SITE, records).ok
    tampered = copy.deepcopy(records)
    i = data.draw(st.integers(min_value=0, max_value=n - 1), label="index")
    kind = data.draw(st.sampled_from(["delete", "duplicate", "swap", "modify", "rehash"]))
    if kind == "delete":
        del tampered[i]
    elif kind == "duplicate":
        tampered.insert(i, copy.deepcopy(tampered[i]))
    elif kind == "swap":
        j = data.draw(st.integers(min_value=0, max_value=n - 1), label="other")
        if i == j:
            return
        tampered[i], tampered[j] = tampered[j], tampered[i]
        i = min(i, j)
    elif kind == "modify":
        field = data.draw(st.sampled_from(["action", "regime", "language", "expires_at"]))
        tampered[i][field] = tampered[i][field] + "x"
    else:
        tampered[i]["record_hash"] = data.draw(
            st.text("0123456789abcdef", min_size=64, max_size=64)
        )
        if tampered[i]["record_hash"] == records[i]["record_hash"]:
            return
    verifier = ChainVerifier(SITE)
    verifier.feed(rows(tampered))
    result = verifier.finish(n, records[-1]["record_hash"])
    assert not result.ok
    assert result.problem.position <= i + 1 or kind == "delete" and i == n - 1
