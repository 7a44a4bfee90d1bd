"""One way to show a moment in the console: ISO 8601 in a site's time zone, the zone written out.

Accord stores every time in UTC. A site has a display zone (`Site.time_zone`, an IANA name,
"UTC" by default); the console shows that site's moments in it and says which
("2026-12-05 09:14 CET", "2026-12-05 12:14 +03:00" where the zone has no letter abbreviation),
with the instant in UTC in the `<time>` element's title and the full ISO 8601 moment with its
offset in its `datetime` attribute. Pages not tied to a site show UTC. Exports, proofs and the
API stay in UTC: they are evidence, not display.
Values come as aware or naive (UTC) datetimes, dates, or ISO strings from JSON documents.
"""

from datetime import UTC, date, datetime, tzinfo
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, available_timezones

from markupsafe import Markup

DEFAULT_ZONE = "UTC"
# Names the tz database lists that are not places: the server's own zone and tzdata's
# "Factory" placeholder. A site's zone must not depend on the machine the console runs on.
NOT_PLACES = frozenset({"localtime", "Factory"})


@cache
def known_zones() -> frozenset[str]:
    """Every IANA zone name a site may use (read once: listing walks the tz database)."""
    return frozenset(available_timezones() - NOT_PLACES) | {DEFAULT_ZONE}


def zone_problem(name: object) -> str | None:
    """Why `name` is not a time zone a site may use, or None when it is."""
    if not isinstance(name, str) or name not in known_zones():
        return f"{name!r} is not a time zone name of the IANA database (like Europe/Paris or UTC)"
    return None


@lru_cache(maxsize=64)
def zone(name: str | None) -> tzinfo:
    """The zone called `name`; UTC for None or a name the tz database does not know."""
    if not name or name == DEFAULT_ZONE or zone_problem(name):
        return UTC
    return ZoneInfo(name)


def as_utc(value: datetime | date | str | None) -> datetime | None:
    """A datetime in UTC, or None for None or a string that is not an ISO moment."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def zone_label(moment: datetime) -> str:
    """How the zone of an aware `moment` is written: "UTC", "CET", or "+03:00" where the tz
    database has no letter abbreviation for it (its names like "+03" read as numbers)."""
    abbreviation = moment.tzname() or ""
    if moment.tzinfo is UTC or abbreviation == "UTC":
        return "UTC"
    if abbreviation.isalpha():
        return abbreviation
    return moment.isoformat()[-6:]


def _machine(local: datetime) -> str:
    return local.isoformat(timespec="seconds").replace("+00:00", "Z")


def _clock(local: datetime, seconds: bool) -> str:
    shown = local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{shown} {zone_label(local)}"


def machine_time(value, zone_name: str | None = DEFAULT_ZONE) -> str:
    """ISO 8601 for a `datetime` attribute: 2026-12-05T09:14:07+01:00 (in UTC:
    2026-12-05T08:14:07Z; a date alone: 2026-12-05)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    moment = as_utc(value)
    return _machine(moment.astimezone(zone(zone_name))) if moment else ""


def human_time(value, seconds: bool = False, zone_name: str | None = DEFAULT_ZONE) -> str:
    """What a person reads: 2026-12-05 09:14 CET (with seconds when asked); '—' for none."""
    moment = as_utc(value)
    return _clock(moment.astimezone(zone(zone_name)), seconds) if moment else "—"


def human_day(value, zone_name: str | None = DEFAULT_ZONE) -> str:
    """A day: 2026-12-05 (a moment's day in the zone; a date as it is)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    moment = as_utc(value)
    return moment.astimezone(zone(zone_name)).strftime("%Y-%m-%d") if moment else "—"


def time_element(
    value, zone_name: str | None = DEFAULT_ZONE, seconds: bool = False, day: bool = False
) -> Markup:
    """A `<time>` element for the console: the moment (or its day) in the zone, the instant in
    UTC as its title when the zone is another, '—' for none."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return Markup('<time datetime="{0}">{0}</time>').format(value.isoformat())
    moment = as_utc(value)
    if moment is None:
        return Markup("—")
    where = zone(zone_name)
    local = moment.astimezone(where)
    shown = local.strftime("%Y-%m-%d") if day else _clock(local, seconds)
    if where is UTC:
        return Markup('<time datetime="{}">{}</time>').format(_machine(local), shown)
    title = f"{_clock(moment, True)} ({zone_name})"
    return Markup('<time datetime="{}" title="{}">{}</time>').format(_machine(local), title, shown)
