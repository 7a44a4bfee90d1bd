"""Checking a site's log: a chain of records, a receipt, an export bundle. No Flask, no database.

The same `ChainVerifier` checks the live log (rows streamed from the database as tuples) and a
bundle (records read from NDJSON), so the offline verifier and `accord proofs verify` cannot
disagree. It stops at the first record that fails and names it by position.

Rows are tuples in `VERIFY_COLUMNS` order, times already in the text form of
`log.timestamp`, `choices`/`allowed_kinds` parsed, `salt` as bytes or None (erased).
The loop is written for speed (one dict and two SHA-256 per record, a pre-built encoder):
chain verification must run at over 100,000 records/s.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter

import orjson

from cmp_server.proof import parallel
from cmp_server.proof.bundle import CHANGED, PURGES, BundleError, BundleReader
from cmp_server.proof.canonical import canonical_json
from cmp_server.proof.checkpoints import checkpoint_problem
from cmp_server.proof.keys import PublicKeys
from cmp_server.proof.log import GENESIS_HASH, PERSONAL_FIELDS
from cmp_server.proof.purges import covering_problem

VERIFY_COLUMNS = (
    "position",
    "entry_type",
    "prev_hash",
    "record_hash",
    "personal_digest",
    "salt",
    "erased_at",
    "revision",
    "revision_hash",
    "action",
    "choices",
    "allowed_kinds",
    "regime",
    "gpc",
    "received_at",
    "expires_at",
    *PERSONAL_FIELDS,
)
RECORDS_CHANGED = f"records.ndjson: {CHANGED}"
BATCH_LINES = 20_000  # records per run checked by a worker (and per progress report)
PARALLEL_FROM = 200_000  # records; smaller bundles are checked faster in one process
PERSONAL_START = VERIFY_COLUMNS.index(PERSONAL_FIELDS[0])
# Same bytes as canonical.fast_canonical_bytes, without building an encoder per call.
_quote = json.encoder.encode_basestring  # the C string escaper that _encode itself uses


def _unserialisable(value):
    raise TypeError(f"{type(value).__name__} has no JSON form")


if json.encoder.c_make_encoder is not None:
    # The C encoder built once: JSONEncoder.encode builds a new one on every call, which
    # costs more than encoding a record's small `choices`.
    _c_encode = json.encoder.c_make_encoder(
        None, _unserialisable, _quote, None, ":", ",", True, False, True
    )

    def _encode(value) -> str:
        return "".join(_c_encode(value, 0))

else:  # pragma: no cover - Python without the C accelerator
    _encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


class CanonicalJSON(str):
    """A JSON value already in canonical form (the database adapter caches these for the
    few distinct `choices`/`allowed_kinds` of a site), used as is by the templates below."""

    __slots__ = ()


def _json(value) -> str:
    return value if value.__class__ is CanonicalJSON else _encode(value)


def _int(value) -> str:
    if value.__class__ is not int:
        raise TypeError("not an int")
    return str(value)


def _text(value) -> str:
    return "null" if value is None else _quote(value)  # TypeError unless str or None


_BOOL = {True: "true", False: "false"}
_PUBLIC = (
    '{"action":%s,"allowed_kinds":%s,"choices":%s,"entry_type":%s,"expires_at":%s,"gpc":%s,'
    '"personal_digest":%s,"position":%s,"prev_hash":%s,"received_at":%s,"regime":%s,'
    '"revision":%s,"revision_hash":%s,"site_key":%s}'
)
_PERSONAL = (
    '{"browser":%s,"client_ts":%s,"consent_id":%s,"country":%s,"device_id":%s,'
    '"device_type":%s,"ip_truncated":%s,"language":%s,"os":%s,"page_url":%s}'
)


def public_bytes(site_key: str, row, prev: str) -> bytes:
    """JCS of a record's public fields + personal_digest + prev_hash, as sealing hashes them.

    A fixed template (keys in JCS order, each value escaped by the JSON encoder's own C
    function) is several times faster than encoding a dict; a value of an unexpected type
    takes the general path, so the bytes are always exactly RFC 8785's (a test compares)."""
    try:
        gpc = row[13]
        if gpc.__class__ is not bool:
            raise TypeError("not a bool")
        text = _PUBLIC % (
            _quote(row[9]),
            _json(row[11]),
            _json(row[10]),
            _quote(row[1]),
            _quote(row[15]),
            _BOOL[gpc],
            _quote(row[4]),
            _int(row[0]),
            _quote(prev),
            _quote(row[14]),
            _quote(row[12]),
            _int(row[7]),
            _quote(row[8]),
            _quote(site_key),
        )
    except TypeError:
        text = _encode(_public_dict(site_key, row, prev))
    return text.encode()


