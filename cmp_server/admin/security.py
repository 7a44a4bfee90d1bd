"""Security headers of the console: a strict CSP (no 'unsafe-inline'), no framing, no sniffing.

The preview page runs the real snippet: it gets a per-response nonce for its script and the
snippet's fallback <style>, and nothing else is relaxed.
"""

import secrets

from flask import g, request

BASE_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "font-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "frame-src": "'none'",
    "base-uri": "'none'",
    "object-src": "'none'",
}


def csp_nonce() -> str:
    """A nonce for this response (the preview page's snippet tag)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def allow_framing_by_self() -> None:
    """This response may be framed by the console itself (the Look page's banner sample),
    by no other origin."""
    g.framed_by_self = True


def allow_frames_from_self() -> None:
    """This page frames a console page of its own (the Look page's sample)."""
    g.frames_from_self = True


def content_security_policy() -> str:
    policy = dict(BASE_CSP)
    if "csp_nonce" in g:
        for directive in ("script-src", "style-src"):
            policy[directive] += f" 'nonce-{g.csp_nonce}'"
    if g.get("framed_by_self"):
        policy["frame-ancestors"] = "'self'"
    if g.get("frames_from_self"):
        policy["frame-src"] = "'self'"
    return "; ".join(f"{k} {v}" for k, v in policy.items())


def add_security_headers(response):
    """after_request for /admin/ and /api/v1/admin/: every staff response, errors included."""
    path = request.path
    if not (path.startswith("/admin") or path.startswith("/api/v1/admin")):
        return response
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "SAMEORIGIN" if g.get("framed_by_self") else "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if path.startswith("/admin"):
        headers["Content-Security-Policy"] = content_security_policy()
    else:
        headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
    if "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    return response
