"""Witness cosignatures: "witness W saw checkpoint C of site S, and it extends what W saw before".

No Flask and no database here: the witness, the server and the offline verifier share it.

A cosignature signs, with the witness's own Ed25519 key and the context
`accord/cosignature/v1\\n`, the canonical JSON (RFC 8785) of

    {"checkpoint": {site_key, size, head_hash, created_at, key_id},   # the operator's statement
     "cosigned_at": "...Z", "witness_key_id": "<16 hex>"}

A link is what the witness needs to recompute one record's hash from the previous one: the
record's public fields and personal digest (no personal data), to which it adds `prev_hash`.
"""

from cmp_server.proof.canonical import canonical_bytes
from cmp_server.proof.checkpoints import STATEMENT_FIELDS
from cmp_server.proof.keys import PublicKeys, Signer
from cmp_server.proof.log import PUBLIC_FIELDS, record_hash

COSIGNATURE_FIELDS = ("checkpoint", "cosigned_at", "witness_key_id", "signature")
LINK_FIELDS = (*PUBLIC_FIELDS, "personal_digest")


def cosignature_message(checkpoint: dict, cosigned_at: str, witness_key_id: str) -> bytes:
    return canonical_bytes(
        {
            "checkpoint": {f: checkpoint[f] for f in STATEMENT_FIELDS},
            "cosigned_at": cosigned_at,
            "witness_key_id": witness_key_id,
        }
    )


def cosign(checkpoint: dict, cosigned_at: str, signer: Signer) -> dict:
    statement = {f: checkpoint[f] for f in STATEMENT_FIELDS}
    message = cosignature_message(statement, cosigned_at, signer.key_id)
    return {
        "checkpoint": statement,
        "cosigned_at": cosigned_at,
        "witness_key_id": signer.key_id,
        "signature": signer.sign("cosignature", message),
    }


def cosignature_problem(cosignature, witness_keys: PublicKeys) -> str | None:
    """None when the cosignature is well formed and signed by one of `witness_keys`."""
    if not isinstance(cosignature, dict) or not isinstance(cosignature.get("checkpoint"), dict):
        return "a cosignature is a JSON object with a checkpoint"
    missing = [f for f in COSIGNATURE_FIELDS if f not in cosignature]
    missing += [f for f in STATEMENT_FIELDS if f not in cosignature["checkpoint"]]
    if missing:
        return f"missing fields: {', '.join(missing)}"
    try:
        message = cosignature_message(
            cosignature["checkpoint"], cosignature["cosigned_at"], cosignature["witness_key_id"]
        )
    except Exception:
        return "the cosignature holds values that have no canonical JSON form"
    return witness_keys.verify(
        str(cosignature["witness_key_id"]), "cosignature", message, str(cosignature["signature"])
    )


def extend_head(head: str, links: list) -> str:
    """The head hash after appending the records described by `links` to a log ending in
    `head` (ValueError when a link is malformed)."""
    for link in links:
        if not isinstance(link, dict) or set(link) != set(LINK_FIELDS):
            raise ValueError("a link holds exactly the record's public fields and digest")
        public = {f: link[f] for f in PUBLIC_FIELDS}
        try:
            head = record_hash(public, link["personal_digest"], head)
        except Exception:
            raise ValueError("a link holds values that have no canonical JSON form") from None
    return head


def bundle_cosignatures(cosignatures, checkpoints, witness_keys: PublicKeys):
    """Check a bundle's cosignatures.json against the auditor's witness keys: returns (the
    witness key IDs with a valid cosignature of one of the bundle's checkpoints, problems).
    Cosignatures by keys the auditor did not give are skipped; none valid is a problem."""
    if not isinstance(cosignatures, list):
        return [], ["cosignatures.json: not a list"]
    statements = {
        tuple(c.get(f) for f in STATEMENT_FIELDS) for c in checkpoints if isinstance(c, dict)
    }
    good, problems = [], []
    for number, cosignature in enumerate(cosignatures, 1):
        key_id = cosignature.get("witness_key_id") if isinstance(cosignature, dict) else None
        if key_id not in witness_keys:
            continue
        problem = cosignature_problem(cosignature, witness_keys)
        if problem is None:
            checkpoint = tuple(cosignature["checkpoint"].get(f) for f in STATEMENT_FIELDS)
            if checkpoint not in statements:
                problem = "it cosigns a checkpoint that is not in the bundle"
        if problem:
            problems.append(f"cosignature {number} (witness {key_id}): {problem}")
        elif key_id not in good:
            good.append(key_id)
    if not good and not problems:
        problems.append("no cosignature by any of the given witness keys")
    return good, problems
