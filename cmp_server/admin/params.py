"""Query-string parsing shared by the console and the API: bad input is a 400, never a 500."""

from datetime import UTC, date, datetime, time, timedelta

from cmp_server.services.errors import InvalidInput


def parse_day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10]) if len(value) <= 10 else _parse_dt(value).date()
    except ValueError:
        raise InvalidInput(
            f"{name} must be a date like 2026-11-24.", fields={name: ["not a date"]}
        ) from None


def _parse_dt(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    try:
        parsed.astimezone(UTC)  # year 1 at +14:00 is year 0 in UTC: no such time
    except OverflowError:
        raise ValueError("out of range") from None
    return parsed


def parse_moment(value: str | None, name: str, end: bool = False) -> datetime | None:
    """A date or datetime; a bare date as `until` means the end of that day."""
    if not value:
        return None
    try:
        if len(value) <= 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time.min, tzinfo=UTC)
            return moment + timedelta(days=1) if end else moment
        return _parse_dt(value)
    except (ValueError, OverflowError):  # 9999-12-31 as `until` ends past the calendar
        raise InvalidInput(
            f"{name} must be a date or an ISO 8601 time, like 2026-11-24.",
            fields={name: ["not a date"]},
        ) from None


def parse_page(value: str | None) -> int:
    try:
        page = int(value or 1)
    except ValueError:
        raise InvalidInput(
            "page must be a whole number.", fields={"page": ["not a number"]}
        ) from None
    if not 1 <= page <= 100_000:
        raise InvalidInput("page must be between 1 and 100000.", fields={"page": ["out of range"]})
    return page
