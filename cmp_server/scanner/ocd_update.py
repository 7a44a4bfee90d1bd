"""`accord cookie-database update`: replace the shipped Open Cookie Database with a newer one.

The new CSV is checked (the expected columns, at least MIN_ENTRIES rows) before it replaces
the copy; PROVENANCE.md then records where it came from, when, its SHA-256 and its size. The
licence (Apache-2.0) stays beside it.
"""

import hashlib
import os
import tempfile
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from cmp_server.scanner import ocd

UPSTREAM = (
    "https://raw.githubusercontent.com/jkwakman/Open-Cookie-Database/master/"
    "open-cookie-database.csv"
)
MIN_ENTRIES = 1000
MAX_BYTES = 50 * 1024 * 1024


class UpdateError(Exception):
    """The source could not be read or is not an Open Cookie Database CSV."""


def fetch(source: str) -> bytes:
    if source.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(source, timeout=30) as answer:  # noqa: S310 - http(s) only
                return answer.read(MAX_BYTES + 1)
        except OSError as exc:
            raise UpdateError(f"could not download {source}: {exc}") from exc
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise UpdateError(f"could not read {source}: {exc}") from exc


def update(source: str, target: Path = ocd.CSV_PATH) -> str:
    data = fetch(source)
    if len(data) > MAX_BYTES:
        raise UpdateError(f"{source} is larger than {MAX_BYTES // 1024 // 1024} MB")
    with tempfile.NamedTemporaryFile("wb", dir=target.parent, suffix=".csv", delete=False) as tmp:
        tmp.write(data)
    try:
        entries = ocd.read_entries(Path(tmp.name))
    except (ValueError, UnicodeDecodeError) as exc:
        os.unlink(tmp.name)
        raise UpdateError(f"{source} is not an Open Cookie Database CSV: {exc}") from None
    if len(entries) < MIN_ENTRIES:
        os.unlink(tmp.name)
        raise UpdateError(f"{source} has only {len(entries)} entries: not replacing the copy")
    os.replace(tmp.name, target)
    ocd.load.cache_clear()
    categories = Counter(e.category for e in entries)
    digest = hashlib.sha256(data).hexdigest()
    (target.parent / "PROVENANCE.md").write_text(
        "# Open Cookie Database\n\n"
        f"- Source: {source}\n"
        f"- Fetched: {datetime.now(UTC).isoformat(timespec='seconds')} by "
        "`accord cookie-database update`\n"
        f"- SHA-256 of the file: {digest}\n"
        "- Licence: Apache License 2.0 (LICENSE beside this file). Redistributed unchanged.\n"
        "- Columns: ID, Platform, Category, Cookie / Data Key name, Domain, Description,\n"
        "  Retention period, Data Controller, User Privacy & GDPR Rights Portals, Wildcard match\n"
        "  (1: the name is a prefix, e.g. `_hjSessionUser_` matches `_hjSessionUser_123`).\n"
        f"- {len(entries)} entries; categories: "
        + ", ".join(f"{c} {n}" for c, n in categories.most_common())
        + "\n",
        encoding="utf-8",
    )
    return f"Open Cookie Database updated: {len(entries)} entries from {source} ({digest[:12]}…)."
