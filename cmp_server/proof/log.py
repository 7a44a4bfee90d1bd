"""How a consent record is hashed into its site's log.

    personal_digest = SHA-256(salt || JCS(personal fields))
    record_hash     = SHA-256(JCS(public fields + personal_digest + prev_hash))

Erasure deletes the salt and the personal fields but keeps personal_digest, so every
record_hash, and so the chain, still verifies; the digest alone reveals nothing.
"""

import hashlib
import os
from datetime import datetime
from typing import overload

from cmp_server.proof.canonical import fast_canonical_bytes
from cmp_server.proof.layout import PERSONAL_FIELDS, PUBLIC_FIELDS

GENESIS_HASH = "0" * 64
__all__ = ["PERSONAL_FIELDS", "PUBLIC_FIELDS", "GENESIS_HASH"]  # fields: proof/layout.py


@overload
def timestamp(value: datetime) -> str: ...
@overload
def timestamp(value: None) -> None: ...
@overload
def timestamp(value: datetime | None) -> str | None: ...


def timestamp(value):
    """The one text form of a time in hashes and exports: UTC, microseconds, Z."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_salt() -> bytes:
    return os.urandom(16)


def personal_digest(salt: bytes, personal: dict) -> str:
    return hashlib.sha256(salt + fast_canonical_bytes(personal)).hexdigest()


def record_hash(public: dict, digest: str, prev_hash: str) -> str:
    return hashlib.sha256(
        fast_canonical_bytes({**public, "personal_digest": digest, "prev_hash": prev_hash})
    ).hexdigest()
