"""The committers: how a request's consent gets sealed and committed before it is answered.

`GroupCommitter` (the default): request threads hand a `PendingConsent` to the process's
committer and wait. Its writer thread takes everything queued, seals it in one transaction
(services/sealing.py `seal_batch`) and only then answers each waiter, so throughput grows with
concurrency while every 2xx still follows its commit. `DirectCommitter` seals each consent in
its own transaction, in the caller's thread (ACCORD_GROUP_COMMIT=false).

On SQLite, writers of every process queue on a file lock (`SQLiteWriteLock`) rather than on
SQLite's own busy loop; on PostgreSQL the site's log-head row lock orders them.
"""

import fcntl
import logging
import os
import queue
import threading
import time
from concurrent.futures import Future
from contextlib import contextmanager, nullcontext, suppress

from flask import Flask
from sqlalchemy.exc import DBAPIError

from cmp_server.extensions import db
from cmp_server.proof.receipts import sign_receipt
from cmp_server.services import sealing
from cmp_server.services.errors import StorageUnavailable

log = logging.getLogger(__name__)
MAX_BATCH = 256
EXTENSION = "accord_committer"


def init_app(app: Flask) -> None:
    """Give `app` its committer (ACCORD_GROUP_COMMIT), bound to the app's engine."""
    with app.app_context():
        engine = db.engine
    committer = GroupCommitter if app.config["ACCORD_GROUP_COMMIT"] else DirectCommitter
    app.extensions[EXTENSION] = committer(engine, timeout=app.config["ACCORD_DB_WAIT_SECONDS"])


class SQLiteWriteLock:
    """Queue SQLite writers across processes without polling.

    SQLite admits one writer at a time and makes the others retry with sleeps of up to
    100 ms, which wrecks latency under several gunicorn workers. A writer that first takes
    this file lock waits in the kernel and wakes as soon as the previous one is done.
    """

    def __init__(self, database_path: str):
        self.path = database_path + ".write-lock"
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None

    @contextmanager
    def __call__(self):
        with self._thread_lock:
            if self._pid != os.getpid():  # a file lock belongs to the process that opened it
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            fd = self._fd
            assert fd is not None
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)


