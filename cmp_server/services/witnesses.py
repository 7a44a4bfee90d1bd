"""Sending checkpoints to the witnesses of ACCORD_WITNESSES, and asking them what they saw.

Nothing here runs in the consent writer: `accord proofs checkpoint` (cron) sends each site's
latest checkpoint to every witness that has not cosigned it yet, with short timeouts, so a
witness that is down only delays its cosignature to the next run. The wire format is in
docs/witness.md.
"""

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import quote

from flask import current_app
from sqlalchemy import func, select

from cmp_server.extensions import db
from cmp_server.models import ConsentRecord, LogHead, Site, WitnessCosignature
from cmp_server.services import checkpoints, signing_keys
from cmp_server.services.sealing import hash_fields

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 5


class WitnessUnreachable(RuntimeError):
    """The witness did not answer usably (down, timed out, not JSON)."""


@dataclass
class Outcome:
    url: str
    ok: bool
    message: str


def configured() -> list[str]:
    return list(current_app.config.get("ACCORD_WITNESSES") or [])


def _call(url: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    # ACCORD_WITNESSES holds http(s) URLs only (config.py checks it).
    req = urllib.request.Request(url, data=data, method="POST" if data else "GET")  # noqa: S310
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read())
        except ValueError:
            raise WitnessUnreachable(f"HTTP {exc.code}, not JSON") from None
    except (OSError, ValueError) as exc:
        raise WitnessUnreachable(str(getattr(exc, "reason", exc))) from None


def witness_latest(url: str, site_key: str) -> dict | None:
    """The witness's latest cosigned checkpoint of the log, or None if it has none."""
    status, body = _call(f"{url}/v1/logs/{quote(site_key, safe='')}/latest")
    if status == 404:
        return None
    if status != 200 or not isinstance(body.get("checkpoint"), dict):
        raise WitnessUnreachable(f"HTTP {status}: {body.get('error', body)}")
    return body["checkpoint"]


def links(site, after: int, through: int) -> list[dict]:
    """What a witness needs to recompute the head from size `after` to `through`."""
    rows = db.session.execute(
        select(ConsentRecord.__table__)
        .where(
            ConsentRecord.site_id == site.id,
            ConsentRecord.position > after,
            ConsentRecord.position <= through,
        )
        .order_by(ConsentRecord.position)
    )
    result = []
    for row in rows.mappings():
        public, _ = hash_fields(site.site_key, dict(row))
        result.append({**public, "personal_digest": row["personal_digest"]})
    return result


def send(site, url: str, checkpoint: dict) -> Outcome:
    """Have one witness cosign `checkpoint`; stores the cosignature (caller commits)."""
    try:
        seen = witness_latest(url, site.site_key)
        body = {"checkpoint": checkpoint, "keys": signing_keys.key_documents()}
        if seen is not None and seen["size"] > checkpoint["size"]:
            reason = f"it cosigned size {seen['size']}, beyond this log's {checkpoint['size']}"
            return Outcome(url, False, f"not sent: {reason}")
        if seen is not None and seen["size"] < checkpoint["size"]:
            body["from_size"] = seen["size"]
            body["links"] = links(site, seen["size"], checkpoint["size"])
        status, answer = _call(f"{url}/v1/checkpoints", body)
    except WitnessUnreachable as exc:
        return Outcome(url, False, f"unreachable ({exc}); retried on the next run")
    if status != 200:
        error = answer.get("error") or {}
        reason = f"{status} {error.get('code')}: {error.get('message')}"
        return Outcome(url, False, f"refused ({reason})")
    db.session.add(
        WitnessCosignature(
            site_id=site.id,
            witness_url=url,
            size=checkpoint["size"],
            head_hash=checkpoint["head_hash"],
            cosignature=json.dumps(answer["cosignature"], sort_keys=True),
        )
    )
    return Outcome(url, True, f"cosigned size {checkpoint['size']}")


def send_latest(site) -> list[Outcome]:
    """Send the site's latest checkpoint to each configured witness that lacks it."""
    stored = checkpoints.site_checkpoints(site)
    if not stored:
        return []
    latest = {k: v for k, v in stored[-1].items() if k != "reason"}
    outcomes = []
    for url in configured():
        done = _latest_row(site, url)
        if done is not None and (done.size, done.head_hash) == (
            latest["size"],
            latest["head_hash"],
        ):
            continue
        outcome = send(site, url, latest)
        if not outcome.ok:
            log.warning("witness %s, site %s: %s", url, site.site_key, outcome.message)
        outcomes.append(outcome)
    return outcomes