def _public_dict(site_key, row, prev) -> dict:
    def plain(value):
        return json.loads(value) if value.__class__ is CanonicalJSON else value

    return {
        "site_key": site_key,
        "position": row[0],
        "entry_type": row[1],
        "revision": row[7],
        "revision_hash": row[8],
        "action": row[9],
        "choices": plain(row[10]),
        "allowed_kinds": plain(row[11]),
        "regime": row[12],
        "gpc": row[13],
        "received_at": row[14],
        "expires_at": row[15],
        "personal_digest": row[4],
        "prev_hash": prev,
    }


def personal_bytes(row) -> bytes:
    """JCS of a record's personal fields (the template twin of `public_bytes`)."""
    try:
        text = _PERSONAL % (
            _text(row[21]),
            _text(row[25]),
            _text(row[16]),
            _text(row[20]),
            _text(row[17]),
            _text(row[23]),
            _text(row[24]),
            _text(row[18]),
            _text(row[22]),
            _text(row[19]),
        )
    except TypeError:
        text = _encode(dict(zip(PERSONAL_FIELDS, row[PERSONAL_START:], strict=True)))
    return text.encode()


# Bundle rows come from orjson.loads: plain str, int, bool, None, list and dict, never a
# CanonicalJSON. For those, orjson.dumps with sorted keys writes exactly the bytes of
# `_encode` (same escapes, UTF-8 as is, keys in code point order; a test compares), and in C:
# the template functions above stay for database rows, whose JSON columns come pre-encoded.
_PUBLIC_KEYS = ("position", "entry_type", "personal_digest", *VERIFY_COLUMNS[7:16])
_public_values = itemgetter(0, 1, 4, *range(7, 16))
_personal_values = itemgetter(*range(PERSONAL_START, len(VERIFY_COLUMNS)))
_SORTED = orjson.OPT_SORT_KEYS


def parsed_public_bytes(site_key: str, row, prev: str) -> bytes:
    """`public_bytes` of a row parsed from JSON, by orjson."""
    public = dict(zip(_PUBLIC_KEYS, _public_values(row), strict=True))
    public["site_key"] = site_key
    public["prev_hash"] = prev
    return orjson.dumps(public, option=_SORTED)


def parsed_personal_bytes(row) -> bytes:
    """`personal_bytes` of a row parsed from JSON, by orjson."""
    personal = dict(zip(PERSONAL_FIELDS, _personal_values(row), strict=True))
    return orjson.dumps(personal, option=_SORTED)


def salted_digest(salt: bytes, row) -> str:
    return hashlib.sha256(salt + personal_bytes(row)).hexdigest()


def parsed_salted_digest(salt: str, row) -> str:
    """`salted_digest` of a parsed row, whose salt is still in hex as in the bundle."""
    return hashlib.sha256(bytes.fromhex(salt) + parsed_personal_bytes(row)).hexdigest()


@dataclass(frozen=True)
class Problem:
    """The first thing wrong with a log: which record (position) and what."""

    position: int | None
    reason: str

    def __str__(self) -> str:
        where = f"record at position {self.position}" if self.position else "log"
        return f"{where}: {self.reason}"


