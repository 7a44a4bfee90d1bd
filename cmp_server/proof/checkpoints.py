"""Signed checkpoints: "the log of site S had N records, ending in hash H, at time T".

A checkpoint pins the log's history: anyone holding it can later tell whether records at or
before position N were changed, dropped or reordered, even by someone with write access to the
database, because they cannot sign a new one. Checkpoints of size N also anchor a log (or an
exported slice) whose first records were purged for retention.
"""

from cmp_server.proof.canonical import canonical_bytes
from cmp_server.proof.keys import PublicKeys, Signer

STATEMENT_FIELDS = ("site_key", "size", "head_hash", "created_at", "key_id")


def checkpoint_message(statement: dict) -> bytes:
    return canonical_bytes({f: statement[f] for f in STATEMENT_FIELDS})


def sign_checkpoint(
    site_key: str, size: int, head_hash: str, created_at: str, signer: Signer
) -> dict:
    statement = {
        "site_key": site_key,
        "size": size,
        "head_hash": head_hash,
        "created_at": created_at,
        "key_id": signer.key_id,
    }
    statement["signature"] = signer.sign("checkpoint", checkpoint_message(statement))
    return statement


def checkpoint_problem(
    checkpoint: dict, keys: PublicKeys, site_key: str | None = None
) -> str | None:
    """None when the checkpoint is well formed and signed by a known key, else why not."""
    if not isinstance(checkpoint, dict):
        return "a checkpoint is a JSON object"
    missing = [f for f in (*STATEMENT_FIELDS, "signature") if f not in checkpoint]
    if missing:
        return f"missing fields: {', '.join(missing)}"
    if site_key is not None and checkpoint["site_key"] != site_key:
        return f"made for site {checkpoint['site_key']!r}, not {site_key!r}"
    size = checkpoint["size"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return "size is a whole number"
    try:
        message = checkpoint_message(checkpoint)
    except Exception:
        return "the checkpoint holds values that have no canonical JSON form"
    return keys.verify(checkpoint["key_id"], "checkpoint", message, str(checkpoint["signature"]))
