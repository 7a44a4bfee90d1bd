"""Commit latency is logged: every batch at DEBUG, a slow one at WARNING (#12 item 5)."""

import logging

from cmp_server.services import committers
from tests.fixtures.factories import consent_body

LOGGER = "cmp_server.services.committers"


def test_a_slow_commit_is_a_warning_and_a_quick_one_debug(caplog):
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    committers.log_commit(3, 0.004)
    committers.log_commit(7, committers.SLOW_COMMIT_SECONDS + 0.5)
    quick, slow = [r for r in caplog.records if r.name == LOGGER]
    assert (quick.levelno, quick.getMessage()) == (
        logging.DEBUG,
        "consent batch of 3 committed in 4.0 ms",
    )
    assert slow.levelno == logging.WARNING and "batch of 7" in slow.getMessage()


def test_a_recorded_consent_logs_its_commit(client, make_site, caplog):
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    site = make_site()
    response = client.post(f"/api/v1/sites/{site.site_key}/consents", json=consent_body())
    assert response.status_code == 201
    commits = [r.getMessage() for r in caplog.records if "committed in" in r.getMessage()]
    assert commits and commits[0].startswith("consent batch of 1 committed in")
