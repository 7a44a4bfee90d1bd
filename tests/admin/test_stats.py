"""Dashboard figures come from the daily tallies, for any period, and survive erasure."""

from datetime import timedelta

import pytest

from cmp_server.models.types import utcnow
from cmp_server.services import stats
from cmp_server.services.charts import daily_chart, nice_ceiling
from cmp_server.services.errors import InvalidInput


def test_default_period_is_the_last_30_days_with_every_day(seeded_site):
    board = stats.dashboard(seeded_site)
    today = utcnow().date()
    assert board.until == today and board.since == today - timedelta(days=29)
    assert len(board.days) == 30
    assert board.total == 12 == sum(sum(a.values()) for _, a in board.days)
    assert set(board.actions) == {"accept_all", "reject_all", "custom", "withdraw", "gpc", "close"}
    assert board.categories["necessary"] == 12
    assert list(board.categories)[:3] == ["necessary", "analytics", "marketing"]


def test_a_period_without_data_is_all_zeros(seeded_site):
    board = stats.dashboard(
        seeded_site, utcnow().date() - timedelta(days=400), utcnow().date() - timedelta(days=300)
    )
    assert board.total == 0 and board.rate(0) == 0.0
    assert all(v == 0 for v in board.kinds.values())


def test_bad_periods_are_refused(seeded_site):
    today = utcnow().date()
    with pytest.raises(InvalidInput):
        stats.dashboard(seeded_site, today, today - timedelta(days=1))
    with pytest.raises(InvalidInput):
        stats.dashboard(seeded_site, today - timedelta(days=5000), today)


def test_the_figures_survive_erasure(client, seeded_site):
    from cmp_server.services.records import search_records

    record = search_records(seeded_site, per_page=1)[0][0]
    before = stats.dashboard(seeded_site).total
    erased = client.delete(
        f"/api/v1/sites/{seeded_site.site_key}/devices/{record.device_id}/consents"
    )
    assert erased.status_code == 200
    assert stats.dashboard(seeded_site).total == before


def test_chart_axis_and_escaping():
    assert [nice_ceiling(v) for v in (0, 7, 13, 480, 1001)] == [1, 10, 20, 500, 2000]
    svg = daily_chart([(utcnow().date(), {"accept_all": 3, "reject_all": 2})])
    assert svg.startswith("<svg") and 'class="a-accept_all"' in svg and "<script" not in svg
