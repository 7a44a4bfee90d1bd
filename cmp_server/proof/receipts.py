"""Signed receipts: what a visitor keeps to prove their decision was recorded.

A receipt names the consent, its place in the site's log and the record's hash. It is signed
over the RFC 8785 form of every field but `signature` (so fields added later are covered too),
prefixed by the receipt context of `keys.CONTEXTS`. Anyone with the public key can check it;
the server (or a bundle) then shows the record at that position has that hash.
"""

from cmp_server.proof.canonical import canonical_bytes, fast_canonical_bytes
from cmp_server.proof.keys import PublicKeys, Signer

RECEIPT_FIELDS = (
    "consent_id",
    "site_key",
    "position",
    "hash",
    "revision",
    "received_at",
    "expires_at",
    "key_id",
)


def receipt_message(receipt: dict) -> bytes:
    return canonical_bytes({k: v for k, v in receipt.items() if k != "signature"})


def sign_receipt(receipt: dict, signer: Signer) -> dict:
    """The receipt with `key_id` and `signature` added. The receipts we issue hold only ASCII
    keys, strings and integers, for which the fast encoder gives the RFC 8785 form
    (receipt_problem checks with the full one)."""
    signed = {**receipt, "key_id": signer.key_id}
    signed["signature"] = signer.sign("receipt", fast_canonical_bytes(signed))
    return signed


def receipt_problem(receipt: dict, keys: PublicKeys) -> str | None:
    """None when the receipt is well formed and its signature checks out, else why not."""
    if not isinstance(receipt, dict):
        return "a receipt is a JSON object"
    missing = [f for f in (*RECEIPT_FIELDS, "signature") if f not in receipt]
    if missing:
        return f"missing fields: {', '.join(missing)}"
    if not isinstance(receipt["signature"], str) or not isinstance(receipt["key_id"], str):
        return "key_id and signature are strings"
    try:
        message = receipt_message(receipt)
    except Exception:  # rfc8785 refuses values JSON cannot hold (NaN, huge ints)
        return "the receipt holds values that have no canonical JSON form"
    return keys.verify(receipt["key_id"], "receipt", message, receipt["signature"])
