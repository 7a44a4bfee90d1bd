"""Version 2 bundles (records.tsv: each record's hashed bytes as they are). A change of one
byte of a record, of its personal data or of a hash, a reordered, removed or duplicated line,
each is caught and named by position, also when the manifest was re-signed by the site's own
key (an insider), and wherever the change falls among the runs checked apart. Version 1
bundles still verify."""

import io
import zipfile

import pytest

from cmp_server.proof.verify import verify_bundle
from tests.proof.chains import erase, line_of, new_signer
from tests.proof.test_bundle import build, keys_of, records  # noqa: F401 - a fixture


def lines_of(chain) -> list[str]:
    return [line_of(r) for r in chain]


def check(chain, lines, **options):
    """Verify a bundle of `lines`, signed (manifest and checkpoints) by the site's key."""
    signer = new_signer()
    data = build(chain, signer, version=2, lines=lines)
    assert zipfile.ZipFile(io.BytesIO(data)).namelist()[0] == "records.tsv"
    return verify_bundle(io.BytesIO(data), trusted=keys_of(signer), **options)


RUNS = [{"workers": 1}, {"workers": 1, "batch": 4}, {"workers": 2, "batch": 3}]


@pytest.mark.parametrize("options", RUNS, ids=["one run", "runs of 4", "2 workers"])
def test_a_genuine_version_2_bundle_verifies(records, options):  # noqa: F811
    report = check(records, lines_of(records), **options)
    assert report.ok, report.problems
    assert report.pinned and report.chain.records == 12 and report.chain.last_position == 12


def replace_once(line: str, old: str, new: str) -> str:
    assert old in line, (old, line)
    return line.replace(old, new, 1)


def change_record_byte(lines):
    lines[4] = replace_once(lines[4], '"action":"custom"', '"action":"cUstom"')


def change_personal_byte(lines):
    lines[4] = replace_once(lines[4], '"country":"FR"', '"country":"FX"')


def change_record_hash(lines):
    fields = lines[4].split("\t")
    fields[1] = fields[1][:-1] + ("0" if fields[1][-1] != "0" else "1")
    lines[4] = "\t".join(fields)


def change_prev_hash(lines):
    record = lines[4].split("\t")[0]
    prev = record.split('"prev_hash":"')[1][:64]
    lines[4] = replace_once(lines[4], prev, "0" * 64)


def swap_two(lines):
    lines[4], lines[5] = lines[5], lines[4]


def drop_one(lines):
    del lines[4]


def repeat_one(lines):
    lines.insert(5, lines[4])


def salt_dropped(lines):
    fields = lines[4].split("\t")
    fields[2] = ""
    lines[4] = "\t".join(fields)


TAMPERING = {
    change_record_byte: "record at position 5: contents do not match the record hash",
    change_personal_byte: "record at position 5: personal data does not match its digest",
    change_record_hash: "record at position 5: contents do not match the record hash",
    change_prev_hash: "record at position 5: does not link to the previous record",
    swap_two: "record at position 5: missing (deleted?): the next record is at 6",
    drop_one: "record at position 5: missing (deleted?): the next record is at 6",
    repeat_one: "record at position 5: out of order: expected position 6",
    salt_dropped: "record at position 5: personal data salt gone but not marked erased",
}


@pytest.mark.parametrize("options", RUNS, ids=["one run", "runs of 4", "2 workers"])
@pytest.mark.parametrize("tamper", TAMPERING, ids=lambda f: f.__name__)
def test_tampering_is_named_by_position_even_when_re_signed(records, tamper, options):  # noqa: F811
    lines = lines_of(records)
    tamper(lines)
    report = check(records, lines, **options)
    assert not report.ok
    assert report.problems[0].startswith(TAMPERING[tamper]), report.problems


def test_a_line_edited_after_signing_fails_the_manifest_and_is_named(records):  # noqa: F811
    signer = new_signer()
    data = build(records, signer, version=2)
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name == "records.tsv":
                content = content.replace(b'"gpc":false', b'"gpc":true ', 1)
            target.writestr(name, content)
    report = verify_bundle(io.BytesIO(out.getvalue()), trusted=keys_of(signer))
    assert report.problems[0] == "records.tsv: SHA-256 or size differs from the manifest"
    assert report.problems[1].startswith("record at position 1: contents do not match")


def test_an_erased_record_verifies_without_its_personal_data(records):  # noqa: F811
    records[3] = erase(records[3])
    lines = lines_of(records)
    assert lines[3].split("\t")[2:4] == ["", ""]
    report = check(records, lines)
    assert report.ok, report.problems


def test_an_erased_record_that_keeps_personal_data_is_caught(records):  # noqa: F811
    personal = lines_of(records)[3].split("\t")[3]
    records[3] = erase(records[3])
    lines = lines_of(records)
    fields = lines[3].split("\t")
    fields[3] = personal
    lines[3] = "\t".join(fields)
    report = check(records, lines)
    assert report.problems[0].startswith("record at position 4: marked erased but still holds")


@pytest.mark.parametrize(
    ("line", "what"),
    [("{not json\t\t\t\t\n", "not JSON"), ("not\ta record\n", "malformed (ValueError(")],
)
def test_a_malformed_line_is_named(records, line, what):  # noqa: F811
    lines = lines_of(records)
    lines[6] = line
    report = check(records, lines, workers=1, batch=4)
    assert report.problems[0].startswith(f"records.tsv line 7: {what}"), report.problems
    assert len(report.problems) == 1


def test_a_record_of_another_site_is_caught(records):  # noqa: F811
    lines = lines_of(records)
    lines[2] = replace_once(lines[2], '"site_key":"site-a"', '"site_key":"site-b"')
    report = check(records, lines)
    assert report.problems[0].startswith("record at position 3: belongs to another site")


def test_version_1_bundles_still_verify(records):  # noqa: F811
    signer = new_signer()
    data = build(records, signer, version=1)
    assert "records.ndjson" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    report = verify_bundle(io.BytesIO(data), trusted=keys_of(signer), workers=1, batch=5)
    assert report.ok, report.problems
    assert report.chain.records == 12
