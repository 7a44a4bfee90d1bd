"""Spreading offline verification over the machine's cores, with bounded memory.

Records are checked in runs (batches) by worker processes, each run against its own first
record's `prev_hash`; the caller then checks that consecutive runs join up, so the result is
exactly that of one pass. Workers are forked: nothing is re-imported and no file is written.
"""

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def ordered_map(func: Callable, tasks: Iterable, workers: int) -> Iterator:
    """`map(func, tasks)` over `workers` processes, results in order. At most two tasks per
    worker are in flight, so the input is read only as fast as it is checked. With one worker
    (or where fork is unavailable) it runs in this process."""
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(func, tasks)
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pending: deque = deque()
        for task in tasks:
            pending.append(pool.apply_async(func, (task,)))
            if len(pending) > 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


@contextmanager
def without_gc():
    """Pause the cyclic garbage collector: a batch builds many small dicts and no cycles,
    and the collector's passes over them cost about a tenth of the verification time.
    Reference counting still frees everything; the batch's memory is bounded."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
