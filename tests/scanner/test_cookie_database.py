"""The shipped Open Cookie Database: exact and wildcard names, domains, and its update."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cmp_server.scanner import ocd
from cmp_server.scanner.declare import suggest_category, tracker_from_finding

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def database():
    return ocd.load()


@pytest.fixture(autouse=True)
def _needs_chromium():
    """No browser here (overrides the package's autouse check)."""


def test_an_exact_name_matches_its_entry(database):
    entry = database.match_name("_gid")
    assert (entry.platform, entry.category, entry.wildcard) == (
        "Google Analytics",
        "Analytics",
        False,
    )


def test_a_wildcard_entry_matches_names_that_start_with_it_and_only_those(database):
    assert database.match_name("_hjSessionUser_123").as_known()["pattern"] == "_hjSessionUser_*"
    assert database.match_name("_hjSessionUser_").platform == "Hotjar"
    assert database.match_name("x_hjSessionUser_123") is None


def test_the_longest_wildcard_prefix_wins(database):
    assert database.match_name("_gac_gb_12345").name == "_gac_gb_"


def test_a_request_host_is_known_by_its_domain_or_a_parent(database):
    assert database.match_host("www.google-analytics.com").platform == "Google Analytics"
    assert database.match_host("example.invalid") is None


def test_a_finding_becomes_a_tracker_prefilled_from_the_database(database):
    finding = {
        "kind": "cookie",
        "name": "_hjSessionUser_9",
        "host": "shop.example",
        "known": database.match_name("_hjSessionUser_9").as_known(),
    }
    tracker = tracker_from_finding(finding)
    assert tracker["name"] == "Hotjar" and tracker["kind"] == "cookie"
    assert tracker["cookies"] == ["_hjSessionUser_*"] and tracker["duration"]
    assert finding["known"]["category"] == "Functional"
    categories = [{"key": "necessary", "required": True}, {"key": "marketing"}, {"key": "stats"}]
    assert suggest_category(finding, categories) == "marketing"  # the first optional purpose
    categories.append({"key": "preferences"})
    assert suggest_category(finding, categories) == "preferences"


def test_the_update_command_checks_the_file_and_records_provenance(tmp_path, monkeypatch):
    target = tmp_path / "data"
    target.mkdir()
    csv = target / "open-cookie-database.csv"
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    result = subprocess.run(
        [str(BIN / "accord"), "cookie-database", "update", "--source", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "ACCORD_INSTANCE_PATH": str(tmp_path / "nowhere")},
    )
    assert result.returncode == 1 and "not an Open Cookie Database CSV" in result.stderr
    assert not (tmp_path / "nowhere").exists()  # no instance folder, no database needed

    from cmp_server.scanner import ocd_update

    summary = ocd_update.update(str(ocd.CSV_PATH), target=csv)
    assert "entries" in summary and csv.read_bytes() == ocd.CSV_PATH.read_bytes()
    provenance = (target / "PROVENANCE.md").read_text()
    assert "SHA-256" in provenance and str(ocd.CSV_PATH) in provenance
    assert json.dumps(len(ocd.read_entries(csv))) in provenance
