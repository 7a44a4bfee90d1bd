"""Cookie sessions for staff pages only.

The public routes (snippet, consent API, receipts, keys, health) are called by visitors'
browsers on other sites: they must neither read nor set a cookie, and their answers must not
vary on Cookie, or no CDN could cache the snippet. Flask then gives them a null session.
"""

from flask.sessions import SecureCookieSessionInterface

SESSIONLESS_PREFIXES = ("/s/", "/api/v1/sites/", "/api/v1/receipts/", "/.well-known/", "/healthz")


class StaffOnlySessions(SecureCookieSessionInterface):
    def open_session(self, app, request):
        if request.path.startswith(SESSIONLESS_PREFIXES):
            return None  # Flask substitutes a read-only null session
        return super().open_session(app, request)
