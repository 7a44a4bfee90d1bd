"""Hold N concurrent visitors on Accord for a fixed time, on SQLite and PostgreSQL; and two
app hosts on one PostgreSQL at once.

    .venv/bin/python bench/load_bench.py [--visitors 64] [--seconds 30] [--hosts-only]

Each visitor loads the snippet (gzip) and posts a decision, again and again. Prints
throughput, p50/p99 latency and errors (target: no errors), and checks afterwards that the
database holds exactly the acknowledged consents and that each site's log is one chain.

Past one host: two gunicorn servers (as two hosts behind a load balancer: same DATABASE_URL
and SECRET_KEY, each its own instance folder) are loaded at once, each by its own wrk with
32 connections posting consents. Then the whole log is checked: one unbroken chain
(`accord proofs verify` too), and every consent either host acknowledged is in it exactly
once. For reference, one server alone under the same load is measured in the same run.
"""

import argparse
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import accord, accord_env, database, gunicorn, prepare_demo_site, row, wrk
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


def stored_consent_ids(db_url: str) -> list[str]:
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        ids = conn.scalars(text("SELECT consent_id FROM consent_records")).all()
    engine.dispose()
    return ids


def acknowledged(prefix: str) -> list[str]:
    folder, name = os.path.split(prefix)
    return [
        line for path in Path(folder).glob(name + "-*.txt") for line in path.read_text().split()
    ]


def measure_two_hosts(seconds: int, connections: int) -> None:
    """One server alone, then two servers on the same PostgreSQL at once, same load each."""
    with database("postgresql") as url, tempfile.TemporaryDirectory() as instance:
        env = accord_env(url, instance)
        site_key = prepare_demo_site(env)
        path = f"/api/v1/sites/{site_key}/consents"
        hosts = []
        for name in ("host-a", "host-b"):
            host_instance = os.path.join(instance, name)
            os.makedirs(host_instance)
            hosts.append({**env, "ACCORD_INSTANCE_PATH": host_instance})
        with gunicorn("wsgi:app", hosts[0]) as base_a, gunicorn("wsgi:app", hosts[1]) as base_b:
            bases = (base_a, base_b)
            for base in bases:
                wrk(base + path, "wrk_consent.lua", 2, connections)  # warm-up
            alone = wrk(base_a + path, "wrk_consent.lua", seconds, connections)
            before = set(stored_consent_ids(url))  # the warm-up's and the lone host's
            prefixes = [os.path.join(instance, f"acked-{i}") for i in range(len(bases))]
            with ThreadPoolExecutor(len(bases)) as pool:
                runs = list(
                    pool.map(
                        lambda i: wrk(
                            bases[i] + path,
                            "wrk_consent_acked.lua",
                            seconds,
                            connections,
                            {"ACK_PREFIX": prefixes[i]},
                        ),
                        range(len(bases)),
                    )
                )
        acked = [cid for prefix in prefixes for cid in acknowledged(prefix)]
        stored = stored_consent_ids(url)
        records, whole = check_log(url)
        verify = accord(env, "proofs", "verify", "--site", site_key)
    stored_set = set(stored) - before
    missing = [cid for cid in acked if cid not in stored_set]
    total = {
        "rps": sum(r["rps"] for r in runs),
        "p50_ms": max(r["p50_ms"] for r in runs),
        "p99_ms": max(r["p99_ms"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
    }
    print(f"\nTwo hosts on one PostgreSQL, {connections} connections each, {seconds}s")
    print(row("one host alone (reference)", alone))
    for i, run in enumerate(runs):
        print(row(f"host {'ab'[i]} (both loaded)", run))
    print(row("both hosts together", total))
    print(
        f"  log: {records} records, {'one unbroken chain' if whole else 'BROKEN'}; "
        f"`accord proofs verify`: {verify.strip().splitlines()[0] if verify.strip() else 'ok'}"
    )
    print(
        f"  acknowledged {len(acked)}, of them stored exactly once "
        f"{sum(1 for cid in acked if cid in stored_set)}, missing {len(missing)}, "
        f"stored twice {len(stored) - len(set(stored))}, "
        f"stored but not acknowledged (in flight when wrk stopped) {len(stored_set - set(acked))}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--hosts-only", action="store_true", help="only the two-host run")
    args = parser.parse_args()
    for backend in [] if args.hosts_only else args.backends.split(","):
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
    measure_two_hosts(args.seconds, 32)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
