"""The banner snippet: the built engine with one visitor's configuration embedded.

A response is rendered once per (revision, regime, GPC, API base) and kept with its gzip
form and ETag. The finished HTTP answer is kept too (`SnippetAnswer`), under what the request
it answered depended on, so the same request is answered without entering Flask
(public/snippet_fast_path.py) until the site state it was built from is due to be re-read.
"""

import gzip
import hashlib
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from werkzeug.http import parse_etags

SNIPPET_PATH = Path(__file__).resolve().parent.parent / "static" / "accord.js"
CONFIG_PLACEHOLDER = "__ACCORD_CONFIG__"

_lock = threading.Lock()
_build: tuple[float, str, str] | None = None  # (mtime, source, sha256)
_checked_at = 0.0
_rendered: dict[tuple, "RenderedSnippet"] = {}
_answers: dict[tuple, "SnippetAnswer"] = {}
MAX_KEPT = 4096  # distinct renderings or answers kept; past it the cache starts over


@dataclass(frozen=True, slots=True)
class RenderedSnippet:
    body: bytes
    gzipped: bytes
    etag: str


def _load_build() -> tuple[str, str]:
    """The built snippet source and its SHA-256, re-read when the file changes."""
    global _build, _checked_at
    now = time.monotonic()
    if _build is not None and now - _checked_at < 1.0:  # a stat per request is measurable
        return _build[1], _build[2]
    _checked_at = now
    try:
        mtime = SNIPPET_PATH.stat().st_mtime
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{SNIPPET_PATH} is missing: build the snippet with `make snippet`"
        ) from None
    if _build is None or _build[0] != mtime:
        source = SNIPPET_PATH.read_text(encoding="utf-8")
        if source.count(CONFIG_PLACEHOLDER) != 1:
            raise ValueError(f"{SNIPPET_PATH} must contain {CONFIG_PLACEHOLDER} exactly once")
        _build = (mtime, source, hashlib.sha256(source.encode()).hexdigest())
        _rendered.clear()
    return _build[1], _build[2]


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


def render_snippet(cache_key: tuple, make_config) -> RenderedSnippet:
    """The snippet for `cache_key`, rendering it with `make_config()` the first time."""
    source, build_hash = _load_build()
    key = (build_hash, *cache_key)
    rendered = _rendered.get(key)
    if rendered is None:
        body = source.replace(CONFIG_PLACEHOLDER, script_json(make_config())).encode()
        etag = hashlib.sha256(body).hexdigest()[:32]
        rendered = RenderedSnippet(body, gzip.compress(body, 9, mtime=0), etag)
        with _lock:
            if len(_rendered) > MAX_KEPT:
                _rendered.clear()
            _rendered[key] = rendered
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
    with _lock:
        if len(_answers) > MAX_KEPT:  # keys hold the Host header: bounded against floods
            _answers.clear()
        _answers[key] = answer


def kept_answer(key: tuple) -> SnippetAnswer | None:
    """The answer kept for `key`, while it is fresh."""
    answer = _answers.get(key)
    if answer is None or time.monotonic() >= answer.fresh_until:
        return None
    return answer


def forget_answers(site_key: str | None = None) -> None:
    """Drop the kept answers of one site, or of all."""
    with _lock:
        if site_key is None:
            _answers.clear()
        else:
            for key in [k for k in _answers if k[0] == site_key]:
                del _answers[key]