@dataclass
class ChainResult:
    ok: bool
    records: int = 0
    first_position: int | None = None
    last_position: int = 0
    head_hash: str = GENESIS_HASH
    checkpoints_matched: int = 0
    problem: Problem | None = None
    notes: list = field(default_factory=list)

    def __str__(self) -> str:
        if self.ok:
            span = f"positions {self.first_position}-{self.last_position}" if self.records else ""
            return f"OK: {self.records} records {span}, {self.checkpoints_matched} checkpoints"
        return f"FAILED: {self.problem}"


class ChainVerifier:
    """Feed rows in position order, then `finish()`. Checks, per record: the position follows
    the previous one, `prev_hash` is the previous record's hash, the personal data matches its
    digest (or is fully erased and marked so), the record hash matches the contents, and any
    signed checkpoint at that position names the same hash."""

    public_bytes = staticmethod(public_bytes)
    salted_digest = staticmethod(salted_digest)

    def __init__(
        self,
        site_key: str,
        start_position: int = 1,
        start_hash: str = GENESIS_HASH,
        checkpoints: dict[int, set[str]] | None = None,
        revisions: dict[int, str] | None = None,
    ):
        self.site_key = site_key
        self.next_position = start_position
        self.prev_hash = start_hash
        self.checkpoints = checkpoints or {}
        self.revisions = revisions
        self.result = ChainResult(ok=True, head_hash=start_hash)
        self.erased: list[int] = []
        self.logged_erasures: set[int] = set()

    def _fail(self, position, reason) -> ChainResult:
        self.result.ok = False
        self.result.problem = Problem(position, reason)
        return self.result

    def feed(self, rows: Iterable[tuple]) -> ChainResult | None:
        """Check `rows`; returns the failed result at the first bad record, else None."""
        if not self.result.ok:
            return self.result
        sha256 = hashlib.sha256
        public_of, digest_of = self.public_bytes, self.salted_digest
        site_key = self.site_key
        checkpoints = self.checkpoints
        revisions = self.revisions
        start = PERSONAL_START
        expected = self.next_position
        prev = self.prev_hash
        count = 0
        try:
            for row in rows:
                position = row[0]
                if position != expected:
                    if isinstance(position, int) and position > expected:
                        return self._fail(
                            expected, f"missing (deleted?): the next record is at {position}"
                        )
                    return self._fail(position, f"out of order: expected position {expected}")
                if row[2] != prev:
                    return self._fail(
                        position,
                        "does not link to the previous record (inserted, removed or moved rows)",
                    )
                salt = row[5]
                digest = row[4]
                if salt is None:
                    if row[6] is None:
                        return self._fail(position, "personal data salt gone but not marked erased")
                    if any(v is not None for v in row[start:]):
                        return self._fail(position, "marked erased but still holds personal data")
                    self.erased.append(position)
                elif digest_of(salt, row) != digest:
                    return self._fail(position, "personal data does not match its digest")
                entry_type = row[1]
                record_hash = sha256(public_of(site_key, row, prev)).hexdigest()
                if record_hash != row[3]:
                    return self._fail(
                        position, "contents do not match the record hash (modified or moved)"
                    )
                if entry_type != "consent":
                    if entry_type == "erasure":
                        # choices of an erasure entry: {"<position erased>": true, ...}
                        erased = row[10]
                        if erased.__class__ is CanonicalJSON:
                            erased = json.loads(erased)
                        self.logged_erasures.update(int(k) for k in erased if k.isdigit())
                elif revisions is not None and revisions.get(row[7]) != row[8]:
                    return self._fail(
                        position, f"revision {row[7]} with hash {row[8]} is not in the bundle"
                    )
                if position in checkpoints:
                    if record_hash not in checkpoints[position]:
                        return self._fail(position, "differs from a signed checkpoint at this size")
                    self.result.checkpoints_matched += 1
                if self.result.first_position is None:
                    self.result.first_position = position
                prev = record_hash
                expected += 1
                count += 1
        finally:
            self.result.records += count
            self.next_position = expected
            self.prev_hash = prev
            if self.result.ok:
                self.result.last_position = expected - 1
                self.result.head_hash = prev
        return None

    def finish(
        self,
        head_size: int | None = None,
        head_hash: str | None = None,
        require_logged_erasures: bool = False,
    ) -> ChainResult:
        """Final checks: the log ends where its head (and every later checkpoint) says."""
        result = self.result
        if not result.ok:
            return result
        last = self.next_position - 1
        beyond = [size for size in self.checkpoints if size > last]
        if beyond:
            return self._fail(
                last + 1, f"missing: a signed checkpoint says the log had {max(beyond)} records"
            )
        if head_size is not None and (head_size, head_hash) != (last, self.prev_hash):
            if head_size > last:
                return self._fail(last + 1, f"missing: the log head says {head_size} records")
            if head_size < last:
                return self._fail(head_size + 1, f"not in the log head (size {head_size})")
            return self._fail(last, "differs from the log head hash")
        if require_logged_erasures:
            unlogged = [p for p in self.erased if p not in self.logged_erasures]
            if unlogged:
                return self._fail(unlogged[0], "personal data erased without a logged erasure")
        return result


