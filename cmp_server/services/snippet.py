"""The banner snippet: the built engine with one visitor's configuration embedded.

A response is rendered once per (revision, regime, GPC, API base) and kept with its gzip
form and ETag. The finished HTTP answer is kept too (`SnippetAnswer`), under what the request
it answered depended on, so the same request is answered without entering Flask
(public/snippet_fast_path.py) until the site state it was built from is due to be re-read.
Renderings and answers are kept per app (`init_app`); the build read from disk is the
process's.
"""

import gzip
import hashlib
import html
import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app
from werkzeug.http import parse_etags

STATIC = Path(__file__).resolve().parent.parent / "static"
# The builds (snippet/build.mjs): the full snippet (engine, banner UI, styles: GET /s/KEY.js),
# the core one (no UI: GET /s/KEY.core.js), the UI chunk the core fetches on demand
# (GET /s/ui.<hash>.js) and the inline stub of the recommended integration.
BUILDS = {
    "full": STATIC / "accord.js",
    "core": STATIC / "accord-core.js",
    "ui": STATIC / "accord-ui.js",
    "stub": STATIC / "accord-stub.js",
}
SNIPPET_PATH = BUILDS["full"]
CONFIG_PLACEHOLDER = "__ACCORD_CONFIG__"
STUB_PLACEHOLDER = "__ACCORD_SNIPPET__"
PLACEHOLDERS = {"full": CONFIG_PLACEHOLDER, "core": CONFIG_PLACEHOLDER, "stub": STUB_PLACEHOLDER}

_builds: dict[str, tuple[float, str, str]] = {}  # variant -> (mtime, source, sha256)
_checked_at: dict[str, float] = {}
MAX_KEPT = 4096  # distinct renderings or answers kept; past it the cache starts over


@dataclass(frozen=True, slots=True)
class RenderedSnippet:
    """One rendering of the snippet: its bytes, their gzip and the ETag."""

    body: bytes
    gzipped: bytes
    etag: str


@dataclass
class SnippetCache:
    """One app's renderings (by build hash and visitor variant) and finished answers."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    rendered: dict[tuple, RenderedSnippet] = field(default_factory=dict)
    answers: dict[tuple, "SnippetAnswer"] = field(default_factory=dict)


EXTENSION = "accord_snippet_cache"


def init_app(app: Flask) -> None:
    """Give `app` its own snippet cache (renderings and answers)."""
    app.extensions[EXTENSION] = SnippetCache()


def cache_of(app: Flask) -> SnippetCache:
    """The snippet cache of `app` (the fast path reads it outside any app context)."""
    return app.extensions[EXTENSION]


def _cache() -> SnippetCache:
    return current_app.extensions[EXTENSION]


def _load_build(variant: str = "full") -> tuple[str, str]:
    """A built file's source and its SHA-256, re-read when the file changes."""
    build = _builds.get(variant)
    now = time.monotonic()
    if build is not None and now - _checked_at.get(variant, 0.0) < 1.0:  # a stat costs
        return build[1], build[2]
    _checked_at[variant] = now
    path = BUILDS[variant]
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path} is missing: build the snippet with `make snippet`"
        ) from None
    if build is None or build[0] != mtime:
        source = path.read_text(encoding="utf-8")
        placeholder = PLACEHOLDERS.get(variant)
        if placeholder and source.count(placeholder) != 1:
            raise ValueError(f"{path} must contain {placeholder} exactly once")
        build = _builds[variant] = (mtime, source, hashlib.sha256(source.encode()).hexdigest())
    return build[1], build[2]


def snippet_build_hash() -> str:
    """SHA-256 of the snippet build that renders revisions published now."""
    return _load_build()[1]


