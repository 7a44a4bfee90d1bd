"""Gunicorn settings for Accord; the README, the benchmarks and deployments use this file.

Threads matter: consents that arrive together in one worker are written in one transaction
(group commit), so each worker runs many threads. Override with GUNICORN_* variables.

Logs hold no visitor's full IP address, device ID or secret (cmp_server/logs.py): the access
log (`GUNICORN_ACCESSLOG`) is written from redacted atoms, so `%(h)s` and
`%({x-forwarded-for}i)s` are networks (IPv4 /24, IPv6 /48), and every other log record is
redacted when it is made, in the master and in each worker.
"""

import multiprocessing
import os

from gunicorn.glogging import Logger

from cmp_server import logs

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
# gthread: consents that arrive together in one worker share one commit (group commit).
# GUNICORN_WORKER_CLASS=sync serves one request at a time per worker (the benchmarks'
# bare-insert reference is fastest so).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
# Of these, ACCORD_DB_REQUEST_SLOTS (by default all but max(2, threads // 8)) may wait on the
# database at once; the rest keep serving the snippet, keys and health checks when it hangs.
threads = int(os.environ.get("GUNICORN_THREADS", 16))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 0))
# The master builds the app once (compiling the user-agent regexes alone takes half a
# CPU-second) and forks the workers from it: they start and restart at once and share its
# memory pages.
# Nothing in create_app opens a connection or a thread; post_fork makes sure of the first.
# GUNICORN_PRELOAD_APP=0 builds the app in each worker instead.
preload_app = os.environ.get("GUNICORN_PRELOAD_APP", "1") != "0"
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
# gunicorn's default format, with the forwarded-for chain (truncated like the client address).
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" "%({x-forwarded-for}i)s"'
)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# One control socket per user is shared by every gunicorn instance: tests and benches start
# several, so it stays off.
control_socket_disable = True


class AccessLogger(Logger):
    """gunicorn's logger, writing the access log from redacted atoms (logs.access_atoms)."""

    def atoms(self, resp, req, environ, request_time):
        return logs.access_atoms(super().atoms(resp, req, environ, request_time))


logger_class = AccessLogger
logs.install(gunicorn_master=True)  # workers are forked from the master: they inherit it


def post_fork(server, worker):
    """A worker forked from a preloaded app (the master's, `server.app.callable`; None when
    each worker builds its own) opens its own database connections."""
    if preloaded := server.app.callable:
        from cmp_server.database import forget_inherited_connections

        forget_inherited_connections(preloaded)
