"""The per-process site cache: fresh states come from memory; a stale one is never served: one
thread re-reads it while the others wait for its answer."""

import threading
from dataclasses import replace

from sqlalchemy import event

from cmp_server.extensions import db
from cmp_server.services import lookup


def count_queries(engine):
    queries = []
    event.listen(engine, "before_cursor_execute", lambda *args: queries.append(args[2]))
    return queries


def test_a_fresh_state_is_served_from_memory(app, make_site):
    site = make_site()
    lookup.forget_site()
    queries = count_queries(db.engine)
    first = lookup.site_state(site.site_key)
    reads = len(queries)
    assert reads > 0
    assert lookup.site_state(site.site_key) is first
    assert len(queries) == reads


def test_a_stale_state_is_reread(app, make_site):
    site = make_site()
    state = lookup.site_state(site.site_key)
    site.origins = ["https://new.example"]
    db.session.commit()
    app.extensions[lookup.EXTENSION].sites[site.site_key] = replace(state, fresh_until=0.0)
    assert lookup.site_state(site.site_key).origins == ("https://new.example",)


def test_while_one_thread_rereads_the_others_wait_for_its_answer(app, make_site):
    """Serving the stale state meanwhile would let a worker idle for a minute answer with a
    minute-old revision; waiting keeps the database to one read."""
    site = make_site()
    state = lookup.site_state(site.site_key)
    app.extensions[lookup.EXTENSION].sites[site.site_key] = replace(state, fresh_until=0.0)
    queries = count_queries(db.engine)
    answers = []
    start = threading.Barrier(8)

    def visitor():
        with app.app_context():
            start.wait()
            answers.append(lookup.site_state(site.site_key))

    threads = [threading.Thread(target=visitor) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(answer) for answer in answers}) == 1  # one read, its answer for all
    assert answers[0].fresh_until > state.fresh_until
    assert sum("FROM sites" in query for query in queries) == 1
