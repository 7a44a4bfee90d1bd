"""Hold N concurrent visitors on Accord for a fixed time, on SQLite and PostgreSQL.

    .venv/bin/python bench/load_bench.py [--visitors 64] [--seconds 30]

Each visitor loads the snippet (gzip) and posts a decision, again and again. Prints
throughput, p50/p99 latency and errors (target: no errors), and checks afterwards that the
database holds exactly the acknowledged consents and that each site's log is one chain.
"""

import argparse
import os
import tempfile

from common import accord_env, database, gunicorn, prepare_demo_site, row, wrk
from sqlalchemy import create_engine, text


def check_log(db_url: str) -> tuple[int, bool]:
    """(records stored, whether positions are 1..n with each prev_hash the previous hash)."""
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT position, prev_hash, record_hash FROM consent_records ORDER BY position")
        ).all()
    engine.dispose()
    previous, whole = "0" * 64, True
    for expected, (position, prev_hash, record_hash) in enumerate(rows, start=1):
        whole &= position == expected and prev_hash == previous
        previous = record_hash
    return len(rows), whole


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        with database(backend) as url, tempfile.TemporaryDirectory() as instance:
            env = accord_env(url, instance)
            site_key = prepare_demo_site(env)
            with gunicorn("wsgi:app", env) as base:
                figures = wrk(
                    base, "wrk_visitors.lua", args.seconds, args.visitors, {"SITE_KEY": site_key}
                )
            stored, whole = check_log(url)
        print(f"\nLoad, {backend}: {args.visitors} visitors for {args.seconds}s")
        print(row("snippet + consent, mixed", figures))
        print(
            f"  consents stored {stored} (posted about {figures['requests'] // 2}); "
            f"log {'one unbroken chain' if whole else 'BROKEN'}"
        )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
