"""Verifying a proof bundle offline: container, signatures, keys, checkpoints, revisions, the
scans and screenshots (proof/evidence.py) and the chain of records. No Flask, no database, no
file written.

Records are checked in runs of `BATCH_LINES` lines, each by its own chain verifier (in worker
processes for a large bundle, proof/parallel.py), and the runs are joined in order
(`ChainVerifier.join`), so the result is exactly that of one pass.

A version 2 bundle (records.tsv) holds each record's hashed bytes as they are, so a record
costs two SHA-256 and the parse of its hashed part; a version 1 bundle (records.ndjson, one
exported record per line) still verifies, by rebuilding those bytes.
"""

import hashlib
import json
from dataclasses import dataclass, field

import orjson

from cmp_server.proof import parallel
from cmp_server.proof.bundle import PURGES, BundleError, BundleReader
from cmp_server.proof.canonical import canonical_json
from cmp_server.proof.chain import (
    ChainResult,
    LineChainVerifier,
    ParsedChainVerifier,
    Run,
    checkpoint_map,
    parsed_row,
)
from cmp_server.proof.checkpoints import checkpoint_problem
from cmp_server.proof.evidence import evidence_counts, evidence_problems
from cmp_server.proof.keys import PublicKeys
from cmp_server.proof.layout import Col
from cmp_server.proof.log import GENESIS_HASH
from cmp_server.proof.purges import covering_problem

BATCH_LINES = 20_000  # records per run checked by a worker (and per progress report)
PARALLEL_FROM = 200_000  # records; smaller bundles are checked faster in one process


@dataclass
class BundleReport:
    """Everything `verify_bundle` found. `ok`: intact (no problem at all); `pinned`: the
    signatures were checked against keys the auditor trusts, not the bundle's own."""

    problems: list[str] = field(default_factory=list)
    site_key: str | None = None
    manifest: dict = field(default_factory=dict)
    chain: ChainResult | None = None
    key_ids: list[str] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)
    signer_key_id: str | None = None
    pinned: bool = False
    revisions: int = 0
    checkpoints: int = 0
    largest_checkpoint: int | None = None
    scans: int = 0
    screenshots: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_bundle(
    source, trusted: PublicKeys | None = None, progress=None, *, workers=None, batch=None
) -> BundleReport:
    """Check a bundle file completely: container, manifest signature, keys, checkpoints,
    revisions, and the chain of records; stops parsing at the first broken layer.

    With `trusted` (the site's published keys, saved by the auditor), every signature is
    checked against those keys only: a bundle re-signed with any other key fails. Without, the
    bundle's own keys.json is used, which proves integrity but not who signed.
    `progress(n)` is called as records are checked. Records are checked by `workers`
    processes (default: every core for a large bundle, else this process), `batch` records
    at a time."""
    report = BundleReport()
    try:
        reader = BundleReader(source)
        report.manifest = reader.manifest
        report.site_key = reader.manifest.get("site_key")
        report.problems += reader.member_problems(defer_records=True)
        if not report.problems:
            _check_layers(reader, report, trusted, progress, workers, batch)
        # Edited records alone still went through the chain check, which names the record;
        # the member's own check comes first.
        records_problem = reader.records_problem()
        if records_problem:
            report.problems.insert(0, records_problem)
    except BundleError as exc:
        report.problems.append(str(exc))
    return report


def _check_layers(reader, report: BundleReport, trusted, progress, workers, batch) -> None:
    """Signature, keys, checkpoints, revisions, then the scans and screenshots and the chain;
    stops at the first broken layer (its problems are in `report`)."""
    manifest = reader.manifest
    keys = _bundle_keys(reader, report)
    if keys is None:
        return
    if trusted is not None:
        keys, report.pinned = trusted, True
    sig = reader.signature
    report.signer_key_id = str(sig.get("key_id"))
    problem = keys.verify(
        report.signer_key_id, "manifest", reader.manifest_bytes, str(sig.get("signature"))
    )
    if problem:
        if trusted is not None and report.signer_key_id not in trusted:
            problem = (
                f"signed by key {report.signer_key_id}, which is not a trusted key (re-signed "
                "by someone else, or a key made after you saved the trusted keys)"
            )
        report.problems.append(f"manifest signature: {problem}")
        return
    checkpoints = reader.json_member("checkpoints.json")
    _check_checkpoints(checkpoints, keys, report)
    revisions = _bundle_revisions(reader.json_member("revisions.json"), report.problems)
    report.revisions = len(revisions)
    if report.problems:
        return
    report.problems += evidence_problems(reader, keys, revisions, report.site_key)
    report.scans, report.screenshots = evidence_counts(reader)
    context = (keys, checkpoints, revisions, report.problems)
    report.chain = _bundle_chain(reader, manifest, *context, progress, workers, batch)


