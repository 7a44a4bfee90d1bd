"""One way to show a moment in the console: ISO 8601, in UTC, with the zone written out.

Accord stores every time in UTC and a site has no time zone of its own, so the console
shows UTC and says so ("2026-12-05 14:03 UTC"); the machine-readable form for a
`<time datetime>` attribute is the full ISO 8601 instant ("2026-12-05T14:03:07Z").
Values come as aware or naive (UTC) datetimes, dates, or ISO strings from JSON documents.
"""

from datetime import UTC, date, datetime

ZONE = "UTC"


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


def machine_time(value) -> str:
    """ISO 8601 for a `datetime` attribute: 2026-12-05T14:03:07Z (a date alone: 2026-12-05)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    moment = as_utc(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def human_time(value, seconds: bool = False) -> str:
    """What a person reads: 2026-12-05 14:03 UTC (with seconds when asked); '—' for none."""
    moment = as_utc(value)
    if moment is None:
        return "—"
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + f" {ZONE}"


def human_day(value) -> str:
    """A day: 2026-12-05."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    moment = as_utc(value)
    return moment.strftime("%Y-%m-%d") if moment else "—"
