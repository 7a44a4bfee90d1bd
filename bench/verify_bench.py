"""Chain verification speed over a large log, on SQLite and PostgreSQL.

Seeds N records (default 1,000,000) into a fresh database per backend with the same code that
seals real consents, then times, in the same run:
  reference  a plain scan: the same SELECT, rows fetched and dropped (the floor for any check)
  reference  SHA-256 alone over the bytes the verifier hashes (two digests per record)
  reference  the same records as a version 1 bundle (records.ndjson, bytes rebuilt from JSON)
  live       the live log's check in one pass, and on two processes as the server's Verify
             page and `accord proofs verify` run it (services/split_verify.py)
  bundle     writing a (version 2) bundle, then verifying it offline: proof.verify in one
             process, and the `accord-verify` console script (all cores, pinned keys)
Target (DESIGN.md): verification over 100,000 records/s, live and offline.

    .venv/bin/python bench/verify_bench.py [--records N] [--backend sqlite|postgresql]
"""

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import seeded_database  # noqa: E402


def rate(n, seconds, reference=None):
    """records/s, and its ratio to `reference` (records/s measured in the same run)."""
    ratio = f"  {n / seconds / reference:4.2f}x the scan" if reference else ""
    return f"{n / seconds:>12,.0f} records/s  ({seconds:6.2f} s){ratio}"


def write_version_1(bundle: str, target: str, signer) -> None:
    """The bundle rewritten in format 1 (records.ndjson: exported records), same signer."""
    from cmp_server.proof.bundle import COSIGNATURES, MANIFEST, PURGES, BundleWriter
    from cmp_server.proof.layout import EXPORT_FIELDS, PERSONAL_FIELDS

    source = zipfile.ZipFile(bundle)

    def lines():
        with source.open("records.tsv") as member:
            for line in member:
                hashed, record_hash, salt, personal, erased = line.rstrip(b"\n").split(b"\t")
                values = {
                    **json.loads(hashed),
                    **(json.loads(personal) if personal else dict.fromkeys(PERSONAL_FIELDS)),
                    "record_hash": record_hash.decode(),
                    "salt": salt.decode() or None,
                    "erased_at": erased.decode() or None,
                }
                yield json.dumps({f: values[f] for f in EXPORT_FIELDS}, ensure_ascii=False) + "\n"

    writer = BundleWriter(target)
    writer.write_lines("records.ndjson", lines())
    for name in ("revisions.json", "checkpoints.json", "keys.json", PURGES, COSIGNATURES):
        writer.write_json(name, json.loads(source.read(name)))
    manifest = json.loads(source.read(MANIFEST))
    skip = {"members", "format", "bundle_version"}
    writer.close({k: v for k, v in manifest.items() if k not in skip}, signer)


def run(backend: str, records: int) -> None:
    from flask_migrate import upgrade

    from cmp_server import create_app
    from cmp_server.extensions import db
    from cmp_server.proof import parallel
    from cmp_server.proof.layout import Col
    from cmp_server.proof.templates import personal_bytes, public_bytes
    from cmp_server.proof.verify import verify_bundle
    from cmp_server.services import bundles, checkpoints, signing_keys, sites, verification
    from cmp_server.services.record_rows import verify_rows

    with seeded_database(backend, records) as (url, site_key), tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "DATABASE_URL": url,
                "ACCORD_INSTANCE_PATH": tmp,
                "SECRET_KEY": "bench-secret-key-0123456789",
                "ACCORD_GROUP_COMMIT": False,
            }
        )
        with app.app_context():
            upgrade()
            site = sites.get_site(site_key)
            print(f"{backend}: {records:,} records (seeded by the same code that seals consents)")

            t = time.perf_counter()
            n = sum(1 for _ in verify_rows(site.id))
            scan = n / (time.perf_counter() - t)
            print(f"  reference: SELECT scan          {rate(n, n / scan)}")

            # The bytes the verifier hashes, prepared beforehand; only the hashing is timed.
            sample = []
            for row in verify_rows(site.id):
                prev = row[Col.PREV_HASH]
                sample.append((public_bytes(site.site_key, row, prev), personal_bytes(row)))
                if len(sample) == 200_000:
                    break
            sha = hashlib.sha256
            t = time.perf_counter()
            for public, personal in sample:
                sha(personal).hexdigest()
                sha(public).hexdigest()
            seconds = (time.perf_counter() - t) * n / len(sample)
            print(f"  reference: SHA-256 only         {rate(n, seconds)}  (extrapolated)")
            del sample

            t = time.perf_counter()
            result = verification.verify_site_log(site, split=False)
            seconds = time.perf_counter() - t
            assert result.ok, result
            print(f"  verify live log, 1 process      {rate(result.records, seconds, scan)}")
            t = time.perf_counter()
            result = verification.verify_site_log(site)
            seconds = time.perf_counter() - t
            assert result.ok, result
            print(
                f"  verify live log, 2 processes    {rate(result.records, seconds, scan)}"
                "  (server and CLI)"
            )

            bundle = os.path.join(tmp, "proof.zip")
            t = time.perf_counter()
            bundles.write_bundle(site, bundle)
            db.session.commit()
            print(f"  write bundle                    {rate(n, time.perf_counter() - t)}")
            old = os.path.join(tmp, "proof-v1.zip")
            write_version_1(bundle, old, checkpoints.current_signer())
            t = time.perf_counter()
            report = verify_bundle(old, workers=1)
            seconds = time.perf_counter() - t
            assert report.ok, report.problems
            print(f"  reference: v1 bundle, 1 process {rate(report.chain.records, seconds)}")
            t = time.perf_counter()
            report = verify_bundle(bundle, workers=1)
            seconds = time.perf_counter() - t
            assert report.ok, report.problems
            size = os.path.getsize(bundle) / 1e6
            print(
                f"  verify bundle, 1 process        {rate(report.chain.records, seconds)}"
                f"  [{size:.0f} MB]"
            )
            keys = os.path.join(tmp, "accord-keys.json")
            with open(keys, "w") as file:
                json.dump({"keys": signing_keys.key_documents()}, file)
            t = time.perf_counter()
            script = str(Path(sys.executable).parent / "accord-verify")
            done = subprocess.run(
                [script, bundle, "--trusted-keys", keys],
                capture_output=True,
                text=True,
                env={},
                cwd=tmp,
            )
            seconds = time.perf_counter() - t
            assert done.returncode == 0, done.stdout + done.stderr
            print(
                f"  accord-verify, {parallel.cores()} cores         {rate(n, seconds)}"
                "  (the console script, start-up included)"
            )
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"  peak RSS of this process: {peak:.0f} MB")
            db.session.remove()
            db.engine.dispose()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    args = parser.parse_args()
    print(f"verify bench, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"load average at start: {os.getloadavg()[0]:.1f} (figures scale with it)")
    for backend in args.backend or ["sqlite", "postgresql"]:
        run(backend, args.records)


if __name__ == "__main__":
    main()
