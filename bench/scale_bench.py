"""Ten million records on PostgreSQL: dashboard, export, retention purge, table sizes.

Seeds N records (default 10,000,000) into its own database (`--name`, default `bench_scale`)
quickly: a pool of decisions built by the real `prepare_consent`; worker processes make each
record from one (fresh ids and times, its salt and personal digest) and this process chains
them with the same bytes `seal_batch` hashes, streaming them to COPY while the record table's
indexes are dropped; then the indexes are rebuilt and the day tallies written. `--check`
runs the real verifier on the seeded log. Then it measures, each next to a reference from
the same run:

- the dashboard page through the real view, signed in: warm (median / p95) and cold (the
  first request of a fresh process), default period and a 365-day one; reference: the
  change-password page;
- a retention purge of the oldest share (default 10%) through `retention.purge_site`, its
  rate, and how long consents sealed during it waited (a thread seals one every 50 ms, and
  counts those that fail on the 10 s lock timeout); references: the same sealing before the
  purge, a bare DELETE of as many rows, and one under the site's log lock (as purges ran
  before);
- CSV export records/s and RSS growth of what is left (the current code, to /dev/null, in
  its own process); reference: the bare driver scan of the same rows;
- the record table's heap and index sizes.

    nice .venv/bin/python bench/scale_bench.py [--records 10000000] [--days 400]
        [--purge-share 0.1] [--parts dashboard,purge,export] [--check] [--reuse] [--keep]

At 10M it takes about 40 minutes on 2 shared cores. `--keep` leaves a template copy
(`<name>_seeded`) that `--reuse` clones instead of seeding again (drop it yourself when
done); otherwise the databases are dropped.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta

from common import POSTGRES_ADMIN_URL, ROOT
from export_bench import MEASURE

sys.path.insert(0, str(ROOT))

BASE_URL = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
SECRET = "bench-secret-key-0123456789"  # noqa: S105 - a throwaway database
PASSWORD = "bench password 123"  # noqa: S105 - a throwaway database


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def database_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        return bool(
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        )


def make_app(url: str, instance: str):
    from cmp_server import create_app

    return create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET,
            "ACCORD_INSTANCE_PATH": instance,
            "RATELIMIT_ENABLED": False,
            "ACCORD_GROUP_COMMIT": False,
        }
    )


# --- seeding -----------------------------------------------------------------------------


def decision_pool(site_key: str, size: int = 4000) -> list:
    """`size` PendingConsents built by the real prepare_consent (realistic mix), to reuse
    with fresh ids and times."""
    import random

    from cmp_server.services.consents import prepare_consent
    from cmp_server.services.lookup import revision_rules, site_state
    from cmp_server.services.seeding import AGENTS, COUNTRIES, _decision
    from cmp_server.visitor import VisitorContext

    rng = random.Random(1)
    state = site_state(site_key)
    rules = revision_rules(state.id, state.published)
    pool = []
    for i in range(size):
        action, choices = _decision(rules, rng)
        browser, os_name, device = rng.choice(AGENTS)
        visitor = VisitorContext(
            rng.choice(COUNTRIES), browser, os_name, device, f"192.0.{i % 250}.0/24", False
        )
        data = {
            "consent_id": str(uuid.uuid4()),
            "device_id": str(uuid.uuid4()),
            "revision": rules.number,
            "action": action,
            "choices": choices,
            "language": rng.choice(["en", "fr"]),
            "page_url": f"https://shop.example/page/{i % 97}",
            "gpc": action == "gpc",
            "client_ts": None,
        }
        pool.append(prepare_consent(state, data, visitor))
    return pool


# COPY's columns: every one a row has, the chain's two last (the only ones the sequential
# part of seeding writes).
COPY_COLUMNS = [
    *("site_id", "position", "entry_type", "revision", "revision_hash", "action", "choices"),
    *("allowed_kinds", "regime", "gpc", "received_at", "expires_at", "consent_id", "device_id"),
    *("language", "page_url", "country", "browser", "os", "device_type", "ip_truncated"),
    *("client_ts", "salt", "personal_digest", "body_hash", "prev_hash", "record_hash"),
]
PLACEHOLDER = "P" * 64  # stands for prev_hash in the canonical bytes made in parallel
CHUNK = 20_000
_worker: dict = {}


def copy_text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    if isinstance(value, (dict, list)):
        value = json.dumps(value)
    elif not isinstance(value, str):
        value = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _init_worker(pool, site_key, start, step):
    _worker.update(pool=pool, site_key=site_key, start=start, step=step)


def _make_chunk(first: int, count: int):
    """Records first..first+count-1 (positions), everything but the chain: for each, the
    COPY line without its last two columns and the canonical bytes around prev_hash; and
    the chunk's tallies. Runs in a worker process: this is the costly part."""
    from collections import Counter

    from cmp_server.proof.canonical import fast_canonical_bytes
    from cmp_server.proof.log import new_salt, personal_digest
    from cmp_server.services.sealing import hash_fields

    pool, site_key, start, step = (_worker[k] for k in ("pool", "site_key", "start", "step"))
    out, tallies = [], Counter()
    marker = PLACEHOLDER.encode()
    for position in range(first, first + count):
        row_, pairs = pool[position % len(pool)]
        now = start + step * (position - 1)
        row = {
            **row_,
            "consent_id": str(uuid.uuid4()),
            "device_id": str(uuid.uuid4()),
            "received_at": now,
            "expires_at": now + (row_["expires_at"] - row_["received_at"]),
            "position": position,
            "prev_hash": PLACEHOLDER,
        }
        public, personal = hash_fields(site_key, row)
        salt = new_salt()
        digest = personal_digest(salt, personal)
        row.update(salt=salt, personal_digest=digest)
        before, after = fast_canonical_bytes(
            {**public, "personal_digest": digest, "prev_hash": PLACEHOLDER}
        ).split(marker)
        line = "\t".join(copy_text(row[c]) for c in COPY_COLUMNS[:-2]) + "\t"
        out.append((line.encode(), before, after))
        day = now.date()
        for dimension, value in pairs:
            tallies[(day, dimension, value)] += 1
    return out, tallies


