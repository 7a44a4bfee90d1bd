"""The witness's storage: one row per log (site key) it follows, and its own Ed25519 key.

The key is a raw 32-byte private key in ACCORD_INSTANCE_PATH/witness.key, created on first use
with owner-only permissions; its public half is written beside it as witness-key.json in the
accord-keys.json format, the file auditors pass to `accord-verify --witness-keys`.
"""

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import BigInteger, Column, MetaData, String, Table, Text, create_engine, select

from cmp_server.proof import keys as keylib

metadata = MetaData()
logs = Table(
    "witness_logs",
    metadata,
    Column("site_key", String(64), primary_key=True),
    Column("pinned_keys", Text, nullable=False),  # {"keys": [key documents]}
    Column("size", BigInteger),  # the last cosigned checkpoint (None before the first)
    Column("head_hash", String(64)),
    Column("checkpoint", Text),
    Column("cosignature", Text),
)
KEY_FILE = "witness.key"
PUBLIC_FILE = "witness-key.json"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def instance_path(env) -> Path:
    return Path(env.get("ACCORD_INSTANCE_PATH") or Path.cwd() / "instance").resolve()


def open_database(env):
    """The witness's engine, its table created if missing."""
    folder = instance_path(env)
    url = env.get("DATABASE_URL") or f"sqlite:///{folder / 'witness.db'}"
    if url.startswith("sqlite:///"):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    engine = create_engine(url)
    metadata.create_all(engine)
    return engine


def load_signer(env) -> keylib.Signer:
    """The witness key, made on first use (owner-only file) with its public key file."""
    folder = instance_path(env)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / KEY_FILE
    if not path.exists():
        raw = keylib.private_raw(keylib.generate())
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(fd, "wb") as file:
                file.write(raw)
    signer = keylib.Signer.from_raw(path.read_bytes())
    public = folder / PUBLIC_FILE
    if not public.exists():
        document = keylib.key_document(keylib.public_raw(signer.key), now(), None)
        public.write_text(json.dumps({"keys": [document]}, indent=2) + "\n", encoding="utf-8")
    return signer


def get_log(conn, site_key: str):
    return conn.execute(select(logs).where(logs.c.site_key == site_key)).first()


def pin_keys(conn, site_key: str, documents: list[dict]) -> None:
    """Register (or add to) the keys a log's checkpoints must be signed with."""
    keylib.PublicKeys.from_documents(documents)  # refuses a malformed document
    row = get_log(conn, site_key)
    if row is None:
        conn.execute(logs.insert().values(site_key=site_key, pinned_keys=_keys_text(documents)))
        return
    known = json.loads(row.pinned_keys)["keys"]
    ids = {d["key_id"] for d in known}
    merged = known + [d for d in documents if d["key_id"] not in ids]
    conn.execute(
        logs.update().where(logs.c.site_key == site_key).values(pinned_keys=_keys_text(merged))
    )


def _keys_text(documents) -> str:
    return json.dumps({"keys": documents}, sort_keys=True)


def record_cosigned(conn, checkpoint: dict, cosignature: dict) -> None:
    conn.execute(
        logs.update()
        .where(logs.c.site_key == checkpoint["site_key"])
        .values(
            size=checkpoint["size"],
            head_hash=checkpoint["head_hash"],
            checkpoint=json.dumps(checkpoint, sort_keys=True),
            cosignature=json.dumps(cosignature, sort_keys=True),
        )
    )