def _latest_row(site, url: str):
    return db.session.execute(
        select(WitnessCosignature)
        .where(WitnessCosignature.site_id == site.id, WitnessCosignature.witness_url == url)
        .order_by(WitnessCosignature.id.desc())
        .limit(1)
    ).scalar()


def status(site) -> list[dict]:
    """How far each configured witness has cosigned the log: {url, size, at, lag}."""
    size = db.session.scalar(select(LogHead.size).where(LogHead.site_id == site.id)) or 0
    rows = []
    for url in configured():
        row = _latest_row(site, url)
        cosigned = row.size if row else 0
        rows.append(
            {
                "url": url,
                "size": row.size if row else None,
                "at": row.received_at if row else None,
                "lag": size - cosigned,
            }
        )
    return rows


@dataclass(frozen=True)
class Lag:
    """How far one witness has cosigned one site's log: `behind` records not yet cosigned."""

    site_key: str
    witness: str
    cosigned_size: int
    behind: int


def lags(conn, urls: list[str], site_keys=None) -> list[Lag]:
    """Each witness of `urls` against each site's log head (of `site_keys` only, if given),
    in one query on the Core connection `conn`: /healthz runs it within its bounded read."""
    if not urls:
        return []
    heads = select(Site.site_key, LogHead.size).join(LogHead, LogHead.site_id == Site.id)
    cosigned = (
        select(Site.site_key, WitnessCosignature.witness_url, func.max(WitnessCosignature.size))
        .join(WitnessCosignature, WitnessCosignature.site_id == Site.id)
        .where(WitnessCosignature.witness_url.in_(urls))
        .group_by(Site.site_key, WitnessCosignature.witness_url)
    )
    if site_keys is not None:
        heads = heads.where(Site.site_key.in_(site_keys))
        cosigned = cosigned.where(Site.site_key.in_(site_keys))
    sizes = {row.site_key: row.size for row in conn.execute(heads.order_by(Site.site_key))}
    seen = {(key, url): size for key, url, size in conn.execute(cosigned)}
    return [
        Lag(key, url, seen.get((key, url), 0), head - seen.get((key, url), 0))
        for key, head in sizes.items()
        for url in urls
    ]


def worst_lags(lag_rows: list[Lag]) -> dict[str, dict]:
    """Per witness, its largest lag over the sites: {url: {"site", "cosigned_size", "behind"}}."""
    worst: dict[str, Lag] = {}
    for lag in lag_rows:
        if lag.witness not in worst or lag.behind > worst[lag.witness].behind:
            worst[lag.witness] = lag
    return {
        url: {"site": lag.site_key, "cosigned_size": lag.cosigned_size, "behind": lag.behind}
        for url, lag in worst.items()
    }


def cosignatures(site, size: int | None = None) -> list[dict]:
    """The stored cosignatures of the site (of checkpoints of `size` only, if given)."""
    query = select(WitnessCosignature.cosignature).where(WitnessCosignature.site_id == site.id)
    if size is not None:
        query = query.where(WitnessCosignature.size == size)
    return [json.loads(t) for t in db.session.scalars(query.order_by(WitnessCosignature.id))]


def log_problem(site, url: str) -> str | None:
    """None when the live log contains the witness's latest cosigned checkpoint, else why
    not (WitnessUnreachable when it cannot be asked)."""
    seen = witness_latest(url, site.site_key)
    if seen is None:
        return None
    size, head = seen["size"], seen["head_hash"]
    live = db.session.scalar(select(LogHead.size).where(LogHead.site_id == site.id)) or 0
    if live < size:
        return f"witness {url} cosigned size {size}, but the log has only {live} records"
    if size == 0:
        return None
    found = db.session.scalar(
        select(ConsentRecord.record_hash).where(
            ConsentRecord.site_id == site.id, ConsentRecord.position == size
        )
    )
    if found is None:
        if size <= checkpoints.purged_through(site):
            return None
        return f"witness {url} cosigned size {size}, but record {size} is missing"
    if found != head:
        return f"witness {url} cosigned size {size} with head {head}, the log has {found}"
    return None


def check_log(site) -> list[str]:
    """What each configured witness reveals about the live log: one line per witness that
    cosigned a checkpoint the log no longer contains, or that could not be asked."""
    problems = []
    for url in configured():
        try:
            problem = log_problem(site, url)
        except WitnessUnreachable as exc:
            problem = f"witness {url} could not be asked ({exc}): the tail is unchecked"
        if problem:
            problems.append(problem)
    return problems
