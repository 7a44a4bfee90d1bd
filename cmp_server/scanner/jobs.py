"""The job queue (Huey): scans and revision screenshots run in `accord worker`, not in a
request.

Embedded default: SqliteHuey, a file `jobs.db` in the instance folder, which needs nothing
else (workers on one host). With ACCORD_REDIS_URL set, RedisHuey on that Redis, so workers
on several hosts share the work. The queue is opened on first use (never at import or app
start), so commands that must not write to disk do not create it.
"""

import threading
from pathlib import Path

from flask import Flask, current_app

from config import make_private_database_file

EXTENSION = "accord_jobs"
QUEUE_NAME = "accord"
_lock = threading.Lock()


class Jobs:
    """The Huey instance of one app and its tasks."""

    def __init__(self, app: Flask):
        from huey import RedisHuey, SqliteHuey

        redis_url = app.config.get("ACCORD_REDIS_URL")
        if redis_url:
            self.huey = RedisHuey(QUEUE_NAME, url=redis_url, results=False)
        else:
            path = Path(app.config["ACCORD_INSTANCE_PATH"]) / "jobs.db"
            make_private_database_file(path)  # owner-only, like the instance's other files
            self.huey = SqliteHuey(QUEUE_NAME, filename=str(path), results=False)

        def scan(scan_id: int) -> None:
            from cmp_server.scanner.service import execute_scan

            with app.app_context():
                execute_scan(scan_id)

        self.scan = self.huey.task(name="accord.scan")(scan)

        def screenshots(revision_id: int) -> None:
            from cmp_server.services.screenshot_job import take_screenshots

            with app.app_context():
                take_screenshots(revision_id)

        self.screenshots = self.huey.task(name="accord.screenshots")(screenshots)

    def consumer(self, workers: int = 1):
        """A consumer that polls at least once a second when idle."""
        return self.huey.create_consumer(workers=workers, periodic=False, max_delay=1.0)


def jobs_of(app: Flask | None = None) -> Jobs:
    app = app or current_app._get_current_object()
    with _lock:
        if EXTENSION not in app.extensions:
            app.extensions[EXTENSION] = Jobs(app)
        return app.extensions[EXTENSION]


def enqueue_scan(scan_id: int) -> None:
    """Hand a committed scan to the workers."""
    jobs_of().scan(scan_id)


def enqueue_screenshots(revision_id: int) -> None:
    """Hand a committed revision's screenshots to the workers."""
    jobs_of().screenshots(revision_id)
