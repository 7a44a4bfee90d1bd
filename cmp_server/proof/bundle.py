"""The proof bundle: one zip file a DPO can hand to anyone, checkable with no database.

Members:
  records.tsv         the records in position order, one line each, five tab-separated fields
                      (proof/chain.py `record_line`): the exact bytes hashed into record_hash
                      (the JCS of the public fields, personal_digest and prev_hash), that hash,
                      the salt (hex), the exact bytes hashed with the salt into personal_digest
                      (the JCS of the personal fields), and erased_at; salt and personal data
                      are empty once erased. Version 1 bundles held records.ndjson instead (the
                      exported records, schemas/export.py field list); they still verify.
  revisions.json      every banner revision those records reference: canonical JSON and hashes
  checkpoints.json    signed checkpoints of the log (the stored ones, plus the ones made for
                      this export: its first record's predecessor and its last record)
  keys.json           the public keys that signed anything here (accord-keys.json format)
  purges.json         the signed statements of the retention purges that removed the log's
                      first records, if any (proof/purges.py)
  cosignatures.json   the witnesses' cosignatures of those checkpoints (proof/cosign.py)
  scans.json          the site's finished scans: each signed statement and its report
                      (proof/evidence.py; absent from older bundles)
  screenshots.json    the screenshots of those revisions: revision, config_hash, language,
                      viewport, layer, size, SHA-256 and the member holding the PNG
  screenshots/*.png   the PNGs themselves (<revision>-<language>-<viewport>-<layer>.png)
  manifest.json       what this is, the record range, and SHA-256 and size of every member
  manifest.sig.json   Ed25519 signature of manifest.json (context "manifest")
  README.txt          for the person who receives the bundle: what it is, how to verify it

Changing any member breaks its hash in the manifest; changing the manifest breaks its
signature. The keys travel in the bundle for convenience: a verifier should compare their IDs
with the site's published /.well-known/accord-keys.json (`--trusted-keys`).
"""

import hashlib
import json
import zipfile
import zlib
from collections.abc import Iterable

from cmp_server.proof.canonical import canonical_bytes
from cmp_server.proof.keys import Signer

BUNDLE_FORMAT = "accord-proof-bundle"
BUNDLE_VERSION = 2
# The records member of each bundle version: the writer's version follows the one it wrote.
RECORDS_MEMBER = {1: "records.ndjson", 2: "records.tsv"}
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig.json"
PURGES = "purges.json"
COSIGNATURES = "cosignatures.json"
CHANGED = "SHA-256 or size differs from the manifest"
MEMBERS = ("revisions.json", "checkpoints.json", "keys.json")


