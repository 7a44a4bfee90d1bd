"""The verifier's fast byte templates give exactly the RFC 8785 bytes sealing hashes, for any
text (unicode, control characters, quotes), nulls, and values of unexpected types."""

from hypothesis import given, settings
from hypothesis import strategies as st

from cmp_server.proof.canonical import canonical_bytes, fast_canonical_bytes
from cmp_server.proof.layout import VERIFY_COLUMNS, Col
from cmp_server.proof.log import PERSONAL_FIELDS
from cmp_server.proof.templates import CanonicalJSON, personal_bytes, public_bytes

text = st.text(max_size=30)
maybe_text = st.none() | text
choices = st.dictionaries(st.text("abcdefghij_", min_size=1, max_size=8), st.booleans())


@settings(max_examples=300, deadline=None)
@given(
    site_key=text,
    values=st.fixed_dictionaries(
        {
            "position": st.integers(1, 2**53 - 1),
            "entry_type": text,
            "prev_hash": text,
            "record_hash": text,
            "personal_digest": text,
            "salt": st.just(b"s"),
            "erased_at": st.none(),
            "revision": st.integers(0, 10**6) | st.booleans() | text,
            "revision_hash": text,
            "action": text,
            "choices": choices,
            "allowed_kinds": st.lists(text, max_size=4),
            "regime": text,
            "gpc": st.booleans() | st.integers(0, 1),
            "received_at": text,
            "expires_at": text,
            **dict.fromkeys(PERSONAL_FIELDS, maybe_text),
        }
    ),
    canonical=st.booleans(),
)
def test_templates_match_rfc8785(site_key, values, canonical):
    row = [values[name] for name in VERIFY_COLUMNS]
    public = {
        k: values[k]
        for k in (
            "position",
            "entry_type",
            "revision",
            "revision_hash",
            "action",
            "choices",
            "allowed_kinds",
            "regime",
            "gpc",
            "received_at",
            "expires_at",
            "personal_digest",
        )
    }
    expected_public = canonical_bytes({**public, "site_key": site_key, "prev_hash": "p"})
    if canonical:
        for i in (Col.CHOICES, Col.ALLOWED_KINDS):
            row[i] = CanonicalJSON(fast_canonical_bytes(row[i]).decode())
    assert public_bytes(site_key, tuple(row), "p") == expected_public
    personal = {name: values[name] for name in PERSONAL_FIELDS}
    assert personal_bytes(tuple(row)) == canonical_bytes(personal)
