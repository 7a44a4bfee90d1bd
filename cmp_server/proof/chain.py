"""The chain verifier: one pass over a site's records in position order. No Flask, no database.

The same `ChainVerifier` checks the live log (rows streamed from the database) and a bundle
(version 1: records parsed from NDJSON; version 2: the hashed bytes themselves, see
`LineChainVerifier`), so the offline verifier and `accord proofs verify` cannot disagree. It
stops at the first record that fails and names it by position.

A long log can be checked in runs, each by its own verifier started from the run's first
record's own position and `prev_hash` (in another process, say); `join()` then folds the runs
back in order, checking that each starts where the previous one ended, so the result is
exactly that of one pass.

Rows are tuples in `layout.VERIFY_COLUMNS` order (indices named by `layout.Col`), times in the
text form of `log.timestamp`, `choices`/`allowed_kinds` parsed, `salt` as bytes or None.
"""

import binascii
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter

import orjson

from cmp_server.proof import templates
from cmp_server.proof.layout import VERIFY_COLUMNS, Col
from cmp_server.proof.log import GENESIS_HASH
from cmp_server.proof.templates import CanonicalJSON

MISSING = "missing (deleted?): the next record is at {position}"
OUT_OF_ORDER = "out of order: expected position {expected}"
UNLINKED = "does not link to the previous record (inserted, removed or moved rows)"
SALT_GONE = "personal data salt gone but not marked erased"
ERASED_BUT_PERSONAL = "marked erased but still holds personal data"
DIGEST_MISMATCH = "personal data does not match its digest"
HASH_MISMATCH = "contents do not match the record hash (modified or moved)"
CHECKPOINT_MISMATCH = "differs from a signed checkpoint at this size"
OTHER_SITE = "belongs to another site's log ({site_key})"


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


@dataclass
class Run:
    """What a verifier found over one run of records: small and picklable, for `join()`."""

    start_position: int
    start_hash: str
    result: ChainResult
    next_position: int
    prev_hash: str
    erased: list[int]
    logged_erasures: set[int]


