"""Headers every answer carries, whoever wrote it: no MIME sniffing, no framing.

Nothing outside the console is meant to be framed (the demo page, JSON answers, the
snippet), so they all say so; the one exception is the demo's own "embedded video"
(static/demo/embed.html), which the demo page frames: same origin only. The console sets its
own, stricter policy (admin/security.py). The snippet's fast path replays answers without
Flask, so they carry `SECURITY_HEADERS` themselves (public/routes.py).
"""

from flask import Response, request

SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "frame-ancestors 'none'"),
)
SAME_ORIGIN_FRAMES = ("/static/demo/",)
SAME_ORIGIN_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "SAMEORIGIN"),
    ("Content-Security-Policy", "frame-ancestors 'self'"),
)


def add_security_headers(response: Response) -> Response:
    """after_request for every response, errors included. A page's own policy (the demo's,
    the console's) is kept, with the framing rule added if it does not say."""
    framed = request.path.startswith(SAME_ORIGIN_FRAMES)
    defaults = SAME_ORIGIN_HEADERS if framed else SECURITY_HEADERS
    headers = response.headers
    policy = headers.get("Content-Security-Policy")
    if policy is not None and "frame-ancestors" not in policy:
        headers["Content-Security-Policy"] = f"{policy}; {defaults[2][1]}"
    for name, value in defaults:
        headers.setdefault(name, value)
    return response


def init_app(app) -> None:
    """Register the hook; call it before the blueprints' own hooks are registered, so it runs
    after them (Flask runs after_request functions in reverse order) and only fills gaps."""
    app.after_request(add_security_headers)
