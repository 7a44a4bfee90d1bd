"""Verification against the live database: a site's whole log, one record, a receipt.

The checks themselves are the offline verifier's (proof/chain.py); this feeds them rows from
the database with the site's checkpoints, purge statements and keys. A long log is checked
on two cores, the second half in another process (services/split_verify.py).
"""

from sqlalchemy import select

from cmp_server.extensions import db
from cmp_server.models import ConsentRecord, LogHead, Site
from cmp_server.proof.chain import ChainResult, ChainVerifier, Problem, checkpoint_map
from cmp_server.proof.checkpoints import checkpoint_problem
from cmp_server.proof.log import GENESIS_HASH, personal_digest, record_hash
from cmp_server.proof.purges import covering_problem
from cmp_server.proof.receipts import receipt_problem
from cmp_server.services import split_verify, witnesses
from cmp_server.services.checkpoints import purge_statements, purged_through, site_checkpoints
from cmp_server.services.record_rows import verify_rows
from cmp_server.services.sealing import hash_fields
from cmp_server.services.signing_keys import public_keys

RECORD_MESSAGES = {
    "found": "The record is in the site's log at that position with that hash.",
    "erased": "The record is in the log with that hash; its personal data has been erased.",
    "purged": "The record was removed by the retention purge; a signed purge statement covers it.",
    "not_in_log": "The site's log has no record at that position.",
    "hash_mismatch": "The record at that position has another hash.",
    "consent_id_mismatch": "The record at that position belongs to another consent.",
    "unknown_site": "No site has that key.",
}


def check_receipt(receipt: dict) -> dict:
    """Is the receipt signed by one of our keys, and is its record in the log as it says?"""
    problem = receipt_problem(receipt, public_keys())
    if problem is None:
        signature = "valid"
    else:
        signature = "unknown_key" if problem.startswith("unknown key") else "invalid"
    site = db.session.scalar(select(Site).where(Site.site_key == receipt["site_key"]))
    if site is None:
        record = "unknown_site"
    else:
        row = db.session.execute(
            select(
                ConsentRecord.record_hash, ConsentRecord.consent_id, ConsentRecord.erased_at
            ).where(ConsentRecord.site_id == site.id, ConsentRecord.position == receipt["position"])
        ).first()
        if row is None:
            purged = receipt["position"] <= purged_through(site)
            record = "purged" if purged else "not_in_log"
        elif row.record_hash != receipt["hash"]:
            record = "hash_mismatch"
        elif row.consent_id is None and row.erased_at is not None:
            record = "erased"
        elif row.consent_id != receipt["consent_id"]:
            record = "consent_id_mismatch"
        else:
            record = "found"
    valid = signature == "valid" and record in ("found", "erased", "purged")
    message = RECORD_MESSAGES[record]
    if problem:
        message = f"The signature does not verify ({problem}). {message}"
    return {"valid": valid, "signature": signature, "record": record, "message": message}


def verify_site_log(site, progress=None, split: bool | None = None):
    """Check a site's whole live log, streaming in position order (proof/chain.py): every
    record, every stored checkpoint's signature and hash, the head, the purge anchor, and that
    every erasure was logged. Returns a ChainResult naming the first bad record. `split`
    checks in two halves on two cores (services/split_verify.py): True always, None (the
    default) when the log is long, False never."""
    keys = public_keys()
    checkpoints = site_checkpoints(site)
    for cp in checkpoints:
        problem = checkpoint_problem(cp, keys, site.site_key)
        if problem:
            reason = f"checkpoint of size {cp['size']} made {cp['created_at']}: {problem}"
            return ChainResult(ok=False, problem=Problem(None, reason))
    size, head = db.session.execute(
        select(LogHead.size, LogHead.head_hash).where(LogHead.site_id == site.id)
    ).one()
    first = db.session.scalar(
        select(db.func.min(ConsentRecord.position)).where(ConsentRecord.site_id == site.id)
    )
    anchors = checkpoint_map(checkpoints)
    start, start_hash = 1, None
    if first is not None and first > 1:
        start = first
        start_hash = db.session.scalar(
            select(ConsentRecord.prev_hash).where(
                ConsentRecord.site_id == site.id, ConsentRecord.position == first
            )
        )
    elif first is None and size:
        start, start_hash = size + 1, head
    if start > 1:
        gap = covering_problem(purge_statements(site), keys, site.site_key, start, start_hash)
        if gap:
            return ChainResult(ok=False, problem=Problem(1, f"missing (deleted?): {gap}"))
    checkable = {s: h for s, h in anchors.items() if s >= start}
    verifier = ChainVerifier(site.site_key, start, start_hash or GENESIS_HASH, checkable)
    if split or (split is None and split_verify.should_split(size - start + 1)):
        split_verify.feed_in_two(verifier, site.id, start, size, progress)
    elif progress is None:
        verifier.feed(verify_rows(site.id, first))
    else:
        verifier.feed(_counting(verify_rows(site.id, first), progress))
    result = verifier.finish(size, head, require_logged_erasures=True)
    result.checkpoints_matched += 1 if start > 1 else 0
    return result


def _counting(rows, progress, every=10000):
    count = 0
    for row in rows:
        yield row
        count += 1
        if count == every:
            progress(count)
            count = 0
    if count:
        progress(count)


def verify_site(site) -> dict:
    """The live log checked as `accord proofs verify` does (the chain, then what each
    configured witness cosigned), as a JSON-ready dict: the console and the API show it."""
    result = verify_site_log(site)
    problem = str(result.problem) if result.problem else None
    witnessed = witnesses.check_log(site) if result.ok else []
    return {
        "ok": result.ok and not witnessed,
        "checked": result.records,
        "last_position": result.last_position,
        "checkpoints_matched": result.checkpoints_matched,
        "first_bad_position": result.problem.position if result.problem else None,
        "problem": problem or ("; ".join(witnessed) if witnessed else None),
    }


def verify_record(site, record) -> dict:
    """One record alone: its personal data, its hash, its link to the previous record.
    {"ok", "checks": [{"name", "ok", "detail"}]} (the console's record page)."""
    row = {c.name: getattr(record, c.name) for c in ConsentRecord.__table__.columns}
    public, personal = hash_fields(site.site_key, row)
    checks = []
    if record.salt is not None:
        ok = personal_digest(record.salt, personal) == record.personal_digest
        checks.append(("personal data", ok, "matches its digest" if ok else "altered"))
    else:
        ok = record.erased_at is not None and not any(personal.values())
        detail = "erased; the digest stands for it" if ok else "salt gone without an erasure"
        checks.append(("personal data", ok, detail))
    ok = record_hash(public, record.personal_digest, record.prev_hash) == record.record_hash
    checks.append(("record hash", ok, "recomputed and equal" if ok else "does not match"))
    previous = db.session.scalar(
        select(ConsentRecord.record_hash).where(
            ConsentRecord.site_id == site.id, ConsentRecord.position == record.position - 1
        )
    )
    if record.position == 1:
        ok, detail = record.prev_hash == GENESIS_HASH, "first record of the log"
    elif previous is None:
        statements = purge_statements(site)
        gap = covering_problem(
            statements, public_keys(), site.site_key, record.position, record.prev_hash
        )
        ok = gap is None
        detail = "previous records purged; a signed purge statement covers them"
    else:
        ok, detail = previous == record.prev_hash, "follows the previous record"
    checks.append(("chain link", ok, detail if ok else "broken"))
    return {
        "ok": all(c[1] for c in checks),
        "checks": [{"name": n, "ok": o, "detail": d} for n, o, d in checks],
    }