def seed(url: str, site_id: int, site_key: str, count: int, days: int) -> float:
    """Append `count` chained records spread over the last `days` days; returns seconds.
    Worker processes build the records; this one chains them (a SHA-256 each, the same
    bytes `record_hash` hashes) and streams them to COPY."""
    import hashlib
    from collections import Counter
    from multiprocessing import get_context

    import psycopg

    from cmp_server.models.types import utcnow

    pool = [({**p.row, "body_hash": p.body_hash}, p.tallies) for p in decision_pool(site_key)]
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        size, prev = conn.execute(
            "SELECT size, head_hash FROM log_heads WHERE site_id = %s FOR UPDATE", (site_id,)
        ).fetchone()
        rebuild = drop_record_indexes(conn)
        start = utcnow() - timedelta(days=days)
        step = timedelta(days=days) / count
        tallies: Counter = Counter()
        chunks = [(f, min(CHUNK, count - f + 1)) for f in range(size + 1, count + 1, CHUNK)]
        workers = max(1, (os.cpu_count() or 2))
        with (
            get_context("fork").Pool(
                workers, _init_worker, (pool, site_key, start, step)
            ) as processes,
            conn.cursor().copy(
                f"COPY consent_records ({', '.join(COPY_COLUMNS)}) FROM STDIN"
            ) as copy,
        ):
            for lines, counts in processes.imap(_star_chunk, chunks):
                buffer = []
                for line, before, after in lines:
                    current = prev.encode()
                    prev = hashlib.sha256(before + current + after).hexdigest()
                    buffer.append(line + current + b"\t" + prev.encode() + b"\n")
                copy.write(b"".join(buffer))
                tallies.update(counts)
                size += len(lines)
                if size % 200_000 < CHUNK:
                    rate = size / (time.perf_counter() - started)
                    log(f"seeded {size:,} / {count:,} ({rate:,.0f} records/s)")
        log("COPY done; rebuilding the record table's indexes")
        for statement in rebuild:
            conn.execute(statement)
        conn.execute(
            "UPDATE log_heads SET size = %s, head_hash = %s WHERE site_id = %s",
            (size, prev, site_id),
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO consent_tallies (site_id, day, dimension, value, count) "
                "VALUES (%s, %s, %s, %s, %s)",
                [(site_id, d, dim, v, n) for (d, dim, v), n in sorted(tallies.items())],
            )
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        log("VACUUM ANALYZE")
        conn.execute("VACUUM ANALYZE consent_records")
        conn.execute("VACUUM ANALYZE consent_tallies")
    return time.perf_counter() - started


