"""services/timefmt.py: one way to show a moment, in a site's time zone with the zone shown."""

from datetime import UTC, date, datetime

import pytest

from cmp_server.services import timefmt

WINTER = datetime(2026, 12, 5, 8, 14, 7, tzinfo=UTC)
SUMMER = datetime(2026, 7, 1, 8, 14, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    "moment,zone,shown,machine",
    [
        (WINTER, "UTC", "2026-12-05 08:14 UTC", "2026-12-05T08:14:07Z"),
        (WINTER, "Europe/Paris", "2026-12-05 09:14 CET", "2026-12-05T09:14:07+01:00"),
        (SUMMER, "Europe/Paris", "2026-07-01 10:14 CEST", "2026-07-01T10:14:07+02:00"),
        (WINTER, "Asia/Kolkata", "2026-12-05 13:44 IST", "2026-12-05T13:44:07+05:30"),
        # The tz database writes São Paulo's zone "-03": shown as an offset, not a name.
        (WINTER, "America/Sao_Paulo", "2026-12-05 05:14 -03:00", "2026-12-05T05:14:07-03:00"),
        (WINTER, "Pacific/Kiritimati", "2026-12-05 22:14 +14:00", "2026-12-05T22:14:07+14:00"),
    ],
)
def test_a_moment_in_a_zone(moment, zone, shown, machine):
    assert timefmt.human_time(moment, zone_name=zone) == shown
    assert timefmt.machine_time(moment, zone) == machine
    # Naive datetimes and ISO strings are UTC moments too.
    assert timefmt.human_time(moment.replace(tzinfo=None), zone_name=zone) == shown
    assert timefmt.human_time("2026-12-05T09:14:07+01:00", zone_name="UTC").endswith("08:14 UTC")


def test_the_day_is_the_zone_s_day():
    late = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)
    assert timefmt.human_day(late, "UTC") == "2026-12-05"
    assert timefmt.human_day(late, "Europe/Paris") == "2026-12-06"
    assert timefmt.human_day(late, "America/New_York") == "2026-12-05"
    assert timefmt.human_day(date(2026, 1, 2), "Asia/Tokyo") == "2026-01-02"  # a date stays


def test_the_time_element_carries_the_instant_in_utc():
    element = timefmt.time_element(WINTER, "Europe/Paris", seconds=True)
    assert element == (
        '<time datetime="2026-12-05T09:14:07+01:00" title="2026-12-05 08:14:07 UTC '
        '(Europe/Paris)">2026-12-05 09:14:07 CET</time>'
    )
    assert timefmt.time_element(WINTER, "UTC") == (
        '<time datetime="2026-12-05T08:14:07Z">2026-12-05 08:14 UTC</time>'
    )
    assert timefmt.time_element(WINTER, "Asia/Tokyo", day=True).endswith(">2026-12-05</time>")
    assert timefmt.time_element(date(2026, 1, 2)) == (
        '<time datetime="2026-01-02">2026-01-02</time>'
    )
    assert timefmt.time_element(None) == timefmt.time_element("") == "—"


@pytest.mark.parametrize("name", ["UTC", "Europe/Paris", "America/Argentina/Buenos_Aires"])
def test_iana_names_are_zones(name):
    assert timefmt.zone_problem(name) is None


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "europe/paris", "", "localtime", "Factory", "../etc/passwd", 3, None]
)
def test_other_names_are_not(name):
    assert "is not a time zone name" in timefmt.zone_problem(name)
    assert timefmt.zone(name if isinstance(name, str) else None) is UTC  # display falls back
