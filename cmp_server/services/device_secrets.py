"""The device secret: what proves a request comes from the device, not from someone who
read its ID (DESIGN.md, "Device secret").

The device ID travels in the `accord_consent` cookie, which every script of the site and the
site's server can read; it identifies a device and authorises nothing. The snippet makes a
random secret once per device and keeps it in local storage. The first consent of a device
that presents one binds the secret's SHA-256; from then on its consents (body field
`device_secret`), history and erasure (header `Accord-Device-Secret`) must present the same
secret. Devices recorded before secrets existed, or whose consents came without one (a page
still running an older snippet), bind one with their next consent that carries it, and until
then (like a device that has never consented) have nothing to prove with.

A consent's secret is checked, and a first consent's bound, by the writer that seals it
(services/sealing.py), one look-up per batch inside its transaction: the request thread does
no database work for it, and binds happen under the site's log lock, where the table's
primary key decides a race of two first consents. History and erasure, which are rare, look
the secret up in the request's thread.
"""

import hashlib
import hmac

from sqlalchemy import delete, select

from cmp_server.extensions import db
from cmp_server.models import ConsentRecord, DeviceSecret
from cmp_server.services.errors import Forbidden

HEADER = "Accord-Device-Secret"


def secret_hash(secret: str | None) -> str | None:
    """SHA-256 (hex) of a secret (None for none); the secret is random enough that no salt
    is needed."""
    return None if secret is None else hashlib.sha256(secret.encode()).hexdigest()


def bound_hash(site_id: int, device_id: str) -> str | None:
    """The hash of the secret bound to a device, or None."""
    return db.session.scalar(
        select(DeviceSecret.secret_hash).where(
            DeviceSecret.site_id == site_id, DeviceSecret.device_id == device_id
        )
    )


def matches(held: str, presented_hash: str | None) -> bool:
    """Whether a presented secret's hash is the bound one (compared in constant time)."""
    return presented_hash is not None and hmac.compare_digest(held, presented_hash)


def mismatch() -> Forbidden:
    return Forbidden(
        "This device has a secret and the request did not present it.",
        code="device_secret_mismatch",
    )


def authorise_device(site_id: int, device_id: str, secret: str | None) -> None:
    """Before a device's history or erasure: a device with a bound secret must present it;
    Forbidden otherwise. A device with none (no consent yet, or recorded before secrets
    existed) has nothing to prove with, and is served as before."""
    held = bound_hash(site_id, device_id)
    if held is not None and not matches(held, secret_hash(secret)):
        raise mismatch()


# The writer's refusals (services/sealing.py check_secret) and the errors they become.
REFUSALS = {"forbidden": mismatch}


def forget_unrecorded(conn, site_id: int, bound_before) -> None:
    """Unbind the secrets of the site's devices that no record names any more (the retention
    purge deleted them all), bound before `bound_before`: a device ID is personal data, kept
    no longer than the records it belongs to. In the caller's transaction."""
    secrets, records = DeviceSecret.__table__, ConsentRecord.__table__
    recorded = (
        select(records.c.id)
        .where(records.c.site_id == secrets.c.site_id, records.c.device_id == secrets.c.device_id)
        .exists()
    )
    conn.execute(
        delete(secrets).where(
            secrets.c.site_id == site_id, secrets.c.bound_at < bound_before, ~recorded
        )
    )


def forget_device(site_id: int, device_id: str) -> None:
    """Unbind a device's secret (after its erasure: the device may start afresh). Flushes in
    the session's transaction; the caller commits."""
    db.session.execute(
        delete(DeviceSecret).where(
            DeviceSecret.site_id == site_id, DeviceSecret.device_id == device_id
        )
    )