def _star_chunk(args):
    return _make_chunk(*args)


def drop_record_indexes(conn) -> list[str]:
    """Drop the record table's keys and indexes (COPY into a bare heap is many times faster);
    returns the statements that create them again, exactly as they were."""
    rebuild, drops = [], []
    for name, definition in conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'consent_records'::regclass AND contype IN ('p', 'u')"
    ).fetchall():
        drops.append(f"ALTER TABLE consent_records DROP CONSTRAINT {name}")
        rebuild.append(f"ALTER TABLE consent_records ADD CONSTRAINT {name} {definition}")
    for name, definition in conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'consent_records' "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint "
        "WHERE conrelid = 'consent_records'::regclass)"
    ).fetchall():
        drops.append(f"DROP INDEX {name}")
        rebuild.append(definition)
    for statement in drops:
        conn.execute(statement)
    return rebuild


def prepare(url: str, instance: str, records: int, days: int) -> dict:
    """Migrate, create the demo site and a staff user, seed; returns what the runs need."""
    from flask_migrate import upgrade

    from cmp_server.extensions import db
    from cmp_server.services import lookup, revisions, sites, staff
    from cmp_server.services.demo import demo_site_config

    app = make_app(url, instance)
    with app.app_context():
        upgrade()
        site = sites.import_site(demo_site_config(["https://shop.example"]))
        revisions.publish_revision(site, published_by="bench")
        staff.create_user("bench@example.com", "admin", PASSWORD)
        db.session.commit()
        lookup.forget_site(site.site_key)
        site_id, site_key = site.id, site.site_key
        seconds = seed(url, site_id, site_key, records, days)
        db.session.remove()  # no connection left open: the database may be copied next
        db.engine.dispose()
    return {"site_key": site_key, "seed_s": seconds}


# --- measurements --------------------------------------------------------------------------


def signed_in_client(app):
    """A test client holding a signed-in session, as a login would leave it."""
    from flask_login.utils import _create_identifier

    from cmp_server.admin.auth import SESSION_ID
    from cmp_server.extensions import db
    from cmp_server.services import staff, staff_sessions

    client = app.test_client()
    with app.app_context():
        user = staff.find_user("bench@example.com")
        user_id, session_id = user.id, staff_sessions.start_session(user)
        db.session.commit()
    with app.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as session:
        session.update(_user_id=str(user_id), _fresh=True, _id=identifier)
        session[SESSION_ID] = session_id
    return client


def timed(fn, runs: int) -> tuple[float, float]:
    """Median and p95 in ms, after one warm-up call."""
    fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


COLD = r"""
import sys, time
sys.path.insert(0, sys.argv[1] + "/bench")
from scale_bench import make_app, signed_in_client
app = make_app(sys.argv[2], sys.argv[3])
client = signed_in_client(app)
started = time.perf_counter()
answer = client.get(sys.argv[4])
assert answer.status_code == 200, answer.status_code
print((time.perf_counter() - started) * 1000)
"""


