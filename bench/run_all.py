"""Run every benchmark in turn (`make bench`); each prints its figures and its reference.

Pass --quick for short runs (fewer seconds, 100,000 records instead of 1,000,000).
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICK = "--quick" in sys.argv
BENCHES = [
    ("consent_bench.py", ["--seconds", "5"] if QUICK else []),
    ("load_bench.py", ["--seconds", "10"] if QUICK else []),
    ("snippet_bench.py", ["--loads", "10"] if QUICK else []),
    ("dashboard_bench.py", ["--records", "100000", "--runs", "10"] if QUICK else []),
    ("export_bench.py", ["--records", "100000"] if QUICK else []),
    ("verify_bench.py", ["--records", "100000"] if QUICK else []),
    ("scan_bench.py", ["--runs", "1"] if QUICK else []),
]

for script, args in BENCHES:
    print(f"\n=== {script} {' '.join(args)}", flush=True)
    result = subprocess.run([sys.executable, str(HERE / script), *args], cwd=HERE, check=False)
    if result.returncode:
        print(f"{script} failed with exit code {result.returncode}")
