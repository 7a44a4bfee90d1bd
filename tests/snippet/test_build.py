"""The snippet's own checks, run by the one pytest command: the engine's unit tests
(node --test), and the build: committed bundle up to date, size under budget (measured with
the configuration the server embeds for the demo site, see test_embedded_config.py)."""

import shutil
import subprocess
from pathlib import Path

import pytest

SNIPPET = Path(__file__).resolve().parents[2] / "snippet"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def run(*args):
    return subprocess.run(
        [NODE, *args], cwd=SNIPPET, capture_output=True, text=True, timeout=120, check=False
    )


def test_engine_unit_tests_pass():
    result = run("--test", "test/")
    assert result.returncode == 0, result.stdout + result.stderr


def test_committed_bundle_is_the_build_and_under_budget():
    if not (SNIPPET / "node_modules" / "esbuild").exists():
        pytest.skip("run `npm ci` in snippet/ to check the build")
    result = run("build.mjs", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "budget (first visit, gzip): 7400 B; OK by" in result.stdout
