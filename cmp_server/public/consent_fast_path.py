"""POST /api/v1/sites/<key>/consents answered before Flask, when nothing unusual happens.

A consent is the one write every visitor makes, and Flask's routing, request object, hooks
and marshmallow cost more CPU than validating, enriching and sealing it. This middleware
serves the ordinary case with the same service functions as the route (public/routes.py
`record_consent`): a fresh cached site, an allowed or absent Origin, a JSON or text/plain
body of a declared length within MAX_CONTENT_LENGTH, a body that `load_consent_fast` vouches
for, within the rate limit and a database slot. Its answer is the route's: the same receipt,
status, CORS, security, rate-limit and request-id headers (tests/public/test_consent_fast_path.py
compares both paths).

Everything else goes on to Flask, with the body put back: the first consent after the site
cache expired, a wrong media type, a body to refuse (marshmallow words the errors), a
replayed consent_id with another body, a device secret mismatch, a breached rate limit. Those
outcomes are decided again there, identically: a conflict or a refused secret writes nothing,
so sealing it twice changes nothing. A store that does not answer is answered here (503),
so a client never waits twice for it.
"""

import io
import logging
import time

import orjson
from flask import Flask
from limits import parse_many

from cmp_server.extensions import limiter
from cmp_server.http_headers import SECURITY_HEADERS
from cmp_server.logs import REQUEST_ID_HEADER, request_id_for
from cmp_server.public.cors import origin_allowed
from cmp_server.public.snippet_fast_path import country_header_key
from cmp_server.schemas.consent import load_consent_fast
from cmp_server.services import consents, lookup
from cmp_server.services.errors import InvalidInput, StorageUnavailable
from cmp_server.visitor import (
    VisitorContext,
    country_of,
    describe_user_agent,
    sends_gpc,
    truncate_ip,
)

log = logging.getLogger(__name__)
PREFIX, SUFFIX = "/api/v1/sites/", "/consents"
JSON_TYPES = ("application/json", "text/plain")
ENDPOINT = "public.record_consent"  # the route's rate-limit bucket, shared with it
COUNTED = "accord.consent_counted"  # in environ: this request is already in that bucket
CORS_HEADERS = (
    ("Access-Control-Allow-Headers", "Content-Type, Accord-Device-Secret"),
    ("Access-Control-Max-Age", "86400"),
    ("Vary", "Origin"),
)


