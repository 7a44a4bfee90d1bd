"""Receipts and keys, offline: a signed receipt verifies with the public key alone; any change
to it, or a key that is not ours, does not."""

import pytest

from cmp_server.proof.keys import PublicKeys, key_document, key_id_for, public_raw
from cmp_server.proof.receipts import receipt_problem, sign_receipt
from tests.proof.chains import keys_json, new_signer

RECEIPT = {
    "consent_id": "3f1c2a4e-8d1b-4c55-9f7e-2b6a1d0c9e11",
    "site_key": "site-a",
    "position": 42,
    "hash": "ab" * 32,
    "revision": 3,
    "received_at": "2026-11-24T10:00:00.000000Z",
    "expires_at": "2027-05-25T10:00:00.000000Z",
}


def test_key_ids_are_the_start_of_the_sha256_of_the_raw_public_key():
    import hashlib

    signer = new_signer()
    raw = public_raw(signer.key)
    assert signer.key_id == hashlib.sha256(raw).hexdigest()[:16] == key_id_for(raw)
    assert key_document(raw, None, None)["algorithm"] == "Ed25519"


def test_a_signed_receipt_verifies():
    signer = new_signer()
    receipt = sign_receipt(RECEIPT, signer)
    keys = PublicKeys.from_documents(keys_json(signer)["keys"])
    assert receipt["key_id"] == signer.key_id
    assert receipt_problem(receipt, keys) is None


@pytest.mark.parametrize(
    "field, value",
    [
        ("position", 43),
        ("hash", "cd" * 32),
        ("consent_id", None),
        ("key_id", "0" * 16),
        ("received_at", "2026-11-24T10:00:01.000000Z"),
        ("extra", "field"),
    ],
)
def test_any_change_to_a_receipt_breaks_it(field, value):
    signer = new_signer()
    keys = PublicKeys.from_documents(keys_json(signer)["keys"])
    receipt = {**sign_receipt(RECEIPT, signer), field: value}
    assert receipt_problem(receipt, keys) is not None


def test_a_receipt_signed_by_an_unknown_key_is_refused():
    keys = PublicKeys.from_documents(keys_json(new_signer())["keys"])
    assert "unknown key" in receipt_problem(sign_receipt(RECEIPT, new_signer()), keys)


def test_malformed_receipts_are_reported_not_raised():
    keys = PublicKeys.from_documents(keys_json(new_signer())["keys"])
    assert receipt_problem([], keys)
    assert "missing" in receipt_problem({"consent_id": "x"}, keys)
    signed = sign_receipt(RECEIPT, new_signer())
    assert receipt_problem({**signed, "signature": "not base64!"}, keys)


def test_a_key_document_whose_id_does_not_match_its_key_is_refused():
    signer, other = new_signer(), new_signer()
    doc = {**keys_json(signer)["keys"][0], "key_id": other.key_id}
    with pytest.raises(ValueError, match="ID does not match"):
        PublicKeys.from_documents([doc])


def test_signatures_are_bound_to_their_purpose():
    """A receipt signature is no checkpoint signature: contexts differ."""
    from cmp_server.proof.canonical import canonical_bytes

    signer = new_signer()
    keys = PublicKeys.from_documents(keys_json(signer)["keys"])
    signature = signer.sign("receipt", canonical_bytes(RECEIPT))
    assert keys.verify(signer.key_id, "receipt", canonical_bytes(RECEIPT), signature) is None
    assert keys.verify(signer.key_id, "checkpoint", canonical_bytes(RECEIPT), signature)