class ParsedChainVerifier(ChainVerifier):
    """A `ChainVerifier` for the rows of a bundle's JSON lines, parsed by orjson: values in
    `VERIFY_COLUMNS` order as parsed, the salt still in hex."""

    public_bytes = staticmethod(parsed_public_bytes)
    salted_digest = staticmethod(parsed_salted_digest)


def checkpoint_map(checkpoints: Iterable[dict]) -> dict[int, set[str]]:
    sizes: dict[int, set[str]] = {}
    for cp in checkpoints:
        sizes.setdefault(cp["size"], set()).add(cp["head_hash"])
    return sizes


_export_row = itemgetter(*VERIFY_COLUMNS)
SALT = VERIFY_COLUMNS.index("salt")


def row_from_export(record: dict) -> tuple:
    """An exported record (see schemas/export.py) as a verifier row (salt hex to bytes)."""
    row = _export_row(record)
    salt = row[SALT]
    if salt is None:
        return row
    return (*row[:SALT], bytes.fromhex(salt), *row[SALT + 1 :])


def verify_records(
    site_key: str,
    records: Iterable[dict],
    checkpoints: Iterable[dict] = (),
    start_position: int = 1,
    start_hash: str = GENESIS_HASH,
) -> ChainResult:
    """Verify exported records (dicts) as one chain; the simple entry point for tests and tools."""
    verifier = ChainVerifier(site_key, start_position, start_hash, checkpoint_map(checkpoints))
    verifier.feed(row_from_export(r) for r in records)
    return verifier.finish()


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
        report.manifest = manifest = reader.manifest
        report.site_key = manifest.get("site_key")
        report.problems += reader.member_problems()
        if _beyond_records(report.problems):
            return report
        keys = _bundle_keys(reader, report)
        if keys is None:
            return report
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
            return report
        checkpoints = reader.json_member("checkpoints.json")
        _check_checkpoints(checkpoints, keys, report)
        revisions = _bundle_revisions(reader.json_member("revisions.json"), report.problems)
        report.revisions = len(revisions)
        if _beyond_records(report.problems):
            return report
        context = (keys, checkpoints, revisions, report.problems)
        report.chain = _bundle_chain(reader, manifest, *context, progress, workers, batch)
    except BundleError as exc:
        report.problems.append(str(exc))
    return report


