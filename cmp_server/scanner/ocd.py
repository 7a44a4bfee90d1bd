"""The Open Cookie Database (Apache-2.0), shipped in cmp_server/data/open-cookie-database/.

It names cookies and storage keys (exactly, or by prefix where its `Wildcard match` column is
1, e.g. `_hjSessionUser_` for `_hjSessionUser_123`) and the domains they come from. The scanner
uses it to say what an undeclared finding probably is; the console prefills a new tracker from
it. `accord scan-data update` refreshes the copy (see the README, "Scanner").
"""

import csv
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "open-cookie-database"
CSV_PATH = DATA_DIR / "open-cookie-database.csv"
SOURCE = "open-cookie-database"
COLUMNS = (
    "ID",
    "Platform",
    "Category",
    "Cookie / Data Key name",
    "Domain",
    "Description",
    "Retention period",
    "Data Controller",
    "User Privacy & GDPR Rights Portals",
    "Wildcard match",
)
DOMAIN = re.compile(r"(?:[a-z0-9-]+\.)+[a-z]{2,}")


@dataclass(frozen=True)
class Entry:
    """One row of the database."""

    id: str
    platform: str
    category: str
    name: str
    domain: str
    description: str
    retention: str
    data_controller: str
    privacy_url: str
    wildcard: bool

    def as_known(self) -> dict:
        """The `known` object of a finding."""
        return {
            "platform": self.platform,
            "category": self.category,
            "source": SOURCE,
            "id": self.id,
            "description": self.description,
            "retention": self.retention,
            "data_controller": self.data_controller,
            "privacy_url": self.privacy_url,
            "pattern": self.name + ("*" if self.wildcard else ""),
        }


class CookieDatabase:
    """Lookups by cookie or storage name, and by request host."""

    def __init__(self, entries: list[Entry]):
        self.entries = entries
        self.exact: dict[str, Entry] = {}
        self.prefixes: list[Entry] = []
        for entry in entries:
            if entry.wildcard:
                self.prefixes.append(entry)
            else:
                self.exact.setdefault(entry.name, entry)
        self.prefixes.sort(key=lambda e: -len(e.name))  # the longest prefix wins
        self.by_domain = self._domains(entries)

    @staticmethod
    def _domains(entries: list[Entry]) -> dict[str, Entry]:
        """Each domain named in the Domain column, with the platform named most often for it."""
        counts: dict[str, Counter] = {}
        first: dict[tuple[str, str], Entry] = {}
        for entry in entries:
            for domain in DOMAIN.findall(entry.domain.lower()):
                counts.setdefault(domain, Counter())[entry.platform] += 1
                first.setdefault((domain, entry.platform), entry)
        return {
            domain: first[(domain, platforms.most_common(1)[0][0])]
            for domain, platforms in counts.items()
        }

    def match_name(self, name: str) -> Entry | None:
        """The entry for a cookie or storage key name: an exact entry, else the longest
        wildcard prefix (a wildcard entry also matches its bare name)."""
        if name in self.exact:
            return self.exact[name]
        for entry in self.prefixes:
            if name.startswith(entry.name):
                return entry
        return None

    def match_host(self, host: str) -> Entry | None:
        """The entry for a request's host: the domain itself or a parent domain."""
        labels = host.lower().split(".")
        for i in range(len(labels) - 1):
            entry = self.by_domain.get(".".join(labels[i:]))
            if entry is not None:
                return entry
        return None


def read_entries(path: Path) -> list[Entry]:
    """The rows of a database CSV; ValueError when its columns are not the expected ones."""
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path} lacks the columns {', '.join(missing)}")
        return [
            Entry(
                id=row["ID"].strip(),
                platform=row["Platform"].strip(),
                category=row["Category"].strip(),
                name=row["Cookie / Data Key name"].strip(),
                domain=row["Domain"].strip(),
                description=row["Description"].strip(),
                retention=row["Retention period"].strip(),
                data_controller=row["Data Controller"].strip(),
                privacy_url=row["User Privacy & GDPR Rights Portals"].strip(),
                wildcard=row["Wildcard match"].strip() == "1",
            )
            for row in reader
            if row["Cookie / Data Key name"].strip()
        ]


@lru_cache(maxsize=1)
def load() -> CookieDatabase:
    """The shipped database, read once per process."""
    return CookieDatabase(read_entries(CSV_PATH))
