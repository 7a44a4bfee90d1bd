"""Signing keys, signed checkpoints and receipts: the database side of the proof.

Keys: one Ed25519 key signs at a time for the whole installation (every host reads it from
the database); it is created on first use and rotated with `accord keys rotate`. Retired keys
keep verifying. Private keys are stored AES-256-GCM-encrypted under HKDF(SECRET_KEY), so every
host needs the same SECRET_KEY (as it already does for sessions).

Checkpoints are made:
  - by the writer, opportunistically: after a batch, when the site's head has moved and its
    last checkpoint is older than ACCORD_CHECKPOINT_MINUTES (default 60), inside the batch's
    transaction (it holds the head lock, so there is no race and no duplicate);
  - on every export and purge;
  - by `accord proofs checkpoint` (cron, for sites with no traffic to trigger the writer).

`Notary` is the per-app object that the group committer uses from its writer thread, which
has no app context: it holds the engine and secret, and caches the signing key for a few
seconds (a rotation elsewhere is picked up within that time; old receipts still verify).
"""

import json
import logging
import os
import threading
import time
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import insert, select, update

from cmp_server.extensions import db
from cmp_server.models import Checkpoint, LogHead, SigningKey
from cmp_server.models.types import utcnow
from cmp_server.proof import keys as keylib
from cmp_server.proof.checkpoints import sign_checkpoint
from cmp_server.proof.log import GENESIS_HASH, timestamp
from cmp_server.proof.purges import covering_problem, purge_problem, sign_purge

log = logging.getLogger(__name__)
keys_table = SigningKey.__table__
checkpoints_table = Checkpoint.__table__


class KeyUnavailable(RuntimeError):
    """The signing key cannot be decrypted (SECRET_KEY changed?): the message says what to do."""


def _wrapping_key(secret: str) -> AESGCM:
    kdf = HKDF(hashes.SHA256(), length=32, salt=None, info=b"accord signing key encryption v1")
    return AESGCM(kdf.derive(secret.encode("utf-8")))


