"""Checking the evidence a proof bundle carries besides the log, with no database.

  scans.json        each finished scan of the site: its signed statement (scanner/evidence.py)
                    and its report as the canonical JSON the statement's report_hash names
  screenshots.json  each screenshot of the revisions the records reference: revision,
                    config_hash, language, viewport, layer, width, height, SHA-256, and the
                    member holding the PNG itself (screenshots/<revision>-<language>-
                    <viewport>-<layer>.png)

Both are optional (bundles written before them verify as before). Their bytes, and the PNGs',
are covered by the signed manifest like every member; this checks what they say: each scan
statement signed by a key of the bundle (or the pinned keys), of this site, naming its report;
each PNG hashing to its SHA-256, of the size given, and of a revision of the bundle.
"""

import hashlib
import re
import struct

from cmp_server.proof.keys import PublicKeys
from cmp_server.scanner.evidence import scan_problem

SCANS_MEMBER = "scans.json"
SCREENSHOTS_MEMBER = "screenshots.json"
SCREENSHOTS_DIR = "screenshots/"
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# As drawn by scanner/screenshots.py (not imported: it needs the browser's library).
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}
LAYERS = ("banner", "preferences")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def screenshot_member(doc: dict) -> str:
    """The bundle member holding a screenshot's PNG."""
    return (
        f"{SCREENSHOTS_DIR}{doc['revision']}-{doc['language']}-{doc['viewport']}-{doc['layer']}.png"
    )


def scans_problems(documents, keys: PublicKeys, site_key: str | None) -> list[str]:
    """Each scan statement signed by a known key, of this site, naming its report."""
    if not isinstance(documents, list):
        return [f"{SCANS_MEMBER}: not a list"]
    problems = []
    for i, doc in enumerate(documents, 1):
        statement = doc.get("statement") if isinstance(doc, dict) else None
        report = doc.get("report") if isinstance(doc, dict) else None
        if not isinstance(report, str):
            problem: str | None = "the report is missing"
        else:
            problem = scan_problem(statement, keys, report)
        if problem is None and isinstance(statement, dict) and statement["site_key"] != site_key:
            problem = f"a scan of site {statement['site_key']}, not of {site_key}"
        if problem:
            scan = statement.get("scan_id") if isinstance(statement, dict) else None
            label = f"scan {scan}" if scan is not None else "scan"
            problems.append(f"{SCANS_MEMBER} #{i} ({label}): {problem}")
    return problems


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's header; None when it is not a PNG."""
    if len(data) < 24 or data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def screenshots_problems(reader, documents, revisions: dict[int, str]) -> list[str]:
    """Each entry of screenshots.json well formed, of a revision of the bundle (same
    config_hash), its PNG present and hashing to its SHA-256; no PNG without an entry."""
    if not isinstance(documents, list):
        return [f"{SCREENSHOTS_MEMBER}: not a list"]
    problems, named = [], set()
    for i, doc in enumerate(documents, 1):
        where = f"{SCREENSHOTS_MEMBER} #{i}"
        if not isinstance(doc, dict) or any(
            not isinstance(doc.get(f), str) for f in ("language", "viewport", "layer")
        ):
            problems.append(f"{where}: not a screenshot entry")
            continue
        name = screenshot_member(doc)
        named.add(name)
        problem = _screenshot_problem(reader, doc, name, revisions)
        if problem:
            problems.append(f"{where} ({name}): {problem}")
    for name in sorted(n for n in reader.names if n.startswith(SCREENSHOTS_DIR)):
        if name not in named:
            problems.append(f"{name}: not in {SCREENSHOTS_MEMBER}")
    return problems


def _screenshot_problem(reader, doc: dict, name: str, revisions: dict[int, str]) -> str | None:
    number = doc.get("revision")
    if doc.get("file", name) != name:
        return f"the file should be {name}"
    if number not in revisions or revisions[number] != doc.get("config_hash"):
        return f"revision {number} is not one of the bundle's revisions"
    if not SHA256_HEX.fullmatch(str(doc.get("sha256"))):
        return "sha256 is not 64 hex digits"
    if doc["layer"] not in LAYERS or doc["viewport"] not in VIEWPORTS:
        return "unknown layer or viewport"
    if (doc.get("width"), doc.get("height")) != VIEWPORTS[doc["viewport"]]:
        return "the size is not the viewport's"
    if name not in reader.names:
        return "the PNG is missing"
    data = reader.read(name)
    if hashlib.sha256(data).hexdigest() != doc["sha256"]:
        return "the PNG does not hash to the SHA-256 given"
    if png_size(data) != (doc["width"], doc["height"]):
        return "not a PNG of the size given"
    return None


def evidence_problems(reader, keys: PublicKeys, revisions: dict[int, str], site_key) -> list:
    """The problems of the bundle's optional scans.json and screenshots.json."""
    problems = []
    if SCANS_MEMBER in reader.names:
        problems += scans_problems(reader.json_member(SCANS_MEMBER), keys, site_key)
    if SCREENSHOTS_MEMBER in reader.names:
        documents = reader.json_member(SCREENSHOTS_MEMBER)
        problems += screenshots_problems(reader, documents, revisions)
    elif any(n.startswith(SCREENSHOTS_DIR) for n in reader.names):
        problems.append(f"{SCREENSHOTS_MEMBER}: missing, but the bundle holds screenshots")
    return problems


def evidence_counts(reader) -> tuple[int, int]:
    """How many scans and screenshots the bundle carries (shown by accord-verify)."""
    scans = reader.json_member(SCANS_MEMBER) if SCANS_MEMBER in reader.names else []
    shots = sum(1 for n in reader.names if n.startswith(SCREENSHOTS_DIR))
    return (len(scans) if isinstance(scans, list) else 0), shots
