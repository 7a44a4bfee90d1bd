"""Dashboard time with 1,000,000 consent records, on SQLite and PostgreSQL.

Seeds a throwaway database per backend with N records (through the real sealing path, so
the daily tallies are exactly what production writes), then prints the median and p95 of:

- `stats.dashboard(site)` (the service: two grouped queries over the tallies),
- the whole dashboard page through the Flask test client, signed in,
- a reference in the same run: the change-password page (signed in, a small template,
  no query beyond loading the user).

Target (DESIGN.md): dashboard page under 300 ms with 1,000,000 records.

    .venv/bin/python bench/dashboard_bench.py [--records 1000000] [--days 90]
        [--backend sqlite|postgresql|both] [--runs 30]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTGRES_ADMIN_URL = os.environ.get(
    "ACCORD_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def make_database(backend: str, workdir: Path):
    """(url, drop) for a fresh database of `backend`."""
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}", lambda: None
    import psycopg

    name = f"accord_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}", drop


def timed(fn, runs: int) -> tuple[float, float]:
    """Median and p95 in milliseconds (after one warm-up call)."""
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def bench(backend: str, records: int, days: int, runs: int) -> dict:
    from flask_login.utils import _create_identifier
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from cmp_server import create_app
    from cmp_server.admin.auth import SESSION_ID
    from cmp_server.extensions import db
    from cmp_server.models import ConsentTally
    from cmp_server.services import lookup, revisions, sites, staff, staff_sessions, stats
    from cmp_server.services.demo import demo_site_config
    from cmp_server.services.seeding import seed_consents

    workdir = Path(tempfile.mkdtemp(prefix=f"accord-bench-{backend}-"))
    url, drop = make_database(backend, workdir)
    try:
        app = create_app(
            {
                "DATABASE_URL": url,
                "SECRET_KEY": "bench-secret-key-0123456789",
                "ACCORD_INSTANCE_PATH": str(workdir / "instance"),
                "RATELIMIT_ENABLED": False,
                "ACCORD_GROUP_COMMIT": False,
            }
        )
        with app.app_context():
            upgrade()
            site = sites.import_site(demo_site_config(["https://shop.example"]))
            revisions.publish_revision(site, published_by="bench")
            user = staff.create_user("bench@example.com", "admin", "bench password 123")
            db.session.commit()
            lookup.forget_site(site.site_key)
            site_key, user_id = site.site_key, user.id
            session_id = staff_sessions.start_session(user)
            db.session.commit()

        client = app.test_client()
        with app.test_request_context(environ_base=client.environ_base):
            identifier = _create_identifier()
        with client.session_transaction() as session:
            session.update(_user_id=str(user_id), _fresh=True, _id=identifier)
            session[SESSION_ID] = session_id

        def page():
            answer = client.get(f"/admin/sites/{site_key}/dashboard")
            assert answer.status_code == 200, answer.status_code

        def reference():
            answer = client.get("/admin/password")
            assert answer.status_code == 200, answer.status_code

        reference()
        page()  # load every template now: the measured run uses this build, seeding is long
        with app.app_context():
            started = time.perf_counter()
            done = [0]

            def progress(n):
                done[0] += n
                if done[0] % 100_000 < n:
                    rate = done[0] / (time.perf_counter() - started)
                    print(f"  {backend}: {done[0]:>9,} records ({rate:,.0f}/s)", file=sys.stderr)

            seed_consents(site_key, records, days=days, batch=5000, progress=progress)
            seed_seconds = time.perf_counter() - started
            db.session.remove()
            tally_rows = db.session.scalar(select(func.count()).select_from(ConsentTally))
            site = sites.get_site(site_key)
            board = stats.dashboard(site)
            service_ms = timed(lambda: stats.dashboard(sites.get_site(site_key)), runs)

        page_ms = timed(page, runs)
        reference_ms = timed(reference, runs)
        with app.app_context():
            db.engine.dispose()
        return {
            "backend": backend,
            "records": records,
            "in_period": board.total,
            "tally_rows": tally_rows,
            "seed_s": seed_seconds,
            "service": service_ms,
            "page": page_ms,
            "reference": reference_ms,
        }
    finally:
        drop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90, help="spread the records over N days")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = [bench(b, args.records, args.days, args.runs) for b in backends]
    print()
    print(
        f"Dashboard, default period (last 30 days), {args.records:,} records over "
        f"{args.days} days; median / p95 of {args.runs} runs, ms"
    )
    print(
        f"{'backend':<11} {'in period':>10} {'tallies':>8} {'service':>16} "
        f"{'dashboard page':>16} {'reference page':>16}   target page < 300 ms"
    )
    for r in results:
        cells = [f"{r[k][0]:7.1f} / {r[k][1]:6.1f}" for k in ("service", "page", "reference")]
        verdict = "OK" if r["page"][0] < 300 else "OVER"
        print(
            f"{r['backend']:<11} {r['in_period']:>10,} {r['tally_rows']:>8,} "
            f"{cells[0]:>16} {cells[1]:>16} {cells[2]:>16}   {verdict}"
        )
    for r in results:
        print(f"(seeding {r['backend']}: {r['records']:,} records in {r['seed_s']:.0f} s)")


if __name__ == "__main__":
    main()
