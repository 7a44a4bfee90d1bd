"""Slowing password guessing without letting a stranger lock a staff member out.

A hard lock after a few failures for an account lets anyone who knows the DPO's email keep
her out. Instead, failures are counted per account *and client network* (IPv4 /24, IPv6 /48,
as the audit log stores them): after FREE_FAILURES from one network, each further attempt
from that network waits twice as long as the one before (BASE_DELAY, doubling, at most
MAX_DELAY). Another network is not slowed by them, and a success from a network starts its
count again.

An attacker with many networks meets a per-account ceiling: past ACCOUNT_CEILING failures in
WINDOW, only networks where the account signed in successfully within KNOWN_NETWORK_DAYS
may try. The owner, from her usual network, still signs in.

Counts come from the audit log's `login.failed` / `login.success` events, so they hold
across workers and hosts and cost no table of their own.
"""

from datetime import datetime, timedelta

from sqlalchemy import func, select

from cmp_server.extensions import db
from cmp_server.models import AuditEvent
from cmp_server.models.types import utcnow

FREE_FAILURES = 5
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
WINDOW = timedelta(hours=1)
ACCOUNT_CEILING = 100
KNOWN_NETWORK_DAYS = 90
TARGET_LENGTH = 200  # audit events keep this much of their target


def _events(action: str, email: str):
    return (AuditEvent.action == action, AuditEvent.target == email)


def last_success(email: str, network: str | None, now: datetime) -> datetime | None:
    """When the account last signed in from this network (within KNOWN_NETWORK_DAYS)."""
    return db.session.scalar(
        select(func.max(AuditEvent.at)).where(
            *_events("login.success", email),
            AuditEvent.ip_truncated == network,
            AuditEvent.at >= now - timedelta(days=KNOWN_NETWORK_DAYS),
        )
    )


def network_failures(email: str, network: str | None, since: datetime) -> tuple[int, datetime]:
    """(failures for this account from this network since a moment, the latest one's time)."""
    count, latest = db.session.execute(
        select(func.count(), func.max(AuditEvent.at)).where(
            *_events("login.failed", email),
            AuditEvent.ip_truncated == network,
            AuditEvent.at >= since,
        )
    ).one()
    return count, latest


def account_failures(email: str, since: datetime) -> int:
    """Failed sign-ins for `email` since `since`."""
    return db.session.scalar(  # type: ignore[return-value]  # count(*) is never NULL
        select(func.count())
        .select_from(AuditEvent)
        .where(*_events("login.failed", email), AuditEvent.at >= since)
    )


def backoff(failures: int) -> timedelta:
    """How long to wait after the latest failure, given `failures` from one network."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    doublings = min(failures - FREE_FAILURES, 20)
    return min(BASE_DELAY * 2**doublings, MAX_DELAY)


def wait_before_attempt(email: str, network: str | None) -> timedelta:
    """How long this network must wait before trying this account's password (0: now).

    Unknown emails are counted the same way, so the answer does not tell which exist."""
    email = email.strip().lower()[:TARGET_LENGTH]  # as the audit log stores it
    now = utcnow()
    known_since = last_success(email, network, now)
    since = max(now - WINDOW, known_since) if known_since else now - WINDOW
    failures, latest = network_failures(email, network, since)
    if failures >= FREE_FAILURES:
        remaining = latest + backoff(failures) - now
        if remaining > timedelta(0):
            return remaining
    if known_since is None and account_failures(email, now - WINDOW) >= ACCOUNT_CEILING:
        return WINDOW
    return timedelta(0)
