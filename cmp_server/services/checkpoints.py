"""Signed checkpoints, the notary that makes them, and signed purge statements.

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
import threading
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import insert, select, update

from cmp_server.extensions import db
from cmp_server.models import Checkpoint, LogHead, PurgeStatement
from cmp_server.models.types import utcnow
from cmp_server.proof import keys as keylib
from cmp_server.proof.checkpoints import sign_checkpoint
from cmp_server.proof.log import timestamp
from cmp_server.proof.purges import purge_problem, sign_purge
from cmp_server.services.signing_keys import create_key, keys_table, load_signer, public_keys

log = logging.getLogger(__name__)
checkpoints_table = Checkpoint.__table__


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
            assert signer is not None  # just made
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
    """Give the app (and its group committer) a Notary (create_app calls it, after the
    database's init_app made the committer)."""
    committer = app.extensions["accord_committer"]
    notary = Notary(
        committer.engine,
        app.config["SECRET_KEY"],
        float(app.config.get("ACCORD_CHECKPOINT_MINUTES", 60)),
    )
    app.extensions["accord_notary"] = notary
    committer.notary = notary


def notary():
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