class ChainVerifier:
    """Feed rows in position order, then `finish()`. Checks, per record: the position follows
    the previous one, `prev_hash` is the previous record's hash, the personal data matches its
    digest (or is fully erased and marked so), the record hash matches the contents, and any
    signed checkpoint at that position names the same hash."""

    public_bytes = staticmethod(templates.public_bytes)
    salted_digest = staticmethod(templates.salted_digest)

    def __init__(
        self,
        site_key: str,
        start_position: int = 1,
        start_hash: str = GENESIS_HASH,
        checkpoints: dict[int, set[str]] | None = None,
        revisions: dict[int, str] | None = None,
    ):
        self.site_key = site_key
        self.start_position, self.start_hash = start_position, start_hash
        self.next_position = start_position
        self.prev_hash = start_hash
        self.checkpoints = checkpoints or {}
        self.revisions = revisions
        self.result = ChainResult(ok=True, head_hash=start_hash)
        self.erased: list[int] = []
        self.logged_erasures: set[int] = set()

    def fail(self, position: int | None, reason: str) -> ChainResult:
        """Record the first problem (later ones are not looked for)."""
        self.result.ok = False
        self.result.problem = Problem(position, reason)
        return self.result

    def _misplaced(self, position, expected: int) -> ChainResult:
        if isinstance(position, int) and position > expected:
            return self.fail(expected, MISSING.format(position=position))
        return self.fail(position, OUT_OF_ORDER.format(expected=expected))

    def _note_erasures(self, choices) -> None:
        """An erasure entry's choices name the positions it erased: {"<position>": true}."""
        if choices.__class__ is CanonicalJSON:
            choices = json.loads(choices)
        self.logged_erasures.update(int(k) for k in choices if k.isdigit())

    def feed(self, rows: Iterable[tuple]) -> ChainResult | None:
        """Check `rows`; returns the failed result at the first bad record, else None."""
        if not self.result.ok:
            return self.result
        sha256 = hashlib.sha256
        public_of, digest_of = self.public_bytes, self.salted_digest
        site_key, checkpoints = self.site_key, self.checkpoints
        check_revisions = self.revisions is not None
        POSITION, PREV, SALT, DIGEST = Col.POSITION, Col.PREV_HASH, Col.SALT, Col.PERSONAL_DIGEST
        HASH, ENTRY, CHOICES = Col.RECORD_HASH, Col.ENTRY_TYPE, Col.CHOICES
        REVISION, REV_HASH = Col.REVISION, Col.REVISION_HASH
        personal = itemgetter(slice(Col.PERSONAL_START, None))
        expected, prev, count = self.next_position, self.prev_hash, 0
        try:
            for row in rows:
                position = row[POSITION]
                if position != expected:
                    return self._misplaced(position, expected)
                if row[PREV] != prev:
                    return self.fail(position, UNLINKED)
                salt = row[SALT]
                if salt is None:
                    if row[Col.ERASED_AT] is None:
                        return self.fail(position, SALT_GONE)
                    if any(v is not None for v in personal(row)):
                        return self.fail(position, ERASED_BUT_PERSONAL)
                    self.erased.append(position)
                elif digest_of(salt, row) != row[DIGEST]:
                    return self.fail(position, DIGEST_MISMATCH)
                record_hash = sha256(public_of(site_key, row, prev)).hexdigest()
                if record_hash != row[HASH]:
                    return self.fail(position, HASH_MISMATCH)
                entry_type = row[ENTRY]
                if (entry_type != "consent" or check_revisions or position in checkpoints) and (
                    failed := self._entry_checks(
                        position,
                        record_hash,
                        entry_type,
                        row[CHOICES],
                        row[REVISION],
                        row[REV_HASH],
                    )
                ):
                    return failed
                prev = record_hash
                expected += 1
                count += 1
        finally:
            self._advance(count, expected, prev)
        return None

    def _entry_checks(
        self, position: int, record_hash: str, entry_type, choices, revision, revision_hash
    ) -> ChainResult | None:
        """The checks after a record's hash, for rows and bundle lines alike (the feed loops
        call this only when one applies): an erasure's positions are noted, a consent's
        revision must be known (bundles), a checkpoint at this size must name this hash."""
        if entry_type != "consent":
            if entry_type == "erasure":
                self._note_erasures(choices)
        elif self.revisions is not None and self.revisions.get(revision) != revision_hash:
            return self.fail(position, _unknown_revision(revision, revision_hash))
        if position in self.checkpoints:
            if record_hash not in self.checkpoints[position]:
                return self.fail(position, CHECKPOINT_MISMATCH)
            self.result.checkpoints_matched += 1
        return None

    def _advance(self, count: int, expected: int, prev: str) -> None:
        result = self.result
        if count and result.first_position is None:
            result.first_position = expected - count
        result.records += count
        self.next_position, self.prev_hash = expected, prev
        if result.ok:
            result.last_position, result.head_hash = expected - 1, prev

    def run(self) -> Run:
        """What this verifier found, to be joined to the verifier of the records before."""
        return Run(
            self.start_position,
            self.start_hash,
            self.result,
            self.next_position,
            self.prev_hash,
            self.erased,
            self.logged_erasures,
        )

    def join(self, run: Run) -> ChainResult | None:
        """Fold in a run checked by another verifier, which started at the record after this
        verifier's last. Fails as one pass would: at the run's first record if it does not
        follow on, else at the run's own first problem. Returns the failed result, else None."""
        if not self.result.ok:
            return self.result
        if run.result.records or not run.result.ok:  # the run holds records: they must follow
            if run.start_position != self.next_position:
                return self._misplaced(run.start_position, self.next_position)
            if run.start_hash != self.prev_hash:
                return self.fail(run.start_position, UNLINKED)
        total, part = self.result, run.result
        if total.first_position is None:
            total.first_position = part.first_position
        total.records += part.records
        total.checkpoints_matched += part.checkpoints_matched
        self.erased += run.erased
        self.logged_erasures |= run.logged_erasures
        if not part.ok:
            total.ok, total.problem = False, part.problem
            return total
        if part.records:
            self.next_position, self.prev_hash = run.next_position, run.prev_hash
            total.last_position, total.head_hash = run.next_position - 1, run.prev_hash
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
            return self.fail(
                last + 1, f"missing: a signed checkpoint says the log had {max(beyond)} records"
            )
        if head_size is not None and (head_size, head_hash) != (last, self.prev_hash):
            if head_size > last:
                return self.fail(last + 1, f"missing: the log head says {head_size} records")
            if head_size < last:
                return self.fail(head_size + 1, f"not in the log head (size {head_size})")
            return self.fail(last, "differs from the log head hash")
        if require_logged_erasures:
            unlogged = [p for p in self.erased if p not in self.logged_erasures]
            if unlogged:
                return self.fail(unlogged[0], "personal data erased without a logged erasure")
        return result


def _unknown_revision(number, config_hash) -> str:
    return f"revision {number} with hash {config_hash} is not in the bundle"


