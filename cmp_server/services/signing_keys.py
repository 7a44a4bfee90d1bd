"""Signing keys: one Ed25519 key signs at a time for the whole installation.

Every host reads it from the database; it is created on first use (services/checkpoints.py
`Notary`) and rotated with `accord keys rotate`. Retired keys keep verifying. Private keys are
stored AES-256-GCM-encrypted under HKDF(SECRET_KEY), so every host needs the same SECRET_KEY
(as it already does for sessions).
"""

import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import insert, select

from cmp_server.extensions import db
from cmp_server.models import SigningKey
from cmp_server.models.types import utcnow
from cmp_server.proof import keys as keylib
from cmp_server.proof.log import timestamp

keys_table = SigningKey.__table__


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