class ConsentFastPath:
    """WSGI middleware: ordinary consents without Flask, everything else to `wsgi_app`. It
    sits inside ProxyFix, so it sees the same client address, scheme and host as Flask."""

    def __init__(self, wsgi_app, app: Flask):
        self.wsgi_app = wsgi_app
        self.app = app
        self.country_key = country_header_key(app)
        self.max_length = app.config.get("MAX_CONTENT_LENGTH") or 64 * 1024
        rate = app.config.get("ACCORD_CONSENT_RATE_LIMIT")
        enabled = app.config.get("RATELIMIT_ENABLED", True) and rate
        self.rate_limits = sorted(parse_many(rate)) if enabled else []

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if (
            environ.get("REQUEST_METHOD") != "POST"
            or not path.startswith(PREFIX)
            or not path.endswith(SUFFIX)
        ):
            return self.wsgi_app(environ, start_response)
        site_key = path[len(PREFIX) : -len(SUFFIX)]
        with self.app.app_context():
            answer = self.answer(environ, site_key)
        if answer is None:
            return self.wsgi_app(environ, start_response)
        status, headers, body = answer
        start_response(status, headers)
        return [body]

    def answer(self, environ, site_key: str):
        """(status line, headers, body), or None: Flask answers (the body is put back)."""
        state = lookup.known_state(site_key) if "/" not in site_key else None
        if state is None or time.monotonic() >= state.fresh_until:
            return None  # the route reads the site, within its bounds, and caches it
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and not origin_allowed(origin, state.origins):
            return None
        media_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        length = environ.get("CONTENT_LENGTH", "")
        if media_type not in JSON_TYPES or not length.isdigit():
            return None
        if int(length) > self.max_length or not self.within_rate_limit(environ):
            return None
        environ[COUNTED] = True  # the route, if it answers after all, does not count it again
        raw = environ["wsgi.input"].read(int(length))
        environ["wsgi.input"] = io.BytesIO(raw)  # for Flask, if it is to answer after all
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        data = load_consent_fast(body) if type(body) is dict else None
        if data is None:
            return None
        slots, wait = self.app.extensions["accord_db_slots"]
        if not slots.take(wait):
            message = "The server is waiting for its database; try again shortly."
            return self.unavailable(environ, origin, message)
        try:
            return self.seal(environ, state, data, origin)
        except StorageUnavailable as exc:
            return self.unavailable(environ, origin, exc.message)
        finally:
            slots.give()

    def seal(self, environ, state: lookup.SiteState, data: dict, origin: str | None):
        try:
            pending = consents.prepare_consent(state, data, self.visitor(environ))
        except InvalidInput:
            return None
        pending.authorise = True
        outcome, receipt = self.app.extensions["accord_committer"].submit(pending)
        if outcome not in ("new", "replay"):
            return None  # a conflict or a refused secret: nothing was written
        headers = [("Content-Type", "application/json")]
        if outcome == "replay":
            headers.append(("Idempotent-Replayed", "true"))
        if origin:
            headers += [
                ("Access-Control-Allow-Origin", origin),
                ("Access-Control-Allow-Methods", "POST"),
                *CORS_HEADERS,
            ]
        headers += self.rate_limit_headers(environ)
        body = orjson.dumps(receipt, option=orjson.OPT_SORT_KEYS) + b"\n"
        return "201 CREATED", self.finish(environ, headers, body), body

    def visitor(self, environ) -> VisitorContext:
        """The visitor context the route's `visitor_context()` reads from Flask's request."""
        remote = environ.get("REMOTE_ADDR")
        header = environ.get(self.country_key) if self.country_key else None
        agent = describe_user_agent(environ.get("HTTP_USER_AGENT", ""))
        return VisitorContext(
            country=country_of(header, remote),
            browser=agent.browser,
            os=agent.os,
            device_type=agent.device_type,
            ip_truncated=truncate_ip(remote),
            gpc=sends_gpc(environ.get("HTTP_SEC_GPC")),
        )

    def unavailable(self, environ, origin: str | None, message: str):
        """The 503 the route's error handler gives (errors.py), with its Retry-After."""
        log.info("refused POST %s: 503 storage_unavailable", environ.get("PATH_INFO"))
        error = {"code": "storage_unavailable", "message": message, "fields": {}}
        body = orjson.dumps({"error": error}, option=orjson.OPT_SORT_KEYS) + b"\n"
        headers = [("Content-Type", "application/json"), ("Retry-After", "5")]
        if origin:  # routes.cors_on_errors
            headers += [
                ("Access-Control-Allow-Origin", origin),
                ("Access-Control-Allow-Methods", "GET, POST, DELETE"),
                *CORS_HEADERS,
            ]
        return "503 SERVICE UNAVAILABLE", self.finish(environ, headers, body), body

    @staticmethod
    def finish(environ, headers: list, body: bytes) -> list:
        incoming = environ.get("HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_"))
        return [
            *headers,
            ("Content-Length", str(len(body))),
            *SECURITY_HEADERS,
            (REQUEST_ID_HEADER, request_id_for(incoming)),
        ]

    def rate_keys(self, environ) -> list[str]:
        """The route's rate-limit bucket (flask-limiter: key prefix, client network, endpoint)."""
        remote = environ.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104 - as visitor.client_ip
        keys = [truncate_ip(remote) or remote, ENDPOINT]
        prefix = self.app.config.get("RATELIMIT_KEY_PREFIX")
        return [prefix, *keys] if prefix else keys

    def within_rate_limit(self, environ) -> bool:
        """Counts this consent in the route's bucket. False when a limit is reached (the
        route answers the 429) or the counter's storage fails (the route's fallbacks apply)."""
        keys = self.rate_keys(environ)
        try:
            return all(limiter.limiter.hit(limit, *keys) for limit in self.rate_limits)
        except Exception:  # noqa: BLE001 - the storage's own errors vary (Redis, memory)
            return False

    def rate_limit_headers(self, environ) -> list:
        """X-RateLimit-* and Retry-After, as flask-limiter adds them to the route's answer."""
        if not self.rate_limits or not self.app.config.get("RATELIMIT_HEADERS_ENABLED"):
            return []
        limit = self.rate_limits[0]
        try:
            reset_at, remaining = limiter.limiter.get_window_stats(limit, *self.rate_keys(environ))
        except Exception:  # noqa: BLE001 - headers are a courtesy
            return []
        reset_at = int(reset_at)
        return [
            ("X-RateLimit-Limit", str(limit.amount)),
            ("X-RateLimit-Remaining", str(remaining)),
            ("X-RateLimit-Reset", str(reset_at)),
            ("Retry-After", str(int(reset_at - time.time()))),
        ]
