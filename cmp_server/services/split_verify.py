"""Verify a long log on two cores: the second half in a fresh Python process, the first here.

The chain is checked exactly as in one pass: the second half starts from the `prev_hash` its
first record claims, and `ChainVerifier.join` then checks that the first half ends on that
very hash; so a change anywhere is still reported at the first bad position.

The second process is started, not forked (`python -m cmp_server.services.split_verify`): a
fork copies every thread's locks as they stand, a hazard in a threaded gunicorn worker, so
the console's Verify page and `accord proofs verify` can both use it. It reads what to check
(the database URL too: never on its command line) as a pickle on stdin, opens its own
connection without building the app (so it writes nothing), and answers with a pickled
`chain.Run` on stdout. If it fails or is too slow, this process checks the second half itself.
"""

import os
import pickle
import subprocess
import sys
import threading

from sqlalchemy import create_engine

from cmp_server.extensions import db
from cmp_server.proof.chain import ChainVerifier, Run
from cmp_server.services.record_rows import verify_rows

# Below this many records one pass is faster than starting a process (about 0.3 s).
SPLIT_MIN_RECORDS = 200_000
# How the second process is started: `python -m` this module.
CHILD_COMMAND = (sys.executable, "-m", "cmp_server.services.split_verify")
# A second process that has not answered by then is given up, and this one checks the second
# half itself.
CHILD_TIMEOUT = 600
# At most one second process per process at a time (a server worker's threads share it).
_SECOND_PROCESS = threading.BoundedSemaphore(1)


def should_split(records: int) -> bool:
    return records >= SPLIT_MIN_RECORDS and (os.cpu_count() or 1) > 1


def _start_second_half(verifier: ChainVerifier, site_id: int, middle: int, middle_hash: str):
    """Start checking positions middle.. in another process; returns it (or None)."""
    task = {
        "url": db.engine.url.render_as_string(hide_password=False),
        "site_id": site_id,
        "site_key": verifier.site_key,
        "middle": middle,
        "middle_hash": middle_hash,
        "checkpoints": verifier.checkpoints,
    }
    try:
        child = subprocess.Popen(  # noqa: S603 - our own module, by this Python
            CHILD_COMMAND,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
    except OSError:  # no process to be had: one pass
        return None
    assert child.stdin is not None
    try:
        with child.stdin:
            child.stdin.write(pickle.dumps(task))
    except OSError:  # it died before reading: its answer says so
        pass
    child.stdin = None  # sent and closed: communicate() has nothing more to write
    return child


def _answer(child) -> Run | None:
    """The child's `Run`, or None if it died, said nothing or took too long."""
    try:
        out, _ = child.communicate(timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        return None
    if child.returncode != 0 or not out:
        return None
    try:
        return pickle.loads(out)  # noqa: S301 - our own child's answer, over its own pipe
    except Exception:  # cut short or garbled: not an answer
        return None


def feed_in_two(verifier: ChainVerifier, site_id: int, start: int, size: int, progress=None):
    """Feed `verifier` (positioned at `start`) the log up to `size`, split in two halves; in
    one pass while this process already has a second one at work (a Verify button pressed
    again and again starts one Python at a time, not one per press)."""
    if not _SECOND_PROCESS.acquire(blocking=False):
        verifier.feed(verify_rows(site_id, start))
        return
    try:
        _feed_in_two(verifier, site_id, start, size, progress)
    finally:
        _SECOND_PROCESS.release()


def _feed_in_two(verifier: ChainVerifier, site_id: int, start: int, size: int, progress):
    middle = start + (size - start + 1) // 2
    middle_hash = db.session.execute(
        db.text("SELECT prev_hash FROM consent_records WHERE site_id = :s AND position = :p"),
        {"s": site_id, "p": middle},
    ).scalar()
    db.session.rollback()
    child = (
        None if middle_hash is None else _start_second_half(verifier, site_id, middle, middle_hash)
    )
    if child is None:  # the record is missing (one pass names it), or no second process
        verifier.feed(verify_rows(site_id, start))
        return
    try:
        verifier.feed(verify_rows(site_id, start, middle - 1))
    except BaseException:
        child.kill()
        child.communicate()
        raise
    second = _answer(child)
    if second is None:  # the second process failed: finish here
        verifier.feed(verify_rows(site_id, middle))
        return
    if progress:
        progress(verifier.result.records + second.result.records)
    verifier.join(second)


def _second_half() -> None:
    """In the child: check the positions the task on stdin names; the `Run` goes to stdout."""
    task = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 - from our parent, over a pipe
    engine = create_engine(task["url"])
    try:
        verifier = ChainVerifier(
            task["site_key"], task["middle"], task["middle_hash"], task["checkpoints"]
        )
        verifier.feed(verify_rows(task["site_id"], task["middle"], engine=engine))
        sys.stdout.buffer.write(pickle.dumps(verifier.run()))
    finally:
        engine.dispose()


if __name__ == "__main__":
    _second_half()