README = "README.txt"
README_TEXT = """\
Accord proof bundle: the consent records of site {site_key}, exported {created_at}.

WHAT IS INSIDE
  records.tsv        One consent decision per line, in the order they were received
                     (position 1, 2, 3...). Each record carries the hash of the one
                     before it, so they form a chain: changing, removing, inserting or
                     reordering any record breaks it at that point. A line holds five
                     fields separated by tabs: the record exactly as it was hashed (JSON),
                     its SHA-256, its salt, the personal data exactly as it was hashed
                     with the salt (JSON; empty once erased), and when it was erased.
  revisions.json     The exact banner configurations the visitors saw, with their hashes.
  checkpoints.json   Signed statements: "the log had N records, ending in hash H".
  purges.json        Signed statements of the retention purges that removed the log's
                     first records, with the retention that allowed them (if any).
  keys.json          The public keys the bundle says it was signed with.
  cosignatures.json  Witnesses' signatures of those checkpoints (if the site has any).
  scans.json         The site's scans: what its pages really did before a choice, after
                     "Refuse all" and after "Accept all" (the report), each with a
                     statement signed by the site's key naming the report's SHA-256.
  screenshots.json   What the visitors saw: for each revision above, its banner and
  screenshots/       preferences dialog drawn in each language, on desktop and phone
                     (the PNG files in screenshots/), each with its SHA-256.
  manifest.json      Every file above with its SHA-256; manifest.sig.json signs it.

HOW TO VERIFY IT
  You need Python 3.11 or later and the verifier of the same Accord release as the
  operator (it needs neither a database nor Flask, and writes no file):
      pip install cryptography rfc8785 orjson
      pip install --no-deps ACCORD_RELEASE   (the release's wheel or source folder)
  Then, with the site's public keys saved beforehand:
      accord-verify THIS_BUNDLE.zip --trusted-keys accord-keys.json
  Exit status 0: intact and signed by a pinned key. 2: intact, but the signer is not
  established. 1: something is wrong; the first problem is named, with the record's
  position when it is a record.

PINNED KEY
  Anyone can build a bundle that verifies with a key of their own. What makes this one
  proof is that it was signed by the site's key: the public keys the site publishes at
  https://<its Accord server>/.well-known/accord-keys.json. Save that file before you
  need it, or get a copy from the site's data protection officer, and pass it with
  --trusted-keys: the verifier then checks every signature against those keys only, and
  the keys inside the bundle merely tell you which one signed. Without --trusted-keys
  it prints the keys' fingerprints so you can compare them yourself.

WITNESS
  A witness is a service run by someone other than the site's operator. It cosigns a
  checkpoint only if the log grew from the last checkpoint it cosigned without losing
  or changing a record, so the operator cannot quietly rewrite what it cosigned. Get
  the witness's public key file from its operator (`accord witness key`) and add
      --witness-keys witness-key.json
  the bundle must then hold a valid cosignature by that witness.
"""


class BundleWriter:
    """Write a bundle to a path or binary file object; records stream at constant memory."""

    def __init__(self, target):
        self.zip = zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        self.members: dict[str, dict] = {}

    def write_lines(self, name: str, lines: Iterable[str] | Iterable[bytes]) -> int:
        """Stream lines (text, or bytes already UTF-8) into member `name`; returns how many
        were written."""
        digest = hashlib.sha256()
        size = count = 0
        with self.zip.open(name, "w", force_zip64=True) as member:
            buffer = []
            for line in lines:
                buffer.append(line)
                count += 1
                if len(buffer) >= 2000:
                    size += self._flush(member, digest, buffer)
            size += self._flush(member, digest, buffer)
        self.members[name] = {"sha256": digest.hexdigest(), "size": size}
        return count

    @staticmethod
    def _flush(member, digest, buffer) -> int:
        if not buffer:
            return 0
        data = b"".join(buffer) if isinstance(buffer[0], bytes) else "".join(buffer).encode()
        buffer.clear()
        digest.update(data)
        member.write(data)
        return len(data)

    def write_json(self, name: str, value) -> None:
        data = json.dumps(value, indent=1, ensure_ascii=False, sort_keys=True).encode("utf-8")
        self.zip.writestr(name, data)
        self.members[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}

    def close(self, manifest: dict, signer: Signer) -> dict:
        """Write README.txt (unless written already), the manifest (with every member's
        hash) and its signature; returns the manifest."""
        if README not in self.members:
            text = README_TEXT.format(
                site_key=manifest.get("site_key"), created_at=manifest.get("created_at")
            )
            self.write_lines(README, [text])
        version = 1 if RECORDS_MEMBER[1] in self.members else BUNDLE_VERSION
        manifest = {
            **manifest,
            "format": BUNDLE_FORMAT,
            "bundle_version": version,
            "members": self.members,
        }
        data = canonical_bytes(manifest)
        self.zip.writestr(MANIFEST, data)
        signature = {"key_id": signer.key_id, "signature": signer.sign("manifest", data)}
        self.zip.writestr(SIGNATURE, json.dumps(signature))
        self.zip.close()
        return manifest


class BundleError(ValueError):
    """The file is not a readable bundle (the message says why)."""


