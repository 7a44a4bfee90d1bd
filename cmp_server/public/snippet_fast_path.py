"""GET /s/<key>.js answered before Flask, from answers the Flask route kept.

Every page view of every site fetches the snippet, so serving it should cost little more than
sending bytes. The route (public/routes.py `snippet`) builds each answer once and keeps it
(services/snippet.py) under `answer_key`: everything the answer depends on. This middleware
replays a kept answer for a request with the same key, 304 and gzip included, and sends
anything else (first request, stale answer, unknown site, HEAD...) on to Flask.
"""

from http import HTTPStatus

from flask import Flask

from cmp_server.geo import geoip_of
from cmp_server.logs import REQUEST_ID_HEADER, request_id_for
from cmp_server.services.snippet import cache_of, kept_answer
from cmp_server.visitor import country_of, sends_gpc

STATUS_LINES = {s.value: f"{s.value} {s.phrase}" for s in (HTTPStatus.OK, HTTPStatus.NOT_MODIFIED)}


def country_header_key(app: Flask) -> str | None:
    """The WSGI environ key of the trusted country header (ACCORD_COUNTRY_HEADER), if any."""
    header = app.config.get("ACCORD_COUNTRY_HEADER")
    return f"HTTP_{header.upper().replace('-', '_')}" if header else None


def answer_key(environ: dict, site_key: str, country: str | None) -> tuple:
    """What a snippet answer depends on: the site, the visitor's country (its regime) and GPC
    signal, the scheme and host its API base is built from, and the query (the inline stub's
    `lang`: the language whose texts it carries)."""
    return (
        site_key,
        environ.get("QUERY_STRING", ""),
        country,
        sends_gpc(environ.get("HTTP_SEC_GPC")),
        environ.get("wsgi.url_scheme"),
        environ.get("HTTP_HOST"),
        environ.get("SERVER_NAME"),
        environ.get("SERVER_PORT"),
        environ.get("SCRIPT_NAME", ""),
    )


class SnippetFastPath:
    """WSGI middleware: kept snippet answers without Flask, everything else to `wsgi_app`.
    It sits inside ProxyFix, so it sees the same client address, scheme and host as Flask."""

    def __init__(self, wsgi_app, app: Flask):
        self.wsgi_app = wsgi_app
        self.country_key = country_header_key(app)
        self.cache = cache_of(app)
        self.geoip = geoip_of(app)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if (
            path.startswith("/s/")
            and path.endswith(".js")
            and environ.get("REQUEST_METHOD") == "GET"
        ):
            header = environ.get(self.country_key) if self.country_key else None
            country = country_of(header, environ.get("REMOTE_ADDR"), self.geoip)
            answer = kept_answer(answer_key(environ, path[3:-3], country), self.cache)
            if answer is not None:
                status, headers, body = answer.respond(
                    environ.get("HTTP_IF_NONE_MATCH"), environ.get("HTTP_ACCEPT_ENCODING", "")
                )
                request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID"))
                start_response(STATUS_LINES[status], [*headers, (REQUEST_ID_HEADER, request_id)])
                return [body]
        return self.wsgi_app(environ, start_response)
