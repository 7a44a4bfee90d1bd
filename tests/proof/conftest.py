"""Proof tests act from outside too: the real server of tests/live (gunicorn, two workers,
SQLite and PostgreSQL), not the browser tests' in-process one."""

from tests.live.conftest import live_server, start_live_server  # noqa: F401
