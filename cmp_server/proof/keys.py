"""Ed25519 keys: raw encodings, key IDs, and signing with a per-purpose context.

Everything a third party needs to check a signature is here and nowhere else: the key ID is
the first 16 hex digits of SHA-256 over the 32 raw public-key bytes, public keys and signatures
travel as standard base64, and every signed message starts with a context string naming what
it is (a receipt, a checkpoint, a bundle manifest), so a signature made for one kind of
statement can never be passed off as another.
"""

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "Ed25519"
CONTEXTS = {
    "receipt": b"accord/receipt/v1\n",
    "checkpoint": b"accord/checkpoint/v1\n",
    "manifest": b"accord/bundle-manifest/v1\n",
    "purge": b"accord/purge/v1\n",
    "cosignature": b"accord/cosignature/v1\n",
    "scan": b"accord/scan-report/v1\n",
}
RAW = {"encoding": serialization.Encoding.Raw, "format": serialization.PublicFormat.Raw}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    """Strict base64; raises ValueError on anything else."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, AttributeError):
        raise ValueError("not base64") from None


def key_id_for(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def generate() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_raw(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def public_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class Signer:
    """A private key and its ID; `sign(purpose, message)` returns base64."""

    __slots__ = ("key", "key_id")

    def __init__(self, key: Ed25519PrivateKey):
        self.key = key
        self.key_id = key_id_for(public_raw(key))

    @classmethod
    def from_raw(cls, raw: bytes) -> "Signer":
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    def sign(self, purpose: str, message: bytes) -> str:
        return b64(self.key.sign(CONTEXTS[purpose] + message))


class PublicKeys:
    """The public keys a verifier trusts, by key ID (current and retired alike: rotation is
    not revocation, so old receipts and checkpoints keep verifying)."""

    def __init__(self, keys: dict[str, Ed25519PublicKey] | None = None):
        self.keys = dict(keys or {})

    @classmethod
    def from_documents(cls, documents: list[dict]) -> "PublicKeys":
        """From the entries of accord-keys.json; a key whose ID does not match its bytes is
        refused (ValueError), so an ID can never point at another key."""
        keys = {}
        for doc in documents:
            if doc.get("algorithm") != ALGORITHM:
                raise ValueError(f"key {doc.get('key_id')!r}: unsupported algorithm")
            raw = unb64(doc["public_key"])
            if len(raw) != 32 or key_id_for(raw) != doc.get("key_id"):
                raise ValueError(f"key {doc.get('key_id')!r}: the ID does not match the key")
            keys[doc["key_id"]] = Ed25519PublicKey.from_public_bytes(raw)
        return cls(keys)

    def __contains__(self, key_id) -> bool:
        return key_id in self.keys

    def fingerprint(self, key_id: str) -> str:
        """SHA-256 of the raw public key, in full (the key ID is its first 16 hex digits)."""
        return hashlib.sha256(public_raw(self.keys[key_id])).hexdigest()

    def verify(self, key_id: str, purpose: str, message: bytes, signature: str) -> str | None:
        """None when the signature is good, else why not."""
        key = self.keys.get(key_id)
        if key is None:
            return f"unknown key {key_id!r}"
        try:
            key.verify(unb64(signature), CONTEXTS[purpose] + message)
        except (InvalidSignature, ValueError, TypeError):
            return f"bad signature (key {key_id})"
        return None


def key_document(public: bytes, created_at: str | None, retired_at: str | None) -> dict:
    """One entry of accord-keys.json."""
    return {
        "key_id": key_id_for(public),
        "algorithm": ALGORITHM,
        "public_key": b64(public),
        "created_at": created_at,
        "retired_at": retired_at,
    }
