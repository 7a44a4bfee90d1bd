"""Fixture websites for the scanner, served on 127.0.0.1 with a known set of trackers.

`shop` (the customer's site, at http://127.0.0.1:PORT) embeds Accord's snippet and has, on
purpose: a declared strictly necessary HttpOnly cookie; a declared analytics cookie that is
properly blocked; an unmarked script that sets a cookie and a localStorage key before any
choice; a script that sets a cookie on every decision, refusal included; a properly blocked
script that sets a cookie matched only by an Open Cookie Database wildcard (`_hjSessionUser_`);
an unmarked fingerprinting script (canvas read-back); an unmarked pixel and a
`<link rel=preload>` to a third party; a declared ad pixel properly blocked; a second page,
linked, with a sessionStorage leak; a third page, only in /sitemap.xml, with an IndexedDB
leak. The third party (http://localhost:PORT2: another host) serves the pixels and the
vendor script.

`clean` is a site that does everything right. `pages(n)` builds a site of n linked pages
for the benchmark.
"""

import threading

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
STATS = (
    '<script type="text/plain" data-category="analytics">'
    "document.cookie = 'shop_stats=1; path=/';</script>"
)
HOTJAR = (
    '<script type="text/plain" data-category="analytics">'
    "document.cookie = '_hjSessionUser_123=1; path=/';</script>"
)
FINGERPRINT_JS = """
(function () {
  var c = document.createElement('canvas');
  var x = c.getContext('2d');
  x.fillText('fingerprint', 2, 2);
  window.fp = c.toDataURL();
})();
"""


# How often a fixture server's loop looks for a stop: `stop` waits up to this long (the
# default, half a second, adds up over every server of the tier).
POLL = 0.05


class Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class Server:
    """A WSGI app on 127.0.0.1 in a thread; `url` is how the browser reaches it."""

    def __init__(self, app, hostname: str = "127.0.0.1"):
        self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
        self.port = self._server.server_port
        self.url = f"http://{hostname}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": POLL}, daemon=True
        )
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def html(body: str) -> Response:
    return Response(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Shop</title>{body}",
        content_type="text/html; charset=utf-8",
    )


def third_party_app(environ, start_response):
    request = Request(environ)
    if request.path.endswith(".gif"):
        response = Response(GIF, content_type="image/gif")
    elif request.path == "/vendor.js":
        response = Response("window.vendor = 1;", content_type="text/javascript")
    else:
        response = Response("not found", status=404)
    return response(environ, start_response)


class ShopApp:
    """The dirty shop; `accord` is Accord's URL, `site_key` the site, `third` the vendor."""

    def __init__(self, accord: str, site_key: str, third: str):
        self.accord, self.site_key, self.third = accord, site_key, third

    def snippet(self) -> str:
        return f'<script src="{self.accord}/s/{self.site_key}.js"></script>'

    def home(self) -> str:
        t = self.third
        return f"""{self.snippet()}
<link rel="preload" href="{t}/vendor.js" as="script">
</head><body><h1>Shop</h1>
<a href="/page2">Page 2</a> <a href="#top">top</a> <a href="/" >home</a>
<a href="https://elsewhere.invalid/">elsewhere</a>
<script>document.cookie = 'leak_early=1; path=/'; localStorage.setItem('leak_store', '1');</script>
<script>document.addEventListener('accord:consent', function () {{
  document.cookie = 'after_choice_leak=1; path=/'; }});</script>
{STATS}
{HOTJAR}
<script src="/fp.js"></script>
<img src="{t}/pixel.gif" alt="">
<img data-category="marketing" data-src="{t}/ad.gif" alt="">
</body></html>"""

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path == "/":
            response = html(self.home())
        elif request.path == "/page2":
            response = html(f"""{self.snippet()}</head><body><h1>Page 2</h1>
<script>sessionStorage.setItem('page2_leak', '1');</script></body></html>""")
        elif request.path == "/page3":
            response = html(f"""{self.snippet()}</head><body><h1>Page 3</h1>
<script>indexedDB.open('page3_db');</script></body></html>""")
        elif request.path == "/sitemap.xml":
            base = request.host_url.rstrip("/")
            response = Response(
                f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                f'sitemap/0.9"><url><loc>{base}/page2</loc></url><url><loc>{base}/page3</loc>'
                "</url></urlset>",
                content_type="application/xml",
            )
        elif request.path == "/fp.js":
            response = Response(FINGERPRINT_JS, content_type="text/javascript")
        else:
            response = Response("not found", status=404)
        if request.path in ("/", "/page2", "/page3"):
            response.set_cookie("shop_session", "s1", httponly=True, samesite="Lax")
        return response(environ, start_response)


class CleanApp:
    """A shop that declares and blocks everything it uses."""

    def __init__(self, accord: str, site_key: str):
        self.accord, self.site_key = accord, site_key

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path != "/":
            return Response("not found", status=404)(environ, start_response)
        response = html(f"""<script src="{self.accord}/s/{self.site_key}.js"></script>
</head><body><h1>Clean shop</h1>
{STATS}
</body></html>""")
        response.set_cookie("shop_session", "s1", httponly=True, samesite="Lax")
        return response(environ, start_response)


class PagesApp:
    """A site of `count` pages, each linking to every other (the benchmark's site)."""

    def __init__(self, accord: str, site_key: str, count: int):
        self.accord, self.site_key, self.count = accord, site_key, count

    def __call__(self, environ, start_response):
        request = Request(environ)
        links = " ".join(f'<a href="/p{i}">page {i}</a>' for i in range(1, self.count))
        response = html(f"""<script src="{self.accord}/s/{self.site_key}.js"></script>
</head><body><h1>{request.path}</h1>{links}
{STATS}
</body></html>""")
        response.set_cookie("shop_session", "s1", httponly=True, samesite="Lax")
        return response(environ, start_response)


def site_config(origin: str, third_party_host: str) -> dict:
    """The shop's declarations (the import format)."""
    label = {"en": {"title": "T", "description": "D"}}
    return {
        "name": "Scanner fixture shop",
        "origins": [origin],
        "languages": ["en"],
        "default_language": "en",
        "privacy_policy_url": "https://shop.example/privacy",
        "regimes": {"default": "opt_in"},
        "categories": [
            {
                "key": "necessary",
                "required": True,
                "honor_gpc": False,
                "labels": {"en": {"title": "Necessary", "description": "Needed."}},
                "trackers": [
                    {
                        "name": "Session",
                        "provider": "Shop",
                        "kind": "cookie",
                        "purpose": "Session",
                        "duration": "session",
                        "cookies": ["shop_session"],
                        "domains": [],
                    }
                ],
            },
            {
                "key": "analytics",
                "required": False,
                "labels": label,
                "trackers": [
                    {
                        "name": "Shop stats",
                        "provider": "Shop",
                        "kind": "cookie",
                        "purpose": "Counts visits",
                        "duration": "1 year",
                        "cookies": ["shop_stats"],
                        "domains": [],
                    }
                ],
            },
            {
                "key": "marketing",
                "required": False,
                "labels": label,
                "trackers": [
                    {
                        "name": "Ad pixel",
                        "provider": "AdCo",
                        "kind": "beacon",
                        "purpose": "Conversions",
                        "duration": "13 months",
                        "cookies": [],
                        "domains": [third_party_host],
                    }
                ],
            },
        ],
    }
