"""GET /demo: a page that embeds the demo site's snippet the recommended way (the inline stub
of `accord site snippet`, its nonce filled in), with one tracker of each kind.

Every tracker on the page is blocked the way an integrator would block it
(`type="text/plain" data-category=…` or `data-src`) and reports on the page whether it ran.
The page is served under a strict Content-Security-Policy (a fresh nonce per request, no
'unsafe-inline', no 'unsafe-eval'), so it also shows that the snippet works there.
"""

import secrets

from flask import Blueprint, abort, make_response, render_template, request
from markupsafe import Markup
from sqlalchemy import select

from cmp_server.extensions import db
from cmp_server.models import Site
from cmp_server.services.demo import DEMO_SITE_NAME
from cmp_server.services.snippet import install_html

bp = Blueprint("demo", __name__)
LANGUAGES = ("en", "fr")


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "frame-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ]
    )


@bp.get("/demo")
def demo():
    site_key = db.session.scalar(select(Site.site_key).where(Site.name == DEMO_SITE_NAME))
    if site_key is None:
        abort(404, description="There is no demo site: create it with `accord demo`.")
    nonce = secrets.token_urlsafe(18)
    lang = request.args.get("lang") if request.args.get("lang") in LANGUAGES else "en"
    # Our own build with the site key (a token), its URL as JSON and the nonce escaped.
    consent_html = Markup(install_html("", site_key, nonce))  # noqa: S704
    response = make_response(render_template("demo.html", consent_html=consent_html, lang=lang))
    response.headers["Content-Security-Policy"] = content_security_policy(nonce)
    response.headers["Cache-Control"] = "no-store"
    # The demo's strictly necessary tracker: a session cookie, set whatever the visitor chose.
    response.set_cookie("demo_session", secrets.token_hex(8), httponly=False, samesite="Lax")
    return response
