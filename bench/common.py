"""Helpers for the benchmarks: throwaway databases, gunicorn servers, wrk runs."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
POSTGRES_ADMIN_URL = os.environ.get(
    "ACCORD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def database(backend: str):
    """A fresh, empty database URL for `backend` (sqlite or postgresql), removed afterwards."""
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="accord-bench-")
        try:
            yield f"sqlite:///{folder}/accord.db"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    import psycopg

    name = f"accord_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def accord_env(db_url: str, instance: str, **extra) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "ACCORD_INSTANCE_PATH": instance,
        "SECRET_KEY": "bench-secret-key-0123456789",
        "ACCORD_RATELIMIT_ENABLED": "false",
        "GUNICORN_LOGLEVEL": "warning",
        "PYTHONPATH": str(ROOT),
    }
    env.update(extra)
    return env


def accord(env: dict, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [str(BIN / "accord"), *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"accord {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def prepare_demo_site(env: dict) -> str:
    """Migrate the database and create the published demo site; returns its key."""
    accord(env, "db", "upgrade")
    config = Path(env["ACCORD_INSTANCE_PATH"]) / "site.json"
    sys.path.insert(0, str(ROOT))
    from cmp_server.services.demo import demo_site_config

    config.write_text(json.dumps(demo_site_config(["https://shop.example"])))
    return json.loads(accord(env, "site", "import", str(config), "--publish", "--json"))["site_key"]


@contextmanager
def gunicorn(app: str, env: dict, workers: int | None = None, threads: int | None = None):
    """Run `app` under the project's gunicorn.conf.py on a free port; yields the base URL."""
    port = free_port()
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    if workers:
        env["GUNICORN_WORKERS"] = str(workers)
    if threads:
        env["GUNICORN_THREADS"] = str(threads)
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), app],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_until_up(base: str, process, path: str = "/", seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read()}")
        try:
            urllib.request.urlopen(base + path, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{base} did not come up")


def wrk(url: str, script: str, seconds: int, connections: int, env: dict | None = None) -> dict:
    """Run wrk and return its JSON summary with req/s and latencies in ms."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    result = subprocess.run(
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(ROOT / "bench" / script),
            url,
        ],
        capture_output=True,
        text=True,
        check=False,
        # The scripts require("wrk_lib") from bench/.
        env={**os.environ, "LUA_PATH": f"{ROOT / 'bench'}/?.lua;;", **(env or {})},
    )
    if result.returncode != 0:
        raise RuntimeError(f"wrk {url} failed: {result.stdout[-500:]}{result.stderr[-500:]}")
    line = next(x for x in result.stdout.splitlines() if x.startswith("JSON "))
    summary = json.loads(line[5:])
    seconds_run = summary["duration_us"] / 1e6
    return {
        "rps": summary["requests"] / seconds_run,
        "p50_ms": summary["p50_us"] / 1000,
        "p99_ms": summary["p99_us"] / 1000,
        "errors": summary["socket_errors"] + summary["non2xx"],
        "requests": summary["requests"],
    }


def row(label: str, figures: dict) -> str:
    return (
        f"  {label:<34} {figures['rps']:>9.0f} req/s   p50 {figures['p50_ms']:>7.1f} ms   "
        f"p99 {figures['p99_ms']:>7.1f} ms   errors {figures['errors']}"
    )


def schema_fingerprint() -> str:
    """Changes whenever a migration or the seeding code changes: cached seeds are rebuilt."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((ROOT / "migrations" / "versions").glob("*.py")) + [
        ROOT / "cmp_server" / "services" / "seeding.py",
        ROOT / "cmp_server" / "proof" / "log.py",
    ]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def _seed_into(url: str, instance: str, count: int) -> None:
    env = accord_env(url, instance)
    site_key = prepare_demo_site(env)
    subprocess.run(
        [str(BIN / "accord"), "seed", "--site", site_key, "--count", str(count)],
        env=env,
        cwd=ROOT,
        check=True,
    )


@contextmanager
def seeded_database(backend: str, count: int):
    """A database holding the demo site with `count` sealed records: (url, site_key).

    Seeding a million records takes minutes, so the first run keeps a copy (a file for SQLite,
    a template database for PostgreSQL) that later runs clone in seconds.
    """
    import psycopg

    cache = Path(tempfile.gettempdir()) / "accord-bench-cache"
    cache.mkdir(exist_ok=True)
    tag = f"seed_{count}_{schema_fingerprint()}"
    instance = tempfile.mkdtemp(prefix="accord-bench-")
    try:
        if backend == "sqlite":
            cached = cache / f"{tag}.db"
            if not cached.exists():
                print(f"Seeding {count:,} records into SQLite (cached for later runs)…", flush=True)
                _seed_into(f"sqlite:///{cached}.tmp", instance, count)
                _checkpoint_sqlite(f"{cached}.tmp")
                Path(f"{cached}.tmp").rename(cached)
            target = Path(instance) / "accord.db"
            shutil.copyfile(cached, target)
            url = f"sqlite:///{target}"
        else:
            base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
            template = f"accord_{tag}"
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (template,)
                ).fetchone()
            if not exists:
                print(f"Seeding {count:,} records into PostgreSQL (cached)…", flush=True)
                with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{template}_tmp"')
                _seed_into(f"{base}/{template}_tmp", instance, count)
                with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
                    conn.execute(f'ALTER DATABASE "{template}_tmp" RENAME TO "{template}"')
            name = f"accord_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            url = f"{base}/{name}"
        site_key = json.loads(accord(accord_env(url, instance), "site", "list", "--json"))[0][
            "site_key"
        ]
        yield url, site_key
    finally:
        if backend == "postgresql" and "name" in locals():
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(instance, ignore_errors=True)


def _checkpoint_sqlite(path: str) -> None:
    """Fold the WAL into the database file, so copying the one file copies everything."""
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
