"""Gunicorn settings for Accord; the README, the benchmarks and deployments use this file.

Threads matter: consents that arrive together in one worker are written in one transaction
(group commit), so each worker runs many threads. Override with GUNICORN_* variables.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 16))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 0))
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# One control socket per user is shared by every gunicorn instance: tests and benches start
# several, so it stays off.
control_socket_disable = True