def write_lock_for(engine):
    """What a batch writer holds around its transaction: a file lock on SQLite, nothing on
    PostgreSQL (where the log head's row lock orders writers)."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return SQLiteWriteLock(database)
    return nullcontext


class GroupCommitter:
    """One writer thread per process; `submit` blocks until the consent's commit, or for
    `timeout` seconds at most (then StorageUnavailable: the consent may still be committed
    later, and the client's retry with the same body is then a replay, never a double)."""

    def __init__(self, engine, timeout: float = 5.0):
        self.engine = engine
        self.timeout = timeout
        # time.monotonic() when the batch being written was taken
        self._busy_since: float | None = None
        self.write_lock = write_lock_for(engine)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._pid: int | None = None
        self._start_lock = threading.Lock()
        self._connection = None  # the writer thread's own, kept between batches
        self.notary = None  # set by services.checkpoints.init_app: signs receipts, checkpoints

    def _ensure_started(self):
        if self._pid == os.getpid():
            return
        with self._start_lock:
            if self._pid != os.getpid():  # first use, or first use after a fork
                self._queue = queue.SimpleQueue()
                threading.Thread(target=self._run, name="accord-group-commit", daemon=True).start()
                self._pid = os.getpid()

    def submit(self, pending) -> tuple[str, dict]:
        self._ensure_started()
        if self.stuck():
            raise StorageUnavailable("The consent store is not answering; try again shortly.")
        future: Future = Future()
        self._queue.put((pending, future))
        try:
            return self.signed(future.result(timeout=self.timeout))
        except TimeoutError:
            raise StorageUnavailable("The consent store did not answer in time.") from None

    def stuck(self) -> bool:
        """Whether the writer has been on one batch for longer than a consent may wait: the
        database hangs, so a new consent is refused at once instead of waiting in vain."""
        busy_since = self._busy_since
        return busy_since is not None and time.monotonic() - busy_since > self.timeout

    def signed(self, result: tuple[str, dict]) -> tuple[str, dict]:
        """(outcome, receipt) with the receipt signed, in the caller's thread: the writer
        thread, which every consent of this process waits for, does not do it."""
        outcome, receipt = result
        signer = self.signer() if receipt is not None else None
        return outcome, sign_receipt(receipt, signer) if signer is not None else receipt

    def _run(self):
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._busy_since = time.monotonic()
            try:
                self.write(batch)
            except BaseException:  # the writer thread must outlive any one batch
                log.exception("consent batch of %d failed unexpectedly", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(StorageUnavailable("The consent store failed."))
            finally:
                self._busy_since = None

    def signer(self):
        """The current signing key, or None (receipts then go unsigned, and the reason is
        logged: a key problem must not stop consents from being recorded)."""
        if self.notary is None:
            return None
        try:
            return self.notary.signer()
        except Exception as exc:
            log.error("receipts are not signed: %s", exc)
            return None

    def is_duplicate(self, exc: Exception) -> bool:
        """Whether `exc` is the database refusing a row on a unique key (raised by the driver
        when a psycopg pipeline ends, wrapped by SQLAlchemy otherwise)."""
        return isinstance(getattr(exc, "orig", exc), self.engine.dialect.dbapi.IntegrityError)

    @contextmanager
    def transaction(self):
        """A transaction on the writer's own connection, kept between batches: a batch costs
        no pool checkout and no liveness ping. A connection found dead is replaced (see
        `write`)."""
        conn = self._connection
        if conn is None or conn.closed or conn.invalidated:
            conn = self._connection = self.engine.connect()
        try:
            with conn.begin():
                yield conn
        except BaseException:
            # Also after a failed commit, which leaves SQLAlchemy's transaction set; a dead
            # connection may refuse even this, and the first error is the one to report.
            with suppress(DBAPIError):
                conn.rollback()
            raise

    def close(self) -> None:
        """Close the kept connection (the next batch opens another)."""
        if self._connection is not None:
            self._connection.close()

    def write(self, batch, reconnected: bool = False, look_up: bool = False):
        """Seal `batch` and answer its waiters. First optimistically (see the module's
        docstring), then with the look-up of existing consent_ids, then consent by consent."""
        signer = self.signer()  # before the batch's transaction: it may create the key
        pendings = [p for p, _ in batch]
        started = time.perf_counter()
        try:
            with self.write_lock(), self.transaction() as conn:
                results = sealing.seal_batch(
                    conn, pendings, signer, self.notary, look_up=look_up, commit=True
                )
        except Exception as exc:  # every waiter learns the batch failed; none was committed
            if isinstance(exc, DBAPIError) and exc.connection_invalidated and not reconnected:
                return self.write(batch, True, look_up)  # the kept connection had died
            if not look_up and self.is_duplicate(exc):  # a replay: seal again, looking up
                return self.write(batch, reconnected, look_up=True)
            if len(batch) > 1:  # one bad record must not fail the others: try each alone
                for item in batch:
                    self.write([item], reconnected=True, look_up=True)
                return
            log.warning("consent batch of %d failed: %s", len(batch), exc)
            error = StorageUnavailable("The consent store is unavailable; try again shortly.")
            for _, future in batch:
                future.set_exception(error)
            return
        log_commit(len(batch), time.perf_counter() - started)
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)


SLOW_COMMIT_SECONDS = 1.0


def log_commit(size: int, seconds: float) -> None:
    """Each batch's commit latency at DEBUG; a slow one (the database or the disk lags, and
    visitors wait with it) at WARNING."""
    level = logging.WARNING if seconds >= SLOW_COMMIT_SECONDS else logging.DEBUG
    log.log(level, "consent batch of %d committed in %.1f ms", size, seconds * 1000)


class DirectCommitter(GroupCommitter):
    """Seals each consent in its own transaction, in the caller's thread (no batching)."""

    @contextmanager
    def transaction(self):
        with self.engine.begin() as conn:  # callers are many threads: a pooled connection
            yield conn

    def submit(self, pending) -> tuple[str, dict]:
        future: Future = Future()
        self.write([(pending, future)])
        return self.signed(future.result())
