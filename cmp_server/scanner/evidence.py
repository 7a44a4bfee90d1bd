"""Signed scan statements: "site S's page U was scanned; report R (SHA-256) says V; at that
moment the site's proof log had N records and head H".

A DPO shows a regulator the report and its statement: the signature (the site's proof
signing key, purpose `scan`) shows the report was not changed since, and the log size and
head bind it to a point of the consent log, which checkpoints and witnesses fix in turn.
Like the verifier, this module needs neither Flask nor a database.
"""

import hashlib

from cmp_server.proof.canonical import canonical_bytes
from cmp_server.proof.keys import PublicKeys, Signer

FIELDS = (
    "site_key",
    "scan_id",
    "url",
    "verdict",
    "report_hash",
    "finished_at",
    "log_size",
    "log_head",
    "key_id",
)


def scan_message(statement: dict) -> bytes:
    return canonical_bytes({f: statement[f] for f in FIELDS})


def sign_scan(signer: Signer, **fields) -> dict:
    """The signed statement; `fields` are FIELDS but key_id."""
    statement = {**fields, "key_id": signer.key_id}
    statement["signature"] = signer.sign("scan", scan_message(statement))
    return statement


def scan_problem(statement, keys: PublicKeys, report_text: str | None = None) -> str | None:
    """None when the statement is signed by a known key (and, given the report's canonical
    JSON, when that is the report it names); else why not."""
    if not isinstance(statement, dict) or any(f not in statement for f in (*FIELDS, "signature")):
        return "not a scan statement"
    problem = keys.verify(
        str(statement["key_id"]), "scan", scan_message(statement), str(statement["signature"])
    )
    if problem:
        return problem
    digest = hashlib.sha256(report_text.encode()).hexdigest() if report_text is not None else None
    if digest is not None and digest != statement["report_hash"]:
        return "the report is not the one the statement names"
    return None
