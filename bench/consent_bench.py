"""POST consent and GET snippet: Accord against the reference, in the same run.

    .venv/bin/python bench/consent_bench.py [--seconds 10] [--connections 32]
                                            [--backends sqlite,postgresql] [--rounds 3]

Reference (bench/reference_app.py): a bare Flask + SQLAlchemy endpoint that inserts and
commits one row per request, and Flask serving the snippet's bytes from memory. Accord
validates, enriches and seals each consent into the site's hash chain, with group commit.

Each side runs at its own best: every candidate gunicorn configuration below (sync and
gthread workers, workers and threads) is up at once on one database, at the same durability
(SQLite WAL with synchronous=FULL, PostgreSQL's default commit), and measured in turns
`--rounds` times; each side's best is its candidate with the highest median throughput
among those answering without errors. The machine is shared and noisy: read the ratios,
which come from runs made side by side.
"""

import argparse
import subprocess
import sys
import tempfile
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

from common import accord_env, database, gunicorn, prepare_demo_site, row, wrk

# (worker class, workers, threads): a bare insert is fastest on sync workers, group commit
# needs threads.
REFERENCE_CONFIGS = [("sync", 2, 1), ("sync", 4, 1), ("gthread", 2, 4)]
ACCORD_CONFIGS = [("gthread", 2, 16), ("gthread", 1, 32), ("gthread", 2, 32)]


def label(config: tuple) -> str:
    worker_class, workers, threads = config
    return (
        f"{workers} {worker_class} x {threads}"
        if worker_class == "gthread"
        else (f"{workers} {worker_class}")
    )


def measure_posts(backend: str, seconds: int, connections: int, rounds: int) -> None:
    """Every candidate configuration of both sides up at once on one database, measured in
    turns `rounds` times (so the machine's noise falls on all alike); each side's best is the
    candidate with the highest median throughput, and the two bests are compared."""
    with database(backend) as url, tempfile.TemporaryDirectory() as instance:
        env = accord_env(url, instance)
        site_key = prepare_demo_site(env)
        # The reference's table, made once before its servers start (not by racing workers).
        subprocess.run([sys.executable, "-c", "import bench.reference_app"], env=env, check=True)
        candidates = [
            ("reference", "bench.reference_app:app", "/consent", config)
            for config in REFERENCE_CONFIGS
        ] + [
            ("accord", "wsgi:app", f"/api/v1/sites/{site_key}/consents", config)
            for config in ACCORD_CONFIGS
        ]
        results: dict[int, list] = {i: [] for i in range(len(candidates))}
        with _servers(candidates, env) as targets:
            for _ in range(rounds):
                for i, target in enumerate(targets):
                    results[i].append(_run(target, seconds, connections))
    medians = {i: best(runs) for i, runs in results.items()}
    print(f"\nPOST consent, {backend}, {connections} connections, {seconds}s x {rounds}, in turns")
    chosen = {}
    for i, (side, _app, _path, config) in enumerate(candidates):
        print(row(f"  {side} {label(config)}", medians[i]))
        if side not in chosen or _better(medians[i], medians[chosen[side]]):
            chosen[side] = i
    reference, ours = medians[chosen["reference"]], medians[chosen["accord"]]
    print("  each at its best:")
    print(row(f"reference ({label(candidates[chosen['reference']][3])})", reference))
    print(row(f"Accord ({label(candidates[chosen['accord']][3])})", ours))
    print(
        f"  ratio: throughput {ours['rps'] / reference['rps']:.2f}x, "
        f"p99 {ours['p99_ms'] / reference['p99_ms']:.2f}x of the reference"
    )


def _better(run: dict, than: dict) -> bool:
    """A run without errors beats one with errors (a 503 is fast and counts as a request);
    then the higher throughput wins."""
    return (run["errors"] == 0, run["rps"]) > (than["errors"] == 0, than["rps"])


def _run(target: str, seconds: int, connections: int) -> dict:
    """One wrk run; a run that fails (a server that stopped answering) counts as nothing."""
    try:
        return wrk(target, "wrk_consent.lua", seconds, connections)
    except RuntimeError as exc:
        print(f"  failed: {exc}", flush=True)
        return {"rps": 0.0, "p50_ms": 0.0, "p99_ms": float("inf"), "errors": -1, "requests": 0}


@contextmanager
def _servers(candidates: list, env: dict):
    """Every candidate's server up at once, warmed up: their consent URLs, in order."""
    with ExitStack() as stack:
        targets = []
        for _, app, path, (worker_class, workers, threads) in candidates:
            server_env = {**env, "GUNICORN_WORKER_CLASS": worker_class}
            base = stack.enter_context(gunicorn(app, server_env, workers, threads))
            targets.append(base + path)
            wrk(targets[-1], "wrk_consent.lua", 2, 32)  # warm-up
        yield targets


def best(runs: list[dict]) -> dict:
    """The median run by throughput (the better of two)."""
    return sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]


def measure_snippet(seconds: int, connections: int, rounds: int) -> None:
    """Both servers up at once, their runs interleaved (reference, 200, 304) `rounds` times:
    noise from the shared machine falls on all three alike. Medians are printed."""
    with database("sqlite") as url, tempfile.TemporaryDirectory() as instance:
        env = accord_env(url, instance)
        site_key = prepare_demo_site(env)
        with gunicorn("wsgi:app", env) as base:
            snippet_url = f"{base}/s/{site_key}.js"
            response = urllib.request.urlopen(snippet_url)
            body, etag = response.read(), response.headers["ETag"]
            path = Path(instance) / "snippet.js"
            path.write_bytes(body)
            reference_env = {**env, "REFERENCE_SNIPPET": str(path)}
            with gunicorn("bench.reference_app:app", reference_env) as reference_base:
                runs = {
                    "reference": (reference_base + "/snippet.js", None),
                    "200": (snippet_url, None),
                    "304": (snippet_url, {"ETAG": etag}),
                }
                for target, extra in runs.values():
                    wrk(target, "wrk_get.lua", 2, connections, extra)  # warm-up
                results = {name: [] for name in runs}
                for _ in range(rounds):
                    for name, (target, extra) in runs.items():
                        run = wrk(target, "wrk_get.lua", seconds, connections, extra)
                        results[name].append(run)
    reference, ours, not_modified = (best(results[name]) for name in runs)
    print(f"\nGET snippet ({len(body)} bytes), {connections} connections, {seconds}s x {rounds}")
    print(row("reference (Flask, bytes in memory)", reference))
    print(row("Accord GET /s/<key>.js", ours))
    print(row("Accord 304 (If-None-Match)", not_modified))
    print(
        f"  ratio: 200 {ours['rps'] / reference['rps']:.2f}x, "
        f"304 {not_modified['rps'] / reference['rps']:.2f}x of the reference (target >= 0.80; "
        "304 at least the 200's)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-snippet", action="store_true")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        measure_posts(backend, args.seconds, args.connections, args.rounds)
    if not args.skip_snippet:
        measure_snippet(args.seconds, args.connections, args.rounds)


if __name__ == "__main__":
    main()