class ParsedChainVerifier(ChainVerifier):
    """A `ChainVerifier` for the rows of a version 1 bundle's JSON lines, parsed by orjson:
    values in `VERIFY_COLUMNS` order as parsed, the salt still in hex."""

    public_bytes = staticmethod(templates.parsed_public_bytes)
    salted_digest = staticmethod(templates.parsed_salted_digest)  # type: ignore[assignment]


# A version 2 bundle line: five tab-separated fields. JCS text never holds a raw tab (JSON
# escapes it in strings and has no whitespace between tokens), so splitting is unambiguous.
LINE_FIELDS = ("record", "record_hash", "salt", "personal", "erased_at")


def record_line(site_key: str, row) -> bytes:
    """A verifier row (from the database) as a version 2 bundle line, without its newline:
    `record` is the exact bytes hashed into record_hash (JCS of the public fields, the
    personal_digest and prev_hash), `personal` the exact bytes hashed with the salt into
    personal_digest; `salt` and `personal` are empty once erased, `erased_at` empty until."""
    salt, erased_at = row[Col.SALT], row[Col.ERASED_AT]
    return b"\t".join(
        (
            templates.public_bytes(site_key, row, row[Col.PREV_HASH]),
            row[Col.RECORD_HASH].encode(),
            b"" if salt is None else salt.hex().encode(),
            b"" if salt is None else templates.personal_bytes(row),
            b"" if erased_at is None else erased_at.encode(),
        )
    )


class LineChainVerifier(ChainVerifier):
    """A `ChainVerifier` fed version 2 bundle lines (`record_line`): it hashes the bytes as
    they are and parses only the hashed record, for the fields it checks. Nothing is
    re-serialised, so this is two SHA-256 and one small JSON parse per record."""

    def feed_lines(self, lines: Iterable[bytes]) -> ChainResult | None:
        """Check `lines`; returns the failed result at the first bad record, else None.
        A malformed line raises ValueError, KeyError or TypeError (the caller names it)."""
        if not self.result.ok:
            return self.result
        sha256, loads, unhex = hashlib.sha256, orjson.loads, binascii.a2b_hex
        site_key, checkpoints = self.site_key, self.checkpoints
        check_revisions = self.revisions is not None
        expected, prev, count = self.next_position, self.prev_hash, 0
        try:
            for line in lines:
                hashed, claimed_hash, salt, personal, erased_at = line.split(b"\t")
                record = loads(hashed)
                position = record["position"]
                if position != expected:
                    return self._misplaced(position, expected)
                if record["prev_hash"] != prev:
                    return self.fail(position, UNLINKED)
                if record["site_key"] != site_key:
                    return self.fail(position, OTHER_SITE.format(site_key=record["site_key"]))
                if salt:
                    digest = sha256(unhex(salt) + personal).hexdigest()
                    if digest != record["personal_digest"]:
                        return self.fail(position, DIGEST_MISMATCH)
                elif not erased_at:
                    return self.fail(position, SALT_GONE)
                elif personal:
                    return self.fail(position, ERASED_BUT_PERSONAL)
                else:
                    self.erased.append(position)
                record_hash = sha256(hashed).hexdigest()
                if record_hash.encode() != claimed_hash:
                    return self.fail(position, HASH_MISMATCH)
                entry_type = record["entry_type"]
                if (entry_type != "consent" or check_revisions or position in checkpoints) and (
                    failed := self._entry_checks(
                        position,
                        record_hash,
                        entry_type,
                        record["choices"],
                        record["revision"],
                        record["revision_hash"],
                    )
                ):
                    return failed
                prev = record_hash
                expected += 1
                count += 1
        finally:
            self._advance(count, expected, prev)
        return None


def checkpoint_map(checkpoints: Iterable[dict]) -> dict[int, set[str]]:
    sizes: dict[int, set[str]] = {}
    for cp in checkpoints:
        sizes.setdefault(cp["size"], set()).add(cp["head_hash"])
    return sizes


_export_row = itemgetter(*VERIFY_COLUMNS)


def row_from_export(record: dict) -> tuple:
    """An exported record (see schemas/export.py) as a verifier row (salt hex to bytes)."""
    row = _export_row(record)
    salt = row[Col.SALT]
    if salt is None:
        return row
    return (*row[: Col.SALT], bytes.fromhex(salt), *row[Col.SALT + 1 :])


def parsed_row(record: dict) -> tuple:
    """An exported record parsed from JSON as a `ParsedChainVerifier` row (salt in hex)."""
    return _export_row(record)


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
