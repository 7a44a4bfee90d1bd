"""gunicorn.conf.py: the master builds the app once (preload) and each forked worker opens its
own database connections (post_fork), even where the master's app had opened some."""

import os
import runpy
import types
from pathlib import Path

from sqlalchemy import event, text

from cmp_server.extensions import db

CONFIG = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def connections_opened(engine) -> list:
    """A list that grows by one each time `engine` opens a database connection."""
    opened = []
    event.listen(engine, "connect", lambda *_: opened.append(1))
    return opened


def query_count(opened: list) -> str:
    """Run a query through the pool; how many connections this process has opened by then."""
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return str(len(opened))


def in_forked_child(run) -> str:
    """`run()`'s string, computed in a forked copy of this process (as gunicorn forks)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer, then leave without pytest's clean-up
        os.close(read)
        try:
            os.write(write, run().encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        result = answer.read()
    os.waitpid(pid, 0)
    return result


def test_the_app_is_preloaded_unless_turned_off(monkeypatch):
    assert runpy.run_path(str(CONFIG))["preload_app"] is True
    monkeypatch.setenv("GUNICORN_PRELOAD_APP", "0")
    assert runpy.run_path(str(CONFIG))["preload_app"] is False


def test_a_forked_worker_never_shares_the_masters_pooled_connection(app):
    db.engine.dispose()  # the fixture's own connection: gone
    opened = connections_opened(db.engine)
    in_master = query_count(opened)  # one connection, now pooled, as if create_app had used it
    assert query_count(opened) == in_master == "1"  # the pool hands that one back

    # A plain fork: the child takes the master's pooled connection (what post_fork prevents).
    assert in_forked_child(lambda: query_count(opened)) == "1"

    post_fork = runpy.run_path(str(CONFIG))["post_fork"]
    master = types.SimpleNamespace(app=types.SimpleNamespace(callable=app))  # gunicorn's Arbiter

    def worker():
        post_fork(master, None)
        return query_count(opened)

    assert in_forked_child(worker) == "2"  # its own connection
    assert query_count(opened) == "1"  # the master's is still open and pooled
