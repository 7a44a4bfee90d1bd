"""Bundle lines are parsed by orjson and re-encoded by orjson (`parsed_public_bytes`,
`parsed_personal_bytes`): for any value a JSON line can hold except floats (sealing never
writes one), that gives byte for byte what sealing hashed (`fast_canonical_bytes`, equal to
RFC 8785 for ASCII keys), so an auditor's verifier and the sealer cannot disagree."""

import json

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from cmp_server.proof.canonical import canonical_bytes, fast_canonical_bytes
from cmp_server.proof.layout import VERIFY_COLUMNS
from cmp_server.proof.log import PERSONAL_FIELDS, PUBLIC_FIELDS
from cmp_server.proof.templates import parsed_personal_bytes, parsed_public_bytes

text = st.text(max_size=30)  # any code point but lone surrogates, which no database stores
ascii_keys = st.text("abcdefghij_", min_size=1, max_size=8)


def record_strategy(keys, largest: int):
    """Records of any JSON values but floats, ints within +-`largest`, `keys` in choices."""
    scalar = st.none() | st.booleans() | st.integers(-largest, largest) | text
    value = st.recursive(
        scalar,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
        max_leaves=8,
    )
    return st.fixed_dictionaries(
        {
            **dict.fromkeys(VERIFY_COLUMNS, value),
            "salt": st.just("00"),
            "choices": st.dictionaries(keys, value, max_size=4),
        }
    )


def parsed_row(record: dict) -> tuple:
    """The line as export writes it, parsed as `verify_bundle` parses it."""
    parsed = orjson.loads(json.dumps(record, ensure_ascii=False).encode())
    return tuple(parsed[name] for name in VERIFY_COLUMNS)


def expected(record: dict, site_key: str, encode) -> tuple[bytes, bytes]:
    public = {k: record[k] for k in (*PUBLIC_FIELDS[1:], "personal_digest")}
    public.update(site_key=site_key, prev_hash="p")
    return encode(public), encode({k: record[k] for k in PERSONAL_FIELDS})


@settings(max_examples=400, deadline=None)
@given(site_key=text, record=record_strategy(text, 2**63 - 1))
def test_parsed_bytes_are_what_sealing_hashed(site_key, record):
    row = parsed_row(record)
    public, personal = expected(record, site_key, fast_canonical_bytes)
    assert parsed_public_bytes(site_key, row, "p") == public
    assert parsed_personal_bytes(row) == personal


@settings(max_examples=200, deadline=None)
@given(site_key=text, record=record_strategy(ascii_keys, 2**53 - 1))  # JCS's integers
def test_parsed_bytes_are_rfc8785_for_consent_records(site_key, record):
    row = parsed_row(record)
    public, personal = expected(record, site_key, canonical_bytes)
    assert parsed_public_bytes(site_key, row, "p") == public
    assert parsed_personal_bytes(row) == personal
