"""CSV and NDJSON export of a large log: records/s and memory, on SQLite and PostgreSQL.

Target (DESIGN.md): with 1,000,000 records, exports stream at constant memory (RSS growth
under 50 MB) at over 50,000 records/s. Reference in the same run: the same rows scanned with
the database driver and dropped (the floor any export pays).

    .venv/bin/python bench/export_bench.py [--records 1000000] [--backends sqlite,postgresql]

Each measurement runs in a fresh process, so its peak RSS is the export's own.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from common import ROOT, seeded_database

MEASURE = r"""
import json, resource, sys, time
from cmp_server import create_app
from cmp_server.extensions import db
from cmp_server.services import exports, record_rows, sites
url, site_key, what = sys.argv[1:4]
app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret-key-0123456789",
                  "ACCORD_INSTANCE_PATH": sys.argv[4]})
with app.app_context():
    site = sites.get_site(site_key)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    count = size = 0
    if what == "scan":
        for _ in record_rows.stream_rows(site.id, record_rows.DB_EXPORT_COLUMNS, raw=True):
            count += 1
    else:
        stream = exports.stream_csv if what == "csv" else exports.stream_ndjson
        with open(sys.argv[5], "w", encoding="utf-8") as out:
            for chunk in stream(site):
                size += len(chunk)
                out.write(chunk)
        count = None
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "count": count, "bytes": size,
                  "rss_growth_mb": (after - before) / 1024}))
"""


def measure(url: str, site_key: str, what: str, out: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, url, site_key, what, str(out.parent), str(out)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} (figures scale with it)")
    for backend in args.backends.split(","):
        with seeded_database(backend, args.records) as (url, site_key):
            out = Path(os.environ.get("TMPDIR", "/tmp")) / f"accord-export-{os.getpid()}"
            figures = {
                what: measure(url, site_key, what, out) for what in ("scan", "csv", "ndjson")
            }
            out.unlink(missing_ok=True)
        n = args.records
        print(f"\nExport, {backend}, {n:,} records")
        for what, label in (
            ("scan", "reference: driver scan"),
            ("csv", "CSV export"),
            ("ndjson", "NDJSON export"),
        ):
            f = figures[what]
            size = f" {f['bytes'] / 1e6:7.1f} MB" if f["bytes"] else " " * 11
            print(
                f"  {label:<24} {n / f['seconds']:>10,.0f} records/s  {f['seconds']:6.2f} s"
                f"{size}   RSS growth {f['rss_growth_mb']:6.1f} MB"
            )
        scan = n / figures["scan"]["seconds"]
        print(
            f"  ratio to the scan: CSV {n / figures['csv']['seconds'] / scan:.2f}x, "
            f"NDJSON {n / figures['ndjson']['seconds'] / scan:.2f}x "
            "(targets: > 50,000 records/s, RSS growth < 50 MB)"
        )


if __name__ == "__main__":
    main()