class BundleReader:
    """Read a bundle. `problems()` checks the container; the rest parses members."""

    def __init__(self, source):
        try:
            self.zip = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError) as exc:
            raise BundleError(f"not a zip file: {exc}") from None
        names = self.zip.namelist()
        if len(names) != len(set(names)):
            raise BundleError("a member appears twice")
        self.names = set(names)
        for required in (MANIFEST, SIGNATURE):
            if required not in self.names:
                raise BundleError(f"{required} is missing")
        self.manifest_bytes = self.read(MANIFEST)
        try:
            self.manifest = json.loads(self.manifest_bytes)
            self.signature = json.loads(self.read(SIGNATURE))
        except ValueError as exc:
            raise BundleError(f"manifest is not JSON: {exc}") from None
        if not isinstance(self.manifest, dict) or self.manifest.get("format") != BUNDLE_FORMAT:
            raise BundleError("not an Accord proof bundle (manifest format)")
        version = self.manifest.get("bundle_version")
        if type(version) is not int or version not in RECORDS_MEMBER:
            raise BundleError(f"unsupported bundle version {version}")
        self.bundle_version: int = version
        self.records_member = RECORDS_MEMBER[version]

    def read(self, name: str) -> bytes:
        try:
            return self.zip.read(name)
        except (zipfile.BadZipFile, KeyError, OSError, EOFError, zlib.error) as exc:
            raise BundleError(f"{name}: unreadable ({exc})") from None

    def member_problems(self, defer_records: bool = False) -> list[str]:
        """Every member listed, none extra, each with the listed SHA-256 and size. With
        `defer_records`, the records member is hashed as it is read (`iter_chunks`), so that
        a large bundle is decompressed once; `records_problem()` then tells."""
        listed = self.manifest.get("members")
        if not isinstance(listed, dict):
            return ["manifest lists no members"]
        problems = []
        for name in sorted(self.names - set(listed) - {MANIFEST, SIGNATURE}):
            problems.append(f"{name}: not listed in the manifest")
        for name in (self.records_member, *MEMBERS):
            if name not in listed:
                problems.append(f"{name}: not listed in the manifest")
        for name, expected in sorted(listed.items()):
            if name not in self.names:
                problems.append(f"{name}: listed in the manifest but missing")
                continue
            if defer_records and name == self.records_member:
                continue
            digest = hashlib.sha256()
            size = 0
            try:
                with self.zip.open(name) as member:
                    while chunk := member.read(1 << 20):
                        digest.update(chunk)
                        size += len(chunk)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
                problems.append(f"{name}: unreadable ({exc})")
                continue
            if not isinstance(expected, dict) or (digest.hexdigest(), size) != (
                expected.get("sha256"),
                expected.get("size"),
            ):
                problems.append(f"{name}: {CHANGED}")
        return problems

    def json_member(self, name: str):
        try:
            return json.loads(self.read(name))
        except ValueError as exc:
            raise BundleError(f"{name}: not JSON ({exc})") from None

    def iter_chunks(self) -> Iterable[bytes]:
        """The records member decompressed, in 1 MB pieces cut anywhere; hashed on the way
        (see `records_problem`)."""
        name = self.records_member
        digest, size = hashlib.sha256(), 0
        try:
            with self.zip.open(name) as member:
                while chunk := member.read(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
                    yield chunk
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error, KeyError) as exc:
            raise BundleError(f"{name}: unreadable ({exc})") from None
        self._records_read = (digest.hexdigest(), size)

    def records_problem(self) -> str | None:
        """The records member against the manifest's SHA-256 and size, from the last complete
        `iter_chunks` (read again if none completed); None when it matches or is absent."""
        expected = (self.manifest.get("members") or {}).get(self.records_member)
        if not isinstance(expected, dict) or self.records_member not in self.names:
            return None  # reported by member_problems
        if getattr(self, "_records_read", None) is None:
            for _ in self.iter_chunks():
                pass
        if self._records_read != (expected.get("sha256"), expected.get("size")):
            return f"{self.records_member}: {CHANGED}"
        return None
