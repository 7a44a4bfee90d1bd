"""The consent POST's fast validator agrees with the marshmallow schema it stands in for.

`load_consent_fast` may decline a body (then the schema decides and words the errors), but
whatever it accepts, the schema accepts with the same result: checked on a corpus of good
and bad bodies, and on bodies hypothesis makes up from good and bad values.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from cmp_server.schemas.consent import ConsentInSchema, load_consent_fast

SCHEMA = ConsentInSchema()
GOOD = {
    "consent_id": "6f1c0f8e-9d4b-4c1e-8f3a-2b7d9e0a1c55",
    "device_id": "0b7d2c8e-1a2b-4c3d-8e9f-a0b1c2d3e4f5",
    "revision": 3,
    "action": "custom",
    "choices": {"necessary": True, "analytics": True, "marketing": False},
    "language": "fr",
    "page_url": "https://shop.example/cart",
    "gpc": False,
    "client_ts": "2026-11-24T10:00:00Z",
    "device_secret": "abcdefghijklmnopqrstuvwxyz_-0123",
}
REQUIRED = ("consent_id", "device_id", "revision", "action", "choices")

# Values a browser, an integrator or an attacker might send, per field: good ones first.
VALUES = {
    "consent_id": [
        GOOD["consent_id"],
        "6F1C0F8E9D4B4C1E8F3A2B7D9E0A1C55",
        "{6f1c0f8e-9d4b-4c1e-8f3a-2b7d9e0a1c55}",
        "urn:uuid:6f1c0f8e-9d4b-4c1e-8f3a-2b7d9e0a1c55",
        "not-a-uuid",
        "",
        None,
        12,
        ["6f1c0f8e-9d4b-4c1e-8f3a-2b7d9e0a1c55"],
    ],
    "revision": [1, 3, 2**31 - 1, 0, -1, 2**31, 2**70, True, 1.0, 1.5, "3", None],
    "action": [
        *("accept_all", "reject_all", "custom", "withdraw", "gpc", "close"),
        *("ACCEPT_ALL", "", 1),
    ],
    "choices": [
        {"necessary": True},
        {},
        {f"c{i}": True for i in range(100)},
        {f"c{i}": True for i in range(101)},
        {"": True},
        {"k" * 64: False},
        {"k" * 65: False},
        {"a": 1},
        {"a": "true"},
        {"a": None},
        [],
        "necessary",
        None,
    ],
    "language": ["en", "fr", "pt-BR", "zh-Hant-TW", None, "EN", "e", "english", "en_US", 7, ""],
    "page_url": [
        "https://shop.example/p",
        "http://shop.example/",
        "",
        None,
        "https://x/" + "a" * 3990,
        "https://x/" + "a" * 3991,
        "ftp://shop.example/",
        "javascript:alert(1)",
        "https://shop.example/\nx",
        "https://shop.example/\x7f",
        42,
    ],
    "gpc": [True, False, None, 0, 1, "true"],
    "client_ts": [
        "2026-11-24T10:00:00Z",
        "2026-11-24T10:00:00.123456+02:00",
        "2026-11-24T10:00:00",
        "2026-11-24",
        "0001-01-01T00:00:00+14:00",
        "yesterday",
        None,
        1732442400,
    ],
    "device_secret": [
        GOOD["device_secret"],
        "a" * 22,
        "a" * 128,
        None,
        "a" * 21,
        "a" * 129,
        "abc def ghi jkl mno pqr stu",
        "a" * 22 + "\n",
        123,
    ],
}


def schema_load(body):
    try:
        return SCHEMA.load(body)
    except ValidationError:
        return None


def assert_agree(body) -> None:
    fast = load_consent_fast(body)
    if fast is not None:
        assert schema_load(body) == fast, body


def variants():
    """GOOD with one field changed, removed, or an unknown one added."""
    for name, values in VALUES.items():
        for value in values:
            yield {**GOOD, name: value}
        yield {k: v for k, v in GOOD.items() if k != name}
    yield {**GOOD, "extra": 1}
    yield {**GOOD, "device_id": "nope"}
    yield {k: GOOD[k] for k in REQUIRED}


@pytest.mark.parametrize("body", list(variants()))
def test_what_the_fast_check_accepts_the_schema_accepts_the_same(body):
    assert_agree(body)


@pytest.mark.parametrize("body", [b for b in variants() if schema_load(b) is not None])
def test_what_browsers_send_takes_the_fast_path(body):
    """Every body the schema accepts in the corpus, but client_ts forms the snippet never
    sends, is accepted by the fast check too: the fast path is not a path nobody takes."""
    if body.get("client_ts") not in (None, GOOD["client_ts"]):
        pytest.skip("a client_ts form the snippet does not send (the fast check may decline)")
    assert load_consent_fast(body) == schema_load(body)


def test_bad_bodies_are_declined():
    bad = [b for b in variants() if schema_load(b) is None]
    assert len(bad) > 40
    assert all(load_consent_fast(b) is None for b in bad)


any_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.lists(st.booleans(), max_size=2),
)
field_value = {
    name: st.one_of(st.sampled_from(values), any_value) for name, values in VALUES.items()
}
field_value["device_id"] = field_value["consent_id"]
choices = st.dictionaries(st.text(max_size=70), st.one_of(st.booleans(), any_value), max_size=4)


@settings(max_examples=400, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            **field_value,
            "choices": st.one_of(choices, field_value["choices"]),
            "unknown": any_value,
        },
    )
)
def test_agreement_on_made_up_bodies(body):
    assert_agree(body)
