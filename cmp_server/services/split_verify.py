"""Verify a long log on two cores: the second half in a forked process, the first here.

The chain is checked exactly as in one pass: the second half starts from the `prev_hash` its
first record claims, and the halves are then joined by checking that the first half ends on
that very hash; so a change anywhere is still reported at the first bad position.
"""

import multiprocessing
import os

from cmp_server.extensions import db
from cmp_server.proof.verify import VERIFY_COLUMNS, ChainVerifier
from cmp_server.services.exports import stream_rows

# Below this many records one pass is faster than starting a process.
SPLIT_MIN_RECORDS = 200_000
# A forked child that has not answered by then (a lock copied mid-use by the fork, say) is
# given up, and this process checks the second half itself.
CHILD_TIMEOUT = 600


def should_split(records: int) -> bool:
    return records >= SPLIT_MIN_RECORDS and (os.cpu_count() or 1) > 1


def _second_half(connection, site_id, site_key, middle, middle_hash, checkpoints):
    """In the child: check positions middle.. and send back what the join needs."""
    db.engine.dispose(close=False)  # the parent's pooled connections are not ours to use
    verifier = ChainVerifier(site_key, middle, middle_hash, checkpoints)
    verifier.feed(stream_rows(site_id, VERIFY_COLUMNS, first=middle, canonical=True))
    result = verifier.result
    connection.send(
        {
            "ok": result.ok,
            "problem": result.problem,
            "records": result.records,
            "checkpoints_matched": result.checkpoints_matched,
            "next_position": verifier.next_position,
            "prev_hash": verifier.prev_hash,
            "erased": verifier.erased,
            "logged_erasures": verifier.logged_erasures,
        }
    )
    connection.close()


def feed_in_two(verifier: ChainVerifier, site_id: int, start: int, size: int, progress=None):
    """Feed `verifier` (positioned at `start`) the log up to `size`, split in two halves."""
    middle = start + (size - start + 1) // 2
    middle_hash = db.session.execute(
        db.text("SELECT prev_hash FROM consent_records WHERE site_id = :s AND position = :p"),
        {"s": site_id, "p": middle},
    ).scalar()
    if middle_hash is None:  # the record is missing: one pass names it
        verifier.feed(stream_rows(site_id, VERIFY_COLUMNS, first=start, canonical=True))
        return
    db.session.rollback()
    receiver, sender = multiprocessing.get_context("fork").Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(
        target=_second_half,
        args=(sender, site_id, verifier.site_key, middle, middle_hash, verifier.checkpoints),
        daemon=True,
    )
    child.start()
    sender.close()
    try:
        rows = stream_rows(site_id, VERIFY_COLUMNS, first=start, last=middle - 1, canonical=True)
        verifier.feed(rows)
        second = receiver.recv() if receiver.poll(CHILD_TIMEOUT) else None
    except EOFError:  # the child died without an answer
        second = None
    finally:
        child.join(1)
        if child.is_alive():
            child.kill()
    if second is None:  # no second core after all: finish in this process
        if verifier.result.ok:
            verifier.feed(stream_rows(site_id, VERIFY_COLUMNS, first=middle, canonical=True))
        return
    if progress:
        progress(verifier.result.records + second["records"])
    if not verifier.result.ok:
        return
    if verifier.next_position != middle or verifier.prev_hash != middle_hash:
        verifier._fail(
            middle, "does not link to the previous record (inserted, removed or moved rows)"
        )
        return
    result = verifier.result
    result.records += second["records"]
    result.checkpoints_matched += second["checkpoints_matched"]
    verifier.erased.extend(second["erased"])
    verifier.logged_erasures |= second["logged_erasures"]
    if not second["ok"]:
        result.ok, result.problem = False, second["problem"]
        return
    verifier.next_position, verifier.prev_hash = second["next_position"], second["prev_hash"]
    result.last_position, result.head_hash = verifier.next_position - 1, verifier.prev_hash