def encrypt_private_key(secret: str, raw: bytes, key_id: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + _wrapping_key(secret).encrypt(nonce, raw, key_id.encode())


def decrypt_private_key(secret: str, blob: bytes, key_id: str) -> bytes:
    try:
        return _wrapping_key(secret).decrypt(blob[:12], blob[12:], key_id.encode())
    except Exception:
        raise KeyUnavailable(
            f"Signing key {key_id} cannot be decrypted with this SECRET_KEY. Restore the "
            "SECRET_KEY it was made with, or run `accord keys rotate` to start a new key "
            "(the old public key keeps verifying what it signed)."
        ) from None


def _current_row(conn):
    return conn.execute(
        select(keys_table.c.key_id, keys_table.c.encrypted_private_key)
        .where(keys_table.c.retired_at.is_(None))
        .order_by(keys_table.c.id.desc())
        .limit(1)
    ).first()


def create_key(conn, secret: str) -> str:
    """Insert a new signing key (the newest active key signs); returns its ID."""
    private = keylib.generate()
    raw = keylib.private_raw(private)
    public = keylib.public_raw(private)
    key_id = keylib.key_id_for(public)
    conn.execute(
        insert(keys_table).values(
            key_id=key_id,
            algorithm=keylib.ALGORITHM,
            public_key=public,
            encrypted_private_key=encrypt_private_key(secret, raw, key_id),
            created_at=utcnow(),
        )
    )
    return key_id


def load_signer(conn, secret: str) -> keylib.Signer | None:
    row = _current_row(conn)
    if row is None:
        return None
    return keylib.Signer.from_raw(
        decrypt_private_key(secret, row.encrypted_private_key, row.key_id)
    )


class Notary:
    """Signs receipts and makes scheduled checkpoints for one app (see the module docstring)."""

    def __init__(self, engine, secret: str, checkpoint_minutes: float = 60, cache_seconds=10):
        self.engine = engine
        self.secret = secret
        self.checkpoint_interval = timedelta(minutes=checkpoint_minutes)
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._signer: keylib.Signer | None = None
        self._loaded_at = 0.0
        self._last_checkpoint: dict[int, datetime] = {}

    def signer(self) -> keylib.Signer:
        """The current signing key, created on first use. Uses its own short transaction: call
        it before the caller's transaction writes (SQLite has one writer at a time)."""
        now = time.monotonic()
        signer = self._signer
        if signer is not None and now - self._loaded_at < self.cache_seconds:
            return signer
        with self._lock:
            with self.engine.begin() as conn:
                signer = load_signer(conn, self.secret)
                if signer is None:
                    key_id = create_key(conn, self.secret)
                    log.info("created signing key %s", key_id)
                    signer = load_signer(conn, self.secret)
            self._signer, self._loaded_at = signer, now
        return signer

    def forget(self) -> None:
        self._signer = None
        self._last_checkpoint.clear()

    def maybe_checkpoint(self, conn, site_id: int, site_key: str, size: int, head: str, signer):
        """A scheduled checkpoint if the head moved and the last one is old (caller holds the
        site's head lock, inside its transaction)."""
        now = utcnow()
        last = self._last_checkpoint.get(site_id)
        if last is not None and now - last < self.checkpoint_interval:
            return
        row = conn.execute(
            select(checkpoints_table.c.created_at, checkpoints_table.c.size)
            .where(checkpoints_table.c.site_id == site_id)
            .order_by(checkpoints_table.c.id.desc())
            .limit(1)
        ).first()
        if row is not None and (
            row.size == size or now - row.created_at < self.checkpoint_interval
        ):
            self._last_checkpoint[site_id] = row.created_at if row.size != size else now
            return
        store_checkpoint(conn, site_id, site_key, size, head, signer, "schedule", now)
        self._last_checkpoint[site_id] = now


def store_checkpoint(conn, site_id, site_key, size, head, signer, reason, now=None) -> dict:
    """Sign and store a checkpoint; returns the signed statement."""
    now = now or utcnow()
    statement = sign_checkpoint(site_key, size, head, timestamp(now), signer)
    conn.execute(
        insert(checkpoints_table).values(
            site_id=site_id,
            size=size,
            head_hash=head,
            created_at=now,
            key_id=signer.key_id,
            signature=statement["signature"],
            reason=reason,
        )
    )
    return statement


def init_app(app) -> None:
    """Give the app (and its group committer) a Notary. Called when the proof blueprint is
    registered, so `create_app` needs no change beyond registering it."""
    committer = app.extensions["accord_committer"]
    notary = Notary(
        committer.engine,
        app.config["SECRET_KEY"],
        float(app.config.get("ACCORD_CHECKPOINT_MINUTES", 60)),
    )
    app.extensions["accord_notary"] = notary
    committer.notary = notary


def notary():
    from flask import current_app

    return current_app.extensions["accord_notary"]


# Session-level operations for the CLI, the routes and the admin console. They flush; the
# caller commits.


def current_signer() -> keylib.Signer:
    return notary().signer()


def rotate_key() -> str:
    """Retire every active key and make a new one; returns the new key's ID."""
    conn = db.session.connection()
    conn.execute(
        update(keys_table).where(keys_table.c.retired_at.is_(None)).values(retired_at=utcnow())
    )
    key_id = create_key(conn, notary().secret)
    notary().forget()
    return key_id


def list_keys() -> list[SigningKey]:
    return list(db.session.scalars(select(SigningKey).order_by(SigningKey.id)))


def key_documents() -> list[dict]:
    """The entries of /.well-known/accord-keys.json (and of a bundle's keys.json)."""
    return [
        keylib.key_document(k.public_key, timestamp(k.created_at), timestamp(k.retired_at))
        for k in list_keys()
    ]


def public_keys() -> keylib.PublicKeys:
    return keylib.PublicKeys.from_documents(key_documents())


def make_checkpoint(site, reason: str = "manual", conn=None) -> dict:
    """Sign and store a checkpoint of the site's current head (in `conn`, else the session)."""
    signer = current_signer()
    conn = conn if conn is not None else db.session.connection()
    size, head = conn.execute(
        select(LogHead.size, LogHead.head_hash).where(LogHead.site_id == site.id)
    ).one()
    return store_checkpoint(conn, site.id, site.site_key, size, head, signer, reason)


def site_checkpoints(site, conn=None) -> list[dict]:
    """Every stored checkpoint of a site, as signed statements, oldest first."""
    rows = (conn if conn is not None else db.session).execute(
        select(checkpoints_table)
        .where(checkpoints_table.c.site_id == site.id)
        .order_by(checkpoints_table.c.id)
    )
    return [
        {
            "site_key": site.site_key,
            "size": r.size,
            "head_hash": r.head_hash,
            "created_at": timestamp(r.created_at),
            "key_id": r.key_id,
            "signature": r.signature,
            "reason": r.reason,
        }
        for r in rows
    ]


def store_purge_statement(conn, site, signer, **fields) -> dict:
    """Sign and store a purge statement (proof/purges.py); returns it."""
    from cmp_server.models import PurgeStatement

    statement = sign_purge(signer, site_key=site.site_key, **fields)
    conn.execute(
        insert(PurgeStatement.__table__).values(
            site_id=site.id,
            first_position=fields["first_position"],
            statement=json.dumps(statement, sort_keys=True),
        )
    )
    return statement


def purge_statements(site) -> list[dict]:
    """The site's purge statements as stored (unchecked), oldest first."""
    from cmp_server.models import PurgeStatement

    texts = db.session.scalars(
        select(PurgeStatement.statement)
        .where(PurgeStatement.site_id == site.id)
        .order_by(PurgeStatement.first_position)
    )
    statements = []
    for text in texts:
        try:
            statements.append(json.loads(text))
        except ValueError:
            statements.append(None)  # reported by purge_problem as "not a purge statement"
    return statements


def purged_through(site, keys=None) -> int:
    """The last position that valid purge statements cover from position 1 without a gap
    (0 when none): a receipt's record up to there was purged, not lost."""
    keys = keys or public_keys()
    through = 0
    for statement in purge_statements(site):
        if purge_problem(statement, keys, site.site_key) is not None:
            break
        if statement["first_position"] != through + 1:
            break
        through = statement["through_position"]
    return through


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
    from cmp_server.models import ConsentRecord, Site
    from cmp_server.proof.receipts import receipt_problem

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


def verify_site_log(site, progress=None, split=None):
    """Check a site's whole live log, streaming in position order (proof/verify.py): every
    record, every stored checkpoint's signature and hash, the head, the purge anchor, and that
    every erasure was logged. Returns a ChainResult naming the first bad record. A long log is
    checked in two halves on two cores (`split` forces it on or off)."""
    from cmp_server.models import ConsentRecord
    from cmp_server.proof.checkpoints import checkpoint_problem
    from cmp_server.proof.verify import ChainResult, ChainVerifier, Problem, checkpoint_map
    from cmp_server.services import split_verify
    from cmp_server.services.exports import verify_rows

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
    if split if split is not None else split_verify.should_split(size - start + 1):
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
    """verify_site_log as a JSON-ready dict (the admin console and API show it)."""
    result = verify_site_log(site)
    problem = result.problem
    return {
        "ok": result.ok,
        "checked": result.records,
        "last_position": result.last_position,
        "checkpoints_matched": result.checkpoints_matched,
        "first_bad_position": problem.position if problem else None,
        "problem": str(problem) if problem else None,
    }


def verify_record(site, record) -> dict:
    """One record alone: its personal data, its hash, its link to the previous record.
    {"ok", "checks": [{"name", "ok", "detail"}]} (the console's record page)."""
    from cmp_server.models import ConsentRecord
    from cmp_server.proof.log import personal_digest, record_hash
    from cmp_server.services.sealing import hash_fields

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