def script_json(value) -> str:
    """JSON safe to embed in a script: no `</script>`, no U+2028/9 surprises."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def render_snippet(cache_key: tuple, make_config, variant: str = "full") -> RenderedSnippet:
    """The snippet (`variant` "full" or "core") for `cache_key`, rendering it with
    `make_config()` the first time."""
    source, build_hash = _load_build(variant)
    cache = _cache()
    key = (build_hash, *cache_key)
    rendered = cache.rendered.get(key)
    if rendered is None:
        body = source.replace(CONFIG_PLACEHOLDER, script_json(make_config())).encode()
        etag = hashlib.sha256(body).hexdigest()[:32]
        rendered = RenderedSnippet(body, gzip.compress(body, 9, mtime=0), etag)
        with cache.lock:
            if len(cache.rendered) > MAX_KEPT:  # a new build leaves the old ones behind
                cache.rendered.clear()
            cache.rendered[key] = rendered
    return rendered


CONTENT_TYPE = ("Content-Type", "text/javascript; charset=utf-8")


@dataclass(frozen=True, slots=True)
class SnippetAnswer:
    """How to answer one kind of snippet request: the rendering, the headers every variant
    carries (ETag, Vary, Cache-Control...), and until when (time.monotonic()) it holds."""

    rendered: RenderedSnippet
    headers: tuple[tuple[str, str], ...]
    fresh_until: float

    def respond(self, if_none_match: str | None, accept_encoding: str) -> tuple[int, list, bytes]:
        """(status, headers, body) for a request with these headers: 304 on a matching
        If-None-Match, else the gzip body when accepted, else the plain one."""
        if if_none_match and (
            if_none_match == f'"{self.rendered.etag}"'  # what browsers send back: no parsing
            or parse_etags(if_none_match).contains(self.rendered.etag)
        ):
            return 304, list(self.headers), b""
        if "gzip" in accept_encoding:
            body = self.rendered.gzipped
            extra = [CONTENT_TYPE, ("Content-Encoding", "gzip")]
        else:
            body = self.rendered.body
            extra = [CONTENT_TYPE]
        return 200, [*self.headers, *extra, ("Content-Length", str(len(body)))], body


def remember_answer(key: tuple, answer: SnippetAnswer) -> None:
    """Keep `answer` for requests with `key` (its first item is the site key)."""
    cache = _cache()
    with cache.lock:
        if len(cache.answers) > MAX_KEPT:  # keys hold the Host header: bounded against floods
            cache.answers.clear()
        cache.answers[key] = answer


def kept_answer(key: tuple, cache: SnippetCache | None = None) -> SnippetAnswer | None:
    """The answer kept for `key` (in `cache`, default the current app's), while it is fresh."""
    answer = (cache or _cache()).answers.get(key)
    if answer is None or time.monotonic() >= answer.fresh_until:
        return None
    return answer


def forget_answers(site_key: str | None = None) -> None:
    """Drop the current app's kept answers of one site, or of all."""
    cache = _cache()
    with cache.lock:
        if site_key is None:
            cache.answers.clear()
        else:
            for key in [k for k in cache.answers if k[0] == site_key]:
                del cache.answers[key]


_ui: tuple[str, str, RenderedSnippet] | None = None  # (sha256, file name, bytes)
# Every UI chunk built (snippet/build.mjs writes each one here under its name, and keeps the
# earlier ones): a core snippet cached before a deploy still finds the UI it was built with.
UI_ARCHIVE = STATIC / "ui"
UI_NAME = re.compile(r"ui\.[0-9a-f]{16}\.js")
_archived: dict[str, RenderedSnippet] = {}


def ui_chunk() -> tuple[str, RenderedSnippet]:
    """The UI chunk's file name under /s/ (`ui.` + the first 16 hex of its SHA-256 + `.js`,
    the name the core snippet was built to fetch) and its bytes, gzip form and ETag."""
    global _ui
    source, digest = _load_build("ui")
    if _ui is None or _ui[0] != digest:
        body = source.encode()
        rendered = RenderedSnippet(body, gzip.compress(body, 9, mtime=0), digest[:32])
        _ui = (digest, f"ui.{digest[:16]}.js", rendered)
    return _ui[1], _ui[2]


def archived_ui_chunk(name: str) -> RenderedSnippet | None:
    """An earlier build's UI chunk (`ui.<16 hex>.js`) from UI_ARCHIVE, or None if there is
    none by that name. Its name holds its hash, so once read it is kept."""
    rendered = _archived.get(name)
    if rendered is None and UI_NAME.fullmatch(name):
        try:
            body = (UI_ARCHIVE / name).read_bytes()
        except FileNotFoundError:
            return None
        digest = hashlib.sha256(body).hexdigest()
        if not name.startswith(f"ui.{digest[:16]}."):  # a damaged file is not that chunk
            return None
        rendered = _archived[name] = RenderedSnippet(
            body, gzip.compress(body, 9, mtime=0), digest[:32]
        )
    return rendered


def install_html(base_url: str, site_key: str, nonce: str | None = None) -> str:
    """The recommended integration for a site's <head> (README, console, `accord site
    snippet`, and /demo): one inline script that sets Consent Mode's default, queues early
    Accord calls and loads the snippet without blocking the page (snippet/src/stub.js). Its
    nonce is the literal `NONCE` for a site with a CSP to fill (without a CSP it works as
    printed), or `nonce` for a page that has it (base_url "" for a page of this server)."""
    stub, _ = _load_build("stub")
    url = f"{base_url.rstrip('/')}/s/{site_key}"
    code = stub.replace(STUB_PLACEHOLDER, script_json(url))
    comment = "<!-- Accord consent: first in <head>, before any tag."
    if nonce is not None:
        return f'{comment} -->\n<script nonce="{html.escape(nonce)}">{code}</script>\n'
    return (
        f"{comment} On a page with a CSP, put its nonce in place of NONCE. -->\n"
        f'<script nonce="NONCE">{code}</script>\n'
    )
