"""Signed purge statements: "positions F-T of site S's log were removed at D under a retention
of R days; the newest of them was received at A, the last of their consents lapsed at E, and
the record at T had hash H".

A log whose first records are gone verifies only when such statements cover the gap, without
a hole, up to the hash the first remaining record links to, and each one shows that what it
removed was past retention (received more than R days before D, lapsed before D). Someone who
deletes a prefix with SQL cannot sign one; a checkpoint alone proves a size, not a purge.
"""

from datetime import datetime, timedelta

from cmp_server.proof.canonical import canonical_bytes
from cmp_server.proof.keys import PublicKeys, Signer

FIELDS = (
    "site_key",
    "first_position",
    "through_position",
    "head_hash",
    "retention_days",
    "newest_received_at",
    "latest_expires_at",
    "purged_at",
    "key_id",
)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # log.timestamp's form


def purge_message(statement: dict) -> bytes:
    return canonical_bytes({f: statement[f] for f in FIELDS})


def sign_purge(signer: Signer, **fields) -> dict:
    """The signed statement; `fields` are FIELDS but key_id, times in log.timestamp form."""
    statement = {**fields, "key_id": signer.key_id}
    statement["signature"] = signer.sign("purge", purge_message(statement))
    return statement


def purge_problem(statement, keys: PublicKeys, site_key: str) -> str | None:
    """None when the statement is signed by a known key, names this site, and removed only
    records past the retention it states; else why not."""
    if not isinstance(statement, dict) or any(f not in statement for f in (*FIELDS, "signature")):
        return "not a purge statement"
    if statement["site_key"] != site_key:
        return f"made for site {statement['site_key']!r}"
    try:
        problem = keys.verify(
            str(statement["key_id"]), "purge", purge_message(statement), statement["signature"]
        )
        if problem:
            return problem
        purged_at = datetime.strptime(statement["purged_at"], TIME_FORMAT)
        newest = datetime.strptime(statement["newest_received_at"], TIME_FORMAT)
        lapsed = datetime.strptime(statement["latest_expires_at"], TIME_FORMAT)
        retention = timedelta(days=statement["retention_days"])
    except (TypeError, ValueError, OverflowError):
        return "malformed purge statement"
    if newest >= purged_at - retention:
        return (
            f"removed a record received {statement['newest_received_at']}, within the "
            f"{statement['retention_days']} days of retention it states"
        )
    if lapsed >= purged_at:
        return f"removed a consent still in force (until {statement['latest_expires_at']})"
    return None


def covering_problem(statements: list, keys: PublicKeys, site_key: str, start: int, start_hash):
    """Why positions 1..start-1 are not shown to be purged (None when they are): valid
    statements, back to back from position 1, the last ending at the hash the first remaining
    record (at `start`) links to."""
    expected = 1
    head = None
    for statement in sorted(statements, key=lambda s: _position(s, "first_position")):
        problem = purge_problem(statement, keys, site_key)
        if problem:
            through = _position(statement, "through_position")
            return f"the purge statement of positions up to {through}: {problem}"
        if statement["first_position"] != expected:
            break
        expected, head = statement["through_position"] + 1, statement["head_hash"]
    if expected != start:
        return f"records {expected}-{start - 1} are gone and no signed purge covers them"
    if head != start_hash:
        return f"the record at position {start} does not follow the last purged record"
    return None


def _position(statement, name) -> int:
    value = statement.get(name) if isinstance(statement, dict) else None
    return value if isinstance(value, int) else 0
