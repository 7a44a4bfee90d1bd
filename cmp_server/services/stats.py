"""Dashboard figures for a site and period, read from the daily tallies only.

The consent log can hold millions of rows; `ConsentTally` holds one row per day, dimension
and value, written in the same transaction as each consent. Two grouped queries over the
(site_id, day, dimension, value) unique index answer the whole dashboard, and the figures
survive erasure and retention (which remove personal data, not the counts).
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from cmp_server.extensions import db
from cmp_server.models import ConsentTally, Site
from cmp_server.models.types import utcnow
from cmp_server.services.errors import InvalidInput
from cmp_server.vocabulary import ACTIONS, TRACKER_KINDS

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366
BREAKDOWNS = ("country", "device_type", "browser", "language", "revision", "regime", "gpc")


@dataclass
class Dashboard:
    """Everything the dashboard shows. Rates are shares of all decisions in the period."""

    since: date
    until: date  # inclusive
    total: int = 0
    actions: dict = field(default_factory=dict)  # action -> count (every action, zeros too)
    categories: dict = field(default_factory=dict)  # category key -> granted count
    kinds: dict = field(default_factory=dict)  # tracker kind -> allowed count
    breakdowns: dict = field(default_factory=dict)  # dimension -> [(value, count)] desc
    days: list = field(default_factory=list)  # [(day, {action: count})] for every day

    def rate(self, count: int) -> float:
        return count / self.total if self.total else 0.0

    def as_dict(self) -> dict:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "total": self.total,
            "actions": self.actions,
            "consent_rates": {
                "categories": {
                    k: {"granted": v, "rate": round(self.rate(v), 4)}
                    for k, v in self.categories.items()
                },
                "tracker_kinds": {
                    k: {"allowed": v, "rate": round(self.rate(v), 4)} for k, v in self.kinds.items()
                },
            },
            "breakdowns": {d: dict(rows) for d, rows in self.breakdowns.items()},
            "days": [
                {"day": d.isoformat(), "total": sum(a.values()), "actions": a} for d, a in self.days
            ],
        }


def period(since: date | None = None, until: date | None = None) -> tuple[date, date]:
    """The period to show, both ends inclusive: by default the last 30 days up to today."""
    until = until or utcnow().date()
    since = since or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        raise InvalidInput("The period starts after it ends.", fields={"since": ["after until"]})
    if (until - since).days >= MAX_DAYS:
        raise InvalidInput(
            f"Choose a period of at most {MAX_DAYS} days.", fields={"since": ["period too long"]}
        )
    return since, until


def category_keys(site: Site) -> list[str]:
    """The site's purpose keys, in the draft's order."""
    return [c.key for c in site.categories]


def dashboard(site: Site, since: date | None = None, until: date | None = None) -> Dashboard:
    """The dashboard of `site` from `since` to `until` (inclusive)."""
    since, until = period(since, until)
    in_period = (
        ConsentTally.site_id == site.id,
        ConsentTally.day >= since,
        ConsentTally.day <= until,
    )
    totals: dict[str, dict[str, int]] = {}
    for dimension, value, count in db.session.execute(
        select(ConsentTally.dimension, ConsentTally.value, func.sum(ConsentTally.count))
        .where(*in_period)
        .group_by(ConsentTally.dimension, ConsentTally.value)
    ):
        totals.setdefault(dimension, {})[value] = int(count)
    per_day: dict[date, dict[str, int]] = {}
    for day, value, count in db.session.execute(
        select(ConsentTally.day, ConsentTally.value, ConsentTally.count).where(
            *in_period, ConsentTally.dimension == "action"
        )
    ):
        per_day.setdefault(day, {})[value] = per_day.get(day, {}).get(value, 0) + int(count)

    board = Dashboard(since=since, until=until)
    board.total = totals.get("total", {}).get("all", 0)
    board.actions = {a: totals.get("action", {}).get(a, 0) for a in ACTIONS}
    granted = totals.get("granted", {})
    keys = category_keys(site)
    board.categories = {k: granted.get(k, 0) for k in keys}
    board.categories.update({k: v for k, v in granted.items() if k not in board.categories})
    board.kinds = {k: totals.get("kind", {}).get(k, 0) for k in TRACKER_KINDS}
    for dimension in BREAKDOWNS:
        rows = totals.get(dimension, {})
        board.breakdowns[dimension] = sorted(rows.items(), key=lambda kv: (-kv[1], kv[0]))
    day = since
    while day <= until:
        board.days.append((day, {a: per_day.get(day, {}).get(a, 0) for a in ACTIONS}))
        day += timedelta(days=1)
    return board