def _beyond_records(problems: list[str]) -> bool:
    """Whether anything but records.ndjson is wrong. Edited records alone still go through
    the chain check, so that the auditor learns which record was changed."""
    return any(p != RECORDS_CHANGED for p in problems)


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
    if first is None or last is None:
        if span.get("count") != 0 or any(True for _ in reader.iter_records()):
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
    verifier = ParsedChainVerifier(site_key, first, start_hash, in_range, revisions)
    if workers is None:
        big = isinstance(span.get("count"), int) and span["count"] >= PARALLEL_FROM
        workers = parallel.cores() if big else 1
    tasks = _batches(reader.iter_chunks(), batch or BATCH_LINES, (site_key, in_range, revisions))
    malformed = _join(verifier, parallel.ordered_map(_check_batch, tasks, workers), progress)
    result = verifier.finish() if verifier.result.ok and not malformed else verifier.result
    if not result.ok:
        problems.append(str(result.problem))
    elif malformed:
        problems.append(malformed)
    elif (result.records, result.last_position) != (span.get("count"), last):
        problems.append("records.ndjson: the records do not cover the range of the manifest")
    elif result.head_hash not in sizes.get(last, ()):
        problems.append(f"no signed checkpoint covers the last record (position {last})")
    return result


@dataclass
class _Run:
    """What one batch of lines holds, checked on its own (see `_check_batch`)."""

    first_row: tuple | None
    result: ChainResult
    erased: list
    logged_erasures: set
    next_position: int
    prev_hash: str
    malformed: str | None


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
    """The lines of a block, as `BundleReader.iter_lines` gives them (no final empty one)."""
    lines = block.split(b"\n")
    if not lines[-1]:
        lines.pop()
    return lines


def _check_batch(task) -> _Run:
    """Parse and check a run of NDJSON lines (in a worker): every record against its own
    contents, its predecessor in the run, the checkpoints and revisions. The run starts from
    its first record's own position and `prev_hash`; `_join` checks that it follows on."""
    with parallel.without_gc():
        return _check_lines(*task)


def _check_lines(site_key, checkpoints, revisions, line_number, block) -> _Run:
    rows, malformed = [], None
    lines = _lines(block)
    loads = orjson.loads  # several times faster than json's; a JSONDecodeError too
    for offset, line in enumerate(lines):
        try:
            rows.append(_export_row(loads(line)))
        except ValueError as exc:
            what = "not JSON" if isinstance(exc, json.JSONDecodeError) else f"malformed ({exc!r})"
            malformed = f"records.ndjson line {line_number + offset}: {what}"
            break
        except (KeyError, TypeError, AttributeError) as exc:
            malformed = f"records.ndjson line {line_number + offset}: malformed ({exc!r})"
            break
    if not rows:
        return _Run(None, ChainResult(ok=True), [], set(), 0, "", malformed)
    verifier = ParsedChainVerifier(site_key, rows[0][0], rows[0][2], checkpoints, revisions)
    try:
        verifier.feed(rows)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        line = line_number + verifier.result.records
        malformed = f"records.ndjson line {line}: malformed ({exc!r})"
    return _Run(
        rows[0],
        verifier.result,
        verifier.erased,
        verifier.logged_erasures,
        verifier.next_position,
        verifier.prev_hash,
        malformed,
    )


def _follows_on(verifier: ChainVerifier, run: _Run) -> bool:
    first = run.first_row
    return first is None or (first[0], first[2]) == (verifier.next_position, verifier.prev_hash)


def _join(verifier: ChainVerifier, runs, progress) -> str | None:
    """Fold checked runs into `verifier` in order, stopping at the first failure (a break
    between runs is named by feeding the run's first record to `verifier`, as one pass
    would). Returns the first malformed line, if any."""
    total = verifier.result
    for run in runs:
        if not _follows_on(verifier, run) and verifier.feed([run.first_row]) is not None:
            return None
        result = run.result
        if total.first_position is None:
            total.first_position = result.first_position
        total.records += result.records
        total.checkpoints_matched += result.checkpoints_matched
        verifier.erased += run.erased
        verifier.logged_erasures |= run.logged_erasures
        if not result.ok:
            total.ok, total.problem = False, result.problem
            return None
        if run.first_row is not None:
            verifier.next_position, verifier.prev_hash = run.next_position, run.prev_hash
            total.last_position, total.head_hash = run.next_position - 1, run.prev_hash
        if run.malformed:
            return run.malformed
        if progress:
            progress(result.records)
    return None
