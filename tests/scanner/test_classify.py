"""The verdict's truth table: phase x declaration x Accord's own, without a browser."""

import pytest

from cmp_server.scanner import ocd
from cmp_server.scanner.browse import AFTER_ACCEPT, AFTER_REFUSE, BEFORE_CHOICE, Observations
from cmp_server.scanner.classify import classify, name_matches

SNAPSHOT = {
    "categories": [
        {
            "key": "necessary",
            "required": True,
            "trackers": [{"name": "Session", "kind": "cookie", "cookies": ["sess"], "domains": []}],
        },
        {
            "key": "analytics",
            "required": False,
            "trackers": [
                {"name": "Stats", "kind": "cookie", "cookies": ["_stats*"], "domains": []},
                {"name": "Ads", "kind": "beacon", "cookies": [], "domains": ["ads.example"]},
                {"name": "FP", "kind": "fingerprinting", "cookies": [], "domains": []},
            ],
        },
    ]
}


@pytest.fixture(autouse=True)
def _needs_chromium():
    """No browser here (overrides the package's autouse check)."""


def report_for(kind: str, phases: set, **entry) -> dict:
    seen = Observations(
        url="https://shop.example/", site_key="K", accord_origin="https://c.example"
    )
    table = {"cookie": seen.cookies, "storage": seen.storage, "request": seen.requests}.get(
        kind, seen.fingerprinting
    )
    table[("x",)] = {**entry, "phases": phases}
    return classify(seen, SNAPSHOT, 1, ocd.load(), "t0", "t1")


@pytest.mark.parametrize(
    ("kind", "entry", "phases", "declared", "violation"),
    [
        ("cookie", {"name": "sess", "host": "shop.example"}, {BEFORE_CHOICE}, "necessary", False),
        (
            "cookie",
            {"name": "_stats_1", "host": "shop.example"},
            {AFTER_ACCEPT},
            "analytics",
            False,
        ),
        ("cookie", {"name": "_stats_1", "host": "shop.example"}, {AFTER_REFUSE}, "analytics", True),
        ("cookie", {"name": "_stats", "host": "shop.example"}, {BEFORE_CHOICE}, "analytics", True),
        ("cookie", {"name": "other", "host": "shop.example"}, {AFTER_ACCEPT}, None, False),
        ("cookie", {"name": "other", "host": "shop.example"}, {BEFORE_CHOICE}, None, True),
        ("cookie", {"name": "accord_consent", "host": "shop.example"}, {AFTER_REFUSE}, None, False),
        (
            "storage",
            {"name": "accord_secret", "host": "shop.example", "area": "localStorage"},
            {AFTER_REFUSE},
            None,
            False,
        ),
        (
            "request",
            {"name": "https://px.ads.example/p.gif", "host": "px.ads.example"},
            {BEFORE_CHOICE},
            "analytics",
            True,
        ),
        (
            "request",
            {"name": "https://c.example/s/K.js", "host": "c.example"},
            {BEFORE_CHOICE},
            None,
            False,
        ),
        (
            "fingerprinting",
            {"name": "canvas", "host": "shop.example", "script": "https://shop.example/fp.js"},
            {AFTER_ACCEPT},
            "analytics",
            False,
        ),
        (
            "fingerprinting",
            {"name": "navigator", "host": "cdn.example", "script": "https://cdn.example/fp.js"},
            {BEFORE_CHOICE},
            None,
            True,
        ),
        (
            "fingerprinting",
            {"name": "navigator", "host": "c.example", "script": "https://c.example/s/K.js"},
            {BEFORE_CHOICE},
            None,
            False,
        ),
    ],
)
def test_a_finding_is_a_violation_only_early_and_not_strictly_necessary(
    kind, entry, phases, declared, violation
):
    report = report_for(kind, phases, **entry)
    [finding] = report["findings"]
    assert (finding["declared"] or {}).get("category") == declared
    assert finding["violation"] is violation
    assert report["verdict"] == ("fail" if violation else "pass")


def test_patterns_follow_the_snippet_a_trailing_star_is_a_prefix():
    assert name_matches("_ga*", "_ga_123") and name_matches("_ga", "_ga")
    assert not name_matches("_ga", "_ga_123") and not name_matches("_g*a", "_gxa")
