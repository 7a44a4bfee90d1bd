"""The bytes a record's hashes cover, rebuilt from a verifier row fast (no dict per record).

`public_bytes` and `personal_bytes` give exactly the RFC 8785 (JCS) bytes that sealing hashed
(proof/log.py), from a row in `layout.VERIFY_COLUMNS` order with times already in text form.
A fixed template (keys in JCS order, each value escaped by the JSON encoder's own C function)
is several times faster than encoding a dict; a value of an unexpected type takes the general
path, so the bytes are always exactly JCS (tests/proof/test_canonical_templates.py compares).
The `parsed_*` twins are for rows parsed from JSON lines by orjson (a version 1 bundle).
"""

import hashlib
import json
from operator import itemgetter

import orjson

from cmp_server.proof.layout import HASHED_FIELDS, PERSONAL_FIELDS, VERIFY_COLUMNS, Col

_quote = json.encoder.encode_basestring  # the C string escaper that _encode itself uses


def _unserialisable(value):
    raise TypeError(f"{type(value).__name__} has no JSON form")


_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
# The C encoder built once: JSONEncoder.encode builds a new one on every call, which costs
# more than encoding a record's small `choices`.
_c_encode = (
    _c_make_encoder(None, _unserialisable, _quote, None, ":", ",", True, False, True)
    if _c_make_encoder is not None
    else None
)
_py_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def encode(value) -> str:
    """JCS text of a value without floats (sorted keys, no spaces, UTF-8 as is)."""
    if _c_encode is None:  # pragma: no cover - Python without the C accelerator
        return _py_encode(value)
    return "".join(_c_encode(value, 0))


class CanonicalJSON(str):
    """A JSON value already in canonical form (the database adapter caches these for the
    few distinct `choices`/`allowed_kinds` of a site), used as is by the templates below."""

    __slots__ = ()


def _template(names) -> str:
    """`{"a":%s,"b":%s}` with the keys in JCS order (all ASCII, so code point order)."""
    return "{" + ",".join(f'"{name}":%s' for name in sorted(names)) + "}"


_BOOL = {True: "true", False: "false"}
_PUBLIC = _template(HASHED_FIELDS)
_PERSONAL = _template(PERSONAL_FIELDS)
# `public_bytes` writes these keys' values in this order: checked at import, so a field added
# to the layout cannot be left out of the bytes.
if tuple(sorted(HASHED_FIELDS)) != (
    "action",
    "allowed_kinds",
    "choices",
    "entry_type",
    "expires_at",
    "gpc",
    "personal_digest",
    "position",
    "prev_hash",
    "received_at",
    "regime",
    "revision",
    "revision_hash",
    "site_key",
):  # pragma: no cover - a layout change not followed here
    raise ImportError("proof/layout.py changed the hashed fields: update public_bytes")
_personal_in_key_order = itemgetter(*(Col.PERSONAL[name] for name in sorted(PERSONAL_FIELDS)))


def public_bytes(site_key: str, row, prev: str) -> bytes:
    """JCS of a record's public fields + personal_digest + prev_hash, as sealing hashes them."""
    try:
        gpc, position, revision = row[Col.GPC], row[Col.POSITION], row[Col.REVISION]
        kinds, choices = row[Col.ALLOWED_KINDS], row[Col.CHOICES]
        if gpc.__class__ is not bool or position.__class__ is not int:
            raise TypeError("not a bool or not an int")
        if revision.__class__ is not int:
            raise TypeError("not an int")
        text = _PUBLIC % (
            _quote(row[Col.ACTION]),
            kinds if kinds.__class__ is CanonicalJSON else encode(kinds),
            choices if choices.__class__ is CanonicalJSON else encode(choices),
            _quote(row[Col.ENTRY_TYPE]),
            _quote(row[Col.EXPIRES_AT]),
            _BOOL[gpc],
            _quote(row[Col.PERSONAL_DIGEST]),
            position,  # an int: %s writes it in decimal
            _quote(prev),
            _quote(row[Col.RECEIVED_AT]),
            _quote(row[Col.REGIME]),
            revision,
            _quote(row[Col.REVISION_HASH]),
            _quote(site_key),
        )
    except TypeError:
        text = encode(public_dict(site_key, row, prev))
    return text.encode()


def public_dict(site_key: str, row, prev: str) -> dict:
    """The object `public_bytes` encodes, as a dict (the general path)."""

    def plain(value):
        return json.loads(value) if value.__class__ is CanonicalJSON else value

    values = {name: plain(row[VERIFY_COLUMNS.index(name)]) for name in HASHED_FIELDS[1:]}
    return {**values, "site_key": site_key, "prev_hash": prev}


def personal_bytes(row) -> bytes:
    """JCS of a record's personal fields (the template twin of `public_bytes`)."""
    values = _personal_in_key_order(row)
    try:  # text or null, as a record's context is: the C escaper alone
        text = _PERSONAL % tuple([_quote(v) if v is not None else "null" for v in values])
    except TypeError:  # another type: the general path
        start = Col.PERSONAL_START
        text = encode(dict(zip(PERSONAL_FIELDS, row[start:], strict=True)))
    return text.encode()


def salted_digest(salt: bytes, row) -> str:
    return hashlib.sha256(salt + personal_bytes(row)).hexdigest()


# Rows parsed by orjson hold plain str, int, bool, None, list and dict, never a CanonicalJSON.
# For those, orjson.dumps with sorted keys writes exactly the bytes of `encode` (same escapes,
# UTF-8 as is, keys in code point order; tests/proof/test_parsed_templates.py compares).
_HASHED_FROM_ROW = tuple(name for name in HASHED_FIELDS if name not in ("site_key", "prev_hash"))
_hashed_values = itemgetter(*(VERIFY_COLUMNS.index(name) for name in _HASHED_FROM_ROW))
_personal_values = itemgetter(*(Col.PERSONAL[name] for name in PERSONAL_FIELDS))
_SORTED = orjson.OPT_SORT_KEYS


def parsed_public_bytes(site_key: str, row, prev: str) -> bytes:
    """`public_bytes` of a row parsed from JSON, by orjson."""
    public = dict(zip(_HASHED_FROM_ROW, _hashed_values(row), strict=True))
    public["site_key"] = site_key
    public["prev_hash"] = prev
    return orjson.dumps(public, option=_SORTED)


def parsed_personal_bytes(row) -> bytes:
    """`personal_bytes` of a row parsed from JSON, by orjson."""
    personal = dict(zip(PERSONAL_FIELDS, _personal_values(row), strict=True))
    return orjson.dumps(personal, option=_SORTED)


def parsed_salted_digest(salt: str, row) -> str:
    """`salted_digest` of a parsed row, whose salt is still in hex as in the bundle."""
    return hashlib.sha256(bytes.fromhex(salt) + parsed_personal_bytes(row)).hexdigest()
