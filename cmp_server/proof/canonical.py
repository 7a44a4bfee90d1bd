"""Canonical JSON (RFC 8785, JCS) and SHA-256 helpers."""

import hashlib
import json

import rfc8785


def canonical_bytes(value) -> bytes:
    """RFC 8785 canonical form of any JSON value (staff text, revisions, manifests)."""
    return rfc8785.dumps(value)


def canonical_json(value) -> str:
    return canonical_bytes(value).decode("utf-8")


def fast_canonical_bytes(value) -> bytes:
    """RFC 8785 form for values without floats and with ASCII keys, as consent records are.

    For such values JCS and `json.dumps(sort_keys=True)` agree byte for byte (same escapes,
    same key order), and the C encoder is many times faster; a property test checks it.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