def _bundle_keys(reader, report: BundleReport) -> PublicKeys | None:
    """The keys the bundle says signed it (shown to the auditor, with fingerprints)."""
    try:
        keys = PublicKeys.from_documents(reader.json_member("keys.json")["keys"])
    except (KeyError, TypeError, ValueError) as exc:
        report.problems.append(f"keys.json: {exc}")
        return None
    report.key_ids = sorted(keys.keys)
    report.fingerprints = {key_id: keys.fingerprint(key_id) for key_id in report.key_ids}
    return keys


def _check_checkpoints(checkpoints, keys: PublicKeys, report: BundleReport) -> None:
    if not isinstance(checkpoints, list):
        report.problems.append("checkpoints.json: not a list")
        return
    for i, cp in enumerate(checkpoints):
        problem = checkpoint_problem(cp, keys, report.site_key)
        if problem:
            report.problems.append(f"checkpoints.json #{i + 1}: {problem}")
    report.checkpoints = len(checkpoints)
    sizes = [cp["size"] for cp in checkpoints if isinstance(cp, dict) and "size" in cp]
    report.largest_checkpoint = max(sizes, default=None)


def _bundle_revisions(documents, problems: list) -> dict[int, str]:
    revisions = {}
    for doc in documents:
        number = doc.get("revision")
        text = doc.get("canonical_json", "")
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != doc.get("config_hash"):
            problems.append(f"revisions.json: revision {number} does not match its config_hash")
        elif canonical_json(json.loads(text)) != text:
            problems.append(f"revisions.json: revision {number} is not in canonical form")
        revisions[number] = doc.get("config_hash")
    return revisions


def _purges(reader) -> list:
    return reader.json_member(PURGES) if PURGES in reader.names else []


def _bundle_chain(
    reader, manifest, keys, checkpoints, revisions, problems, progress, workers, batch
) -> ChainResult | None:
    """The records form one chain from the range's anchor to its end, both signed."""
    span = manifest.get("records") or {}
    first, last = span.get("first_position"), span.get("last_position")
    start_hash = span.get("start_hash", GENESIS_HASH)
    sizes = checkpoint_map(checkpoints)
    member = reader.records_member
    if first is None or last is None:
        if span.get("count") != 0 or any(True for _ in reader.iter_chunks()):
            problems.append("manifest: no record range")
        return None
    if first > 1 and start_hash not in sizes.get(first - 1, ()):
        problems.append(f"no signed checkpoint anchors the range at position {first - 1}")
        return None
    if first > 1 and manifest.get("since") is None:  # the whole log: its start was purged
        gap = covering_problem(_purges(reader), keys, manifest["site_key"], first, start_hash)
        if gap:
            problems.append(f"record at position 1: missing (deleted?): {gap}")
            return None
    # Checkpoints past the exported range cannot be checked against it (a slice of a log).
    in_range = {size: heads for size, heads in sizes.items() if size <= last}
    site_key = manifest["site_key"]
    verifier = LineChainVerifier(site_key, first, start_hash, in_range, revisions)
    if workers is None:
        big = isinstance(span.get("count"), int) and span["count"] >= PARALLEL_FROM
        workers = parallel.cores() if big else 1
    context = (reader.bundle_version, site_key, in_range, revisions)
    tasks = _batches(reader.iter_chunks(), batch or BATCH_LINES, context)
    malformed = _join(verifier, parallel.ordered_map(_check_batch, tasks, workers), progress)
    result = verifier.finish() if verifier.result.ok and not malformed else verifier.result
    if not result.ok:
        problems.append(str(result.problem))
    elif malformed:
        problems.append(malformed)
    elif (result.records, result.last_position) != (span.get("count"), last):
        problems.append(f"{member}: the records do not cover the range of the manifest")
    elif result.head_hash not in sizes.get(last, ()):
        problems.append(f"no signed checkpoint covers the last record (position {last})")
    return result


