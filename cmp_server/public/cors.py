"""CORS for the public API: only a site's own origins get an answer, and its CORS headers."""

import re

from flask import request

from cmp_server.schemas.site import wildcard_is_bounded
from cmp_server.services.errors import Forbidden

SUBDOMAINS = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?\Z")


def origin_allowed(origin: str, allowed: tuple[str, ...]) -> bool:
    """Exact match, or `https://*.shop.example` for any subdomain of shop.example."""
    origin = origin.lower().rstrip("/")
    return any(origin == pattern or _subdomain_of(origin, pattern) for pattern in allowed)


def _subdomain_of(origin: str, pattern: str) -> bool:
    """Whether `origin` is a subdomain origin that the wildcard `pattern` names (same scheme
    and port). A stored pattern that covers more than one domain's subdomains (`https://*`,
    saved before such patterns were refused) matches nothing."""
    scheme, star, rest = pattern.partition("://*")
    if not star or not wildcard_is_bounded("*" + rest.split(":")[0]):
        return False
    prefix, suffix = scheme + "://", rest
    if not (origin.startswith(prefix) and origin.endswith(suffix)):
        return False
    return bool(SUBDOMAINS.match(origin[len(prefix) : len(origin) - len(suffix)]))


def check_origin(allowed: tuple[str, ...]) -> str | None:
    """The request's Origin if the site lists it; None without an Origin; else Forbidden."""
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    if not origin_allowed(origin, allowed):
        raise Forbidden(
            f"Origin {origin!r} is not allowed for this site: add it to the site's origins.",
            code="origin_not_allowed",
        )
    return origin


def add_cors_headers(response, origin: str | None, methods: str):
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = methods
        # Accord-Device-Secret: a device's history and erasure (DESIGN.md, "Device secret").
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, Accord-Device-Secret"
        response.headers["Access-Control-Max-Age"] = "86400"
        response.vary.add("Origin")
    return response
