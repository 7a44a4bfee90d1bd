"""Verify a long log on two cores (the CLI only): the second half in a forked process, the
first here.

The chain is checked exactly as in one pass: the second half starts from the `prev_hash` its
first record claims, and `ChainVerifier.join` then checks that the first half ends on that
very hash; so a change anywhere is still reported at the first bad position.

Forking copies every thread's locks as they stand, which is a hazard in a threaded gunicorn
worker: the server never calls this (services/verification.py checks in one process there).
"""

import multiprocessing
import os

from cmp_server.extensions import db
from cmp_server.proof.chain import ChainVerifier
from cmp_server.services.record_rows import verify_rows

# Below this many records one pass is faster than starting a process.
SPLIT_MIN_RECORDS = 200_000
# A forked child that has not answered by then (a lock copied mid-use by the fork, say) is
# given up, and this process checks the second half itself.
CHILD_TIMEOUT = 600


def should_split(records: int) -> bool:
    return records >= SPLIT_MIN_RECORDS and (os.cpu_count() or 1) > 1


def _second_half(connection, site_id, site_key, middle, middle_hash, checkpoints):
    """In the child: check positions middle.. and send back the run for `join`."""
    db.engine.dispose(close=False)  # the parent's pooled connections are not ours to use
    verifier = ChainVerifier(site_key, middle, middle_hash, checkpoints)
    verifier.feed(verify_rows(site_id, middle))
    connection.send(verifier.run())
    connection.close()


def feed_in_two(verifier: ChainVerifier, site_id: int, start: int, size: int, progress=None):
    """Feed `verifier` (positioned at `start`) the log up to `size`, split in two halves."""
    middle = start + (size - start + 1) // 2
    middle_hash = db.session.execute(
        db.text("SELECT prev_hash FROM consent_records WHERE site_id = :s AND position = :p"),
        {"s": site_id, "p": middle},
    ).scalar()
    if middle_hash is None:  # the record is missing: one pass names it
        verifier.feed(verify_rows(site_id, start))
        return
    db.session.rollback()
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_second_half,
        args=(sender, site_id, verifier.site_key, middle, middle_hash, verifier.checkpoints),
        daemon=True,
    )
    child.start()
    sender.close()
    try:
        verifier.feed(verify_rows(site_id, start, middle - 1))
        second = receiver.recv() if receiver.poll(CHILD_TIMEOUT) else None
    except EOFError:  # the child died without an answer
        second = None
    finally:
        child.join(1)
        if child.is_alive():
            child.kill()
    if second is None:  # no second core after all: finish in this process
        verifier.feed(verify_rows(site_id, middle))
        return
    if progress:
        progress(verifier.result.records + second.result.records)
    verifier.join(second)
