"""The per-process site cache: fresh states come from memory; a stale one is re-read by one
thread while the others keep using it."""

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
    lookup._sites[site.site_key] = replace(state, fresh_until=0.0)
    assert lookup.site_state(site.site_key).origins == ("https://new.example",)


def test_while_one_thread_rereads_the_others_use_the_cached_state(app, make_site):
    site = make_site()
    state = lookup.site_state(site.site_key)
    stale = replace(state, fresh_until=0.0)
    lookup._sites[site.site_key] = stale
    queries = count_queries(db.engine)
    lookup._refreshing.add(site.site_key)  # as if another thread were re-reading it
    try:
        answers = []
        threads = [
            threading.Thread(target=lambda: answers.append(lookup.site_state(site.site_key)))
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        lookup._refreshing.discard(site.site_key)
    assert answers == [stale] * 8
    assert queries == []
    assert lookup.site_state(site.site_key).fresh_until > 0  # re-read once nobody else is
