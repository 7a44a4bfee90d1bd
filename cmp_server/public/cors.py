"""CORS for the public API: only a site's own origins get an answer, and its CORS headers."""

from fnmatch import fnmatchcase

from flask import request

from cmp_server.services.errors import Forbidden


def origin_allowed(origin: str, allowed: tuple[str, ...]) -> bool:
    """Exact match, or `https://*.shop.example` for any subdomain of shop.example."""
    origin = origin.lower().rstrip("/")
    for pattern in allowed:
        if origin == pattern or ("*" in pattern and fnmatchcase(origin, pattern)):
            return True
    return False


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
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "86400"
        response.vary.add("Origin")
    return response