def cold_ms(url: str, instance: str, path: str) -> float:
    """The first request of a fresh process (new connections, nothing cached)."""
    result = subprocess.run(
        [sys.executable, "-c", COLD, str(ROOT), url, instance, path],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def dashboard_figures(url: str, instance: str, site_key: str, runs: int) -> dict:
    from cmp_server.models.types import utcnow

    app = make_app(url, instance)
    client = signed_in_client(app)
    year_ago = (utcnow().date() - timedelta(days=364)).isoformat()
    pages = {
        "dashboard, 30 days": f"/admin/sites/{site_key}/dashboard",
        "dashboard, 365 days": f"/admin/sites/{site_key}/dashboard?since={year_ago}",
        "reference: password page": "/admin/password",
    }
    figures = {}
    for label, path in pages.items():
        cold = cold_ms(url, instance, path)

        def get(path=path):
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.status_code)

        figures[label] = (cold, *timed(get, runs))
    with app.app_context():
        from cmp_server.extensions import db

        db.engine.dispose()
    return figures


def export_figures(url: str, site_key: str, instance: str) -> dict:
    figures = {}
    for what in ("scan", "csv"):
        log(f"export: {what}")
        result = subprocess.run(
            [sys.executable, "-c", MEASURE, url, site_key, what, instance, "/dev/null"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            check=True,
        )
        figures[what] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


class Sealer(threading.Thread):
    """Seals one consent every `every` seconds through the real seal_batch, on its own
    connection, and keeps how long each took: the wait for the site's log lock shows."""

    def __init__(self, app, pool, every=0.05):
        super().__init__(daemon=True)
        self.app, self.pool, self.every = app, pool, every
        self.samples: list[float] = []
        self.failed = 0
        self.stop = threading.Event()

    def run(self):
        from sqlalchemy.exc import OperationalError

        from cmp_server.extensions import db
        from cmp_server.models.types import utcnow
        from cmp_server.services.sealing import PendingConsent, seal_batch

        with self.app.app_context():
            i = 0
            while not self.stop.is_set():
                base = self.pool[i % len(self.pool)]
                i += 1
                now = utcnow()
                row = {
                    **base.row,
                    "consent_id": str(uuid.uuid4()),
                    "received_at": now,
                    "expires_at": now + timedelta(days=182),
                }
                pending = PendingConsent(base.site_id, base.site_key, row, None, base.tallies)
                started = time.perf_counter()
                try:
                    with db.engine.begin() as conn:
                        seal_batch(conn, [pending])
                except OperationalError:  # the lock timeout (ACCORD_DB_LOCK_TIMEOUT, 10 s)
                    self.failed += 1
                self.samples.append((time.perf_counter() - started) * 1000)
                self.stop.wait(self.every)

    def figures(self) -> dict:
        s = sorted(self.samples) or [0.0]
        return {
            "n": len(self.samples),
            "median": statistics.median(s),
            "p99": s[min(len(s) - 1, int(len(s) * 0.99))],
            "max": s[-1],
            "failed": self.failed,
        }


def sealing_during(app, pool, action) -> tuple[object, dict]:
    sealer = Sealer(app, pool)
    sealer.start()
    try:
        result = action()
    finally:
        sealer.stop.set()
        sealer.join()
    return result, sealer.figures()


def purge_figures(url: str, instance: str, site_key: str, share: float, days: int) -> dict:
    from sqlalchemy import text

    from cmp_server.extensions import db
    from cmp_server.services import retention, sites
    from cmp_server.services.sealing import lock_head

    app = make_app(url, instance)
    with app.app_context():
        pool = decision_pool(site_key, 200)
        site = sites.get_site(site_key)
        site.retention_days = max(1, round(days * (1 - share)))
        db.session.commit()
        _, idle = sealing_during(app, pool, lambda: time.sleep(3))

        def run_purge():
            started = time.perf_counter()
            outcome = retention.purge_site(sites.get_site(site_key))
            db.session.commit()
            return outcome, time.perf_counter() - started

        log("purge")
        (outcome, seconds), during = sealing_during(app, pool, run_purge)
        # References: a bare DELETE of as many rows, the next ones in the log, then the same
        # again under the site's log lock in one transaction, as purges did before 2026-12
        # (the database is thrown away afterwards: breaking its chain here does no harm).
        site_id = sites.get_site(site_key).id
        first = outcome.through_position + 1

        def bare_delete(lock: bool, first: int):
            def run():
                started = time.perf_counter()
                with db.engine.begin() as conn:
                    if lock:
                        lock_head(conn, site_id)
                    conn.execute(
                        text(
                            "DELETE FROM consent_records WHERE site_id = :s "
                            "AND position BETWEEN :a AND :b"
                        ),
                        {"s": site_id, "a": first, "b": first + outcome.deleted - 1},
                    )
                return time.perf_counter() - started

            return run

        log("reference: bare DELETE")
        bare_seconds, during_bare = sealing_during(app, pool, bare_delete(False, first))
        log("reference: DELETE under the log lock")
        locked_seconds, during_locked = sealing_during(
            app, pool, bare_delete(True, first + outcome.deleted)
        )
        db.engine.dispose()
    return {
        "deleted": outcome.deleted,
        "seconds": seconds,
        "bare_seconds": bare_seconds,
        "idle": idle,
        "during": during,
        "during_bare": during_bare,
        "locked_seconds": locked_seconds,
        "during_locked": during_locked,
    }


def check(url: str, instance: str, site_key: str) -> str:
    """The seeded log checked by the real verifier (its chain, head and checkpoints)."""
    from cmp_server.services import sites, verification

    app = make_app(url, instance)
    with app.app_context():
        result = verification.verify_site_log(sites.get_site(site_key))
        if not result.ok:
            raise SystemExit(f"the seeded log does not verify: {result.problem}")
        return f"{result.records:,} records, chain OK"


def sizes(url: str) -> list[tuple[str, int]]:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c "
            "WHERE c.relname = 'consent_records' OR c.oid IN (SELECT indexrelid FROM pg_index "
            "WHERE indrelid = 'consent_records'::regclass) "
            "UNION ALL SELECT 'consent_tallies (rows: ' || (SELECT count(*) FROM consent_tallies)"
            " || ')', pg_total_relation_size('consent_tallies') ORDER BY 2 DESC"
        ).fetchall()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=400, help="spread the records over N days")
    parser.add_argument("--purge-share", type=float, default=0.1)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="clone bench_scale_seeded")
    parser.add_argument("--keep", action="store_true", help="keep the seeded template")
    parser.add_argument(
        "--parts", default="dashboard,export,purge", help="which to measure (comma-separated)"
    )
    parser.add_argument("--name", default="bench_scale", help="the database's name")
    parser.add_argument("--check", action="store_true", help="verify the seeded log first")
    args = parser.parse_args()
    name, template = args.name, f"{args.name}_seeded"
    url = f"{BASE_URL}/{name}"
    instance = tempfile.mkdtemp(prefix="accord-scale-")
    loads = [os.getloadavg()[0]]
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if args.reuse and not database_exists(template):
        raise SystemExit(f"--reuse: no database {template}; seed one with --keep first")
    if args.reuse:
        log(f"cloning {template}")
        admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        from sqlalchemy import create_engine, text

        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            site_key = conn.scalar(text("SELECT site_key FROM sites"))
            records = conn.scalar(text("SELECT size FROM log_heads"))
        engine.dispose()
        seeded = {"site_key": site_key, "seed_s": 0.0}
        args.records = records
    else:
        admin(f'CREATE DATABASE "{name}"')
        log(f"seeding {args.records:,} records over {args.days} days")
        seeded = prepare(url, instance, args.records, args.days)
        if args.keep:
            admin(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
            admin(f'CREATE DATABASE "{template}" TEMPLATE "{name}"')
    site_key = seeded["site_key"]
    try:
        if args.check:
            log(f"verification: {check(url, instance, site_key)}")
        table = sizes(url)
        parts = args.parts.split(",")
        board = exported = purged = None
        if "dashboard" in parts:
            log("dashboard")
            board = dashboard_figures(url, instance, site_key, args.runs)
            loads.append(os.getloadavg()[0])
        if "purge" in parts:  # before the export: the export then reads 70% of the log
            purged = purge_figures(url, instance, site_key, args.purge_share, args.days)
            loads.append(os.getloadavg()[0])
        if "export" in parts:
            exported = export_figures(url, site_key, instance)
            loads.append(os.getloadavg()[0])
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not (args.keep or args.reuse):
            admin(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        shutil.rmtree(instance, ignore_errors=True)
    n = args.records
    print(f"\nScale, PostgreSQL, {n:,} records over {args.days} days (one site)")
    print("load average (1 min) at start / after each part: " + " ".join(f"{x:.1f}" for x in loads))
    if seeded["seed_s"]:
        print(f"seeding: {seeded['seed_s']:.0f} s ({n / seeded['seed_s']:,.0f} records/s, COPY)")
    print("\nSizes")
    for relation, size in table:
        print(f"  {relation:<48} {size / 2**20:>9,.0f} MB")
    if board:
        print_board(board)
    if exported:
        n = exported["scan"]["count"]
        print(f"\nExport of the whole log left, {n:,} records (to /dev/null, own process)")
        for what, label in (("scan", "reference: driver scan"), ("csv", "CSV export")):
            f = exported[what]
            print(
                f"  {label:<24} {n / f['seconds']:>10,.0f} records/s  {f['seconds']:7.1f} s"
                f"   RSS growth {f['rss_growth_mb']:6.1f} MB"
            )
        ratio = exported["scan"]["seconds"] / exported["csv"]["seconds"]
        print(f"  CSV / scan: {ratio:.2f}x   target > 50,000 records/s, RSS growth < 50 MB")
    if purged:
        print_purge(purged, args.purge_share)


def print_board(board: dict) -> None:
    print("\nConsole pages, ms: cold (first request of a fresh process) / warm median / p95")
    for label, (cold, median, p95) in board.items():
        print(f"  {label:<28} {cold:8.1f} / {median:7.1f} / {p95:7.1f}")
    ratio = board["dashboard, 30 days"][1] / board["reference: password page"][1]
    print(f"  dashboard / reference (warm median): {ratio:.2f}x   target page < 300 ms")


def print_purge(p: dict, share: float) -> None:
    print(f"\nRetention purge of the oldest {share:.0%}: {p['deleted']:,} records")
    print(
        f"  purge_site              {p['seconds']:7.1f} s  {p['deleted'] / p['seconds']:>9,.0f} "
        "records/s"
    )
    print(
        f"  reference: bare DELETE  {p['bare_seconds']:7.1f} s  "
        f"{p['deleted'] / p['bare_seconds']:>9,.0f} records/s"
    )
    print(
        f"  reference: DELETE under the log lock (purges before) {p['locked_seconds']:7.1f} s  "
        f"{p['deleted'] / p['locked_seconds']:>9,.0f} records/s"
    )
    print("  one consent sealed every 50 ms meanwhile, ms: n / median / p99 / max (failed)")
    for label, key in (
        ("before (reference)", "idle"),
        ("during purge_site", "during"),
        ("during bare DELETE", "during_bare"),
        ("during DELETE under lock", "during_locked"),
    ):
        f = p[key]
        print(
            f"  {label:<24} {f['n']:>5} / {f['median']:7.1f} / {f['p99']:7.1f} / {f['max']:8.1f}"
            f" ({f['failed']})"
        )


if __name__ == "__main__":
    main()
