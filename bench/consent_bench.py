"""POST consent and GET snippet: Accord against the reference, in the same run.

    .venv/bin/python bench/consent_bench.py [--seconds 10] [--connections 32]
                                            [--backends sqlite,postgresql] [--rounds 3]

Reference (bench/reference_app.py): a bare Flask + SQLAlchemy endpoint that inserts and
commits one row per request, and Flask serving the snippet's bytes from memory; both under
the same gunicorn.conf.py. Accord validates, enriches and seals each consent into the
site's hash chain, with group commit. The machine is shared and noisy: read the ratios.
"""

import argparse
import tempfile
import urllib.request
from pathlib import Path

from common import accord_env, database, gunicorn, prepare_demo_site, row, wrk


def measure_posts(backend: str, seconds: int, connections: int, rounds: int) -> None:
    """Both servers up at once on one database, their runs interleaved `rounds` times."""
    with database(backend) as url, tempfile.TemporaryDirectory() as instance:
        env = accord_env(url, instance)
        site_key = prepare_demo_site(env)
        with (
            gunicorn("bench.reference_app:app", env) as reference_base,
            gunicorn("wsgi:app", env) as base,
        ):
            targets = {
                "reference": reference_base + "/consent",
                "accord": f"{base}/api/v1/sites/{site_key}/consents",
            }
            for target in targets.values():
                wrk(target, "wrk_consent.lua", 2, connections)  # warm-up
            results = {name: [] for name in targets}
            for _ in range(rounds):
                for name, target in targets.items():
                    results[name].append(wrk(target, "wrk_consent.lua", seconds, connections))
        reference, ours = best(results["reference"]), best(results["accord"])
        print(f"\nPOST consent, {backend}, {connections} connections, {seconds}s x {rounds}")
        print(row("reference (insert + commit)", reference))
        print(row("Accord (validate, enrich, seal)", ours))
        print(
            f"  ratio: throughput {ours['rps'] / reference['rps']:.2f}x, "
            f"p99 {ours['p99_ms'] / reference['p99_ms']:.2f}x of the reference"
        )


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