def _batches(chunks, size: int, context: tuple):
    """Tasks of `size` whole lines (the last may have fewer) as one bytes block: the reading
    process only finds the newlines, and the workers split the lines (less work on the one
    process that cannot be spread, and one object to send instead of thousands)."""
    line_number, pending, count = 1, [], 0
    for chunk in chunks:
        pending.append(chunk)
        count += chunk.count(b"\n")
        if count < size:
            continue
        data, start = b"".join(pending), 0
        while count >= size:
            end = _after_lines(data, start, size)
            yield (*context, line_number, data[start:end])
            line_number, count, start = line_number + size, count - size, end
        pending = [data[start:]]
    if data := b"".join(pending):
        yield (*context, line_number, data)


def _after_lines(data: bytes, start: int, lines: int) -> int:
    """The offset just after the `lines`-th newline from `start` (there are that many)."""
    find, at = data.find, start - 1
    for _ in range(lines):
        at = find(b"\n", at + 1)
    return at + 1


def _lines(block: bytes) -> list[bytes]:
    """The lines of a block, without the final empty one."""
    lines = block.split(b"\n")
    if not lines[-1]:
        lines.pop()
    return lines


def _check_batch(task) -> tuple[Run | None, str | None]:
    """Check a run of lines (in a worker): every record against its own contents, its
    predecessor in the run, the checkpoints and revisions. The run starts from its first
    record's own position and `prev_hash`; `ChainVerifier.join` checks that it follows on.
    Returns the run (None when no line could be read) and the first malformed line."""
    version, site_key, checkpoints, revisions, line_number, block = task
    check = _check_lines if version >= 2 else _check_json_lines
    with parallel.without_gc():
        return check(site_key, checkpoints, revisions, line_number, _lines(block))


def _check_lines(site_key, checkpoints, revisions, line_number, lines) -> tuple:
    """Version 2 lines (chain.record_line): hashed as they are."""
    if not lines:
        return None, None
    try:
        first = orjson.loads(lines[0].split(b"\t", 1)[0])
        start = (first["position"], first["prev_hash"])
    except (ValueError, KeyError, TypeError) as exc:
        return None, _malformed("records.tsv", line_number, exc)
    verifier = LineChainVerifier(site_key, *start, checkpoints, revisions)
    malformed = None
    try:
        verifier.feed_lines(lines)
    except (ValueError, KeyError, TypeError) as exc:
        malformed = _malformed("records.tsv", line_number + verifier.result.records, exc)
    return verifier.run(), malformed


def _check_json_lines(site_key, checkpoints, revisions, line_number, lines) -> tuple:
    """Version 1 lines (one exported record as JSON): the hashed bytes are rebuilt."""
    rows, malformed = [], None
    loads = orjson.loads
    for offset, line in enumerate(lines):
        try:
            rows.append(parsed_row(loads(line)))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            malformed = _malformed("records.ndjson", line_number + offset, exc)
            break
    if not rows:
        return None, malformed
    first = rows[0]
    start = (first[Col.POSITION], first[Col.PREV_HASH])
    verifier = ParsedChainVerifier(site_key, *start, checkpoints, revisions)
    try:
        verifier.feed(rows)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        malformed = _malformed("records.ndjson", line_number + verifier.result.records, exc)
    return verifier.run(), malformed


def _malformed(member: str, line: int, exc: Exception) -> str:
    what = "not JSON" if isinstance(exc, json.JSONDecodeError) else f"malformed ({exc!r})"
    return f"{member} line {line}: {what}"


def _join(verifier, runs, progress) -> str | None:
    """Fold checked runs into `verifier` in order, stopping at the first failure. Returns
    the first malformed line, if any (records after it are not trusted)."""
    for run, malformed in runs:
        if run is not None and verifier.join(run) is not None:
            return None
        if malformed:
            return malformed
        if progress and run is not None:
            progress(run.result.records)
    return None
